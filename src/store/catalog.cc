#include "store/catalog.h"

#include "nlohmann/json.hpp"

namespace tablelake::store {

using nlohmann::json;

std::string SerializeTableInfo(const TableInfo& info) {
  const TableDescription& d = info.desc;
  json pk = json::array();
  for (const auto& c : d.meta.primary_key) {
    pk.push_back({{"name", c.name},
                  {"type", static_cast<int>(c.type)},
                  {"auto_increment", c.auto_increment}});
  }
  json defined = json::array();
  for (const auto& c : d.meta.defined_columns) {
    defined.push_back({{"name", c.name}, {"type", static_cast<int>(c.type)}});
  }
  json j = {
      {"id", info.id},
      {"name", d.meta.name},
      {"primary_key", pk},
      {"defined_columns", defined},
      {"ttl", d.options.time_to_live},
      {"max_versions", d.options.max_versions},
      {"deviation", d.options.deviation_cell_version_in_sec},
      {"allow_update", d.options.allow_update},
      {"stream_enabled", d.stream.enabled},
      {"stream_hours", d.stream.expiration_hours},
      {"stream_id", d.stream_id},
      {"creation_time_us", d.creation_time_us},
      {"stream_enable_time_us", d.stream_enable_time_us},
      {"change_log_holds", d.change_log_holds},
  };
  return j.dump();
}

Status ParseTableInfo(std::string_view text, TableInfo* info) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("table meta is not JSON");
  try {
    TableDescription& d = info->desc;
    info->id = j.at("id").get<uint32_t>();
    info->desc.table_id = info->id;
    d.meta.name = j.at("name").get<std::string>();
    d.meta.primary_key.clear();
    for (const auto& c : j.at("primary_key")) {
      d.meta.primary_key.push_back({c.at("name").get<std::string>(),
                                    static_cast<PrimaryKeyType>(c.at("type").get<int>()),
                                    c.at("auto_increment").get<bool>()});
    }
    d.meta.defined_columns.clear();
    for (const auto& c : j.at("defined_columns")) {
      d.meta.defined_columns.push_back({c.at("name").get<std::string>(),
                                        static_cast<DefinedColumnType>(c.at("type").get<int>())});
    }
    d.options.time_to_live = j.at("ttl").get<int32_t>();
    d.options.max_versions = j.at("max_versions").get<int32_t>();
    d.options.deviation_cell_version_in_sec = j.at("deviation").get<int64_t>();
    d.options.allow_update = j.at("allow_update").get<bool>();
    d.stream.enabled = j.at("stream_enabled").get<bool>();
    d.stream.expiration_hours = j.at("stream_hours").get<int32_t>();
    d.stream_id = j.at("stream_id").get<std::string>();
    d.creation_time_us = j.at("creation_time_us").get<int64_t>();
    d.stream_enable_time_us = j.at("stream_enable_time_us").get<int64_t>();
    d.change_log_holds = j.value("change_log_holds", std::map<std::string, uint64_t>());
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("table meta: ") + e.what());
  }
  return Status::OK();
}

}  // namespace tablelake::store
