// tablelake table create|list|describe|update|drop
#include "cli/cli_util.h"
#include "fmt/format.h"
#include "tablelake/delivery.h"

namespace tablelake::cli {
namespace {

Result<PrimaryKeySchema> ParsePrimaryKeyArgument(const std::string& text) {
  // COL:TYPE or COL:TYPE:AUTO_INCREMENT
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t pos; (pos = text.find(':', start)) != std::string::npos; start = pos + 1) {
    parts.push_back(text.substr(start, pos - start));
  }
  parts.push_back(text.substr(start));
  if (parts.size() < 2 || parts.size() > 3) {
    return Status::InvalidArgument(
        fmt::format("--pk '{}' is not COL:TYPE or COL:INTEGER:AUTO_INCREMENT", text));
  }
  PrimaryKeySchema pk;
  pk.name = parts[0];
  std::string type = Lower(parts[1]);
  if (type == "integer") {
    pk.type = PrimaryKeyType::kInteger;
  } else if (type == "string") {
    pk.type = PrimaryKeyType::kString;
  } else if (type == "binary") {
    pk.type = PrimaryKeyType::kBinary;
  } else {
    return Status::InvalidArgument(
        fmt::format("--pk '{}': type '{}' is not INTEGER, STRING or BINARY", text, parts[1]));
  }
  if (parts.size() == 3) {
    if (Lower(parts[2]) != "auto_increment") {
      return Status::InvalidArgument(
          fmt::format("--pk '{}': option '{}' is not AUTO_INCREMENT", text, parts[2]));
    }
    pk.auto_increment = true;
  }
  return pk;
}

nlohmann::ordered_json DescriptionToJson(const TableDescription& d) {
  nlohmann::ordered_json pk = nlohmann::ordered_json::array();
  for (const auto& c : d.meta.primary_key) {
    nlohmann::ordered_json col = {{"name", c.name}, {"type", PrimaryKeyTypeName(c.type)}};
    if (c.auto_increment) col["option"] = "AUTO_INCREMENT";
    pk.push_back(col);
  }
  return {
      {"table_name", d.meta.name},
      {"primary_key", pk},
      {"table_options",
       {{"time_to_live", d.options.time_to_live},
        {"max_versions", d.options.max_versions},
        {"deviation_cell_version_in_sec", d.options.deviation_cell_version_in_sec},
        {"allow_update", d.options.allow_update}}},
      {"stream",
       {{"enabled", d.stream.enabled},
        {"expiration_hours", d.stream.expiration_hours},
        {"stream_id", d.stream_id}}},
      {"creation_time_us", d.creation_time_us},
  };
}

struct CreateArgs {
  std::string name;
  std::vector<std::string> pks;
  std::optional<int32_t> stream_hours;
  int32_t ttl = -1;
  int32_t max_versions = 1;
  int64_t deviation = 86400;
};

Status CreateTable(const GlobalOptions& g, const CreateArgs& a) {
  TableMeta meta;
  meta.name = a.name;
  for (const auto& text : a.pks) {
    TL_ASSIGN_OR_RETURN(PrimaryKeySchema pk, ParsePrimaryKeyArgument(text));
    meta.primary_key.push_back(pk);
  }
  TableOptions options;
  options.time_to_live = a.ttl;
  options.max_versions = a.max_versions;
  options.deviation_cell_version_in_sec = a.deviation;
  StreamSpecification stream;
  if (a.stream_hours) {  // given means wanted: 0 is refused by the store's 1-168 rule
    stream.enabled = true;
    stream.expiration_hours = *a.stream_hours;
  }
  TL_ASSIGN_OR_RETURN(auto store, OpenStore(g, Access::kCreate));
  TL_RETURN_IF_ERROR(store->CreateTable(meta, options, stream));
  std::fprintf(stderr, "created table '%s' in %s\n", a.name.c_str(), g.Where().c_str());
  return Status::OK();
}

struct UpdateArgs {
  std::string name;
  std::optional<int32_t> stream_hours;
  bool no_stream = false;
  std::optional<int32_t> ttl;
  std::optional<int32_t> max_versions;
  std::optional<int64_t> deviation;
};

Status UpdateTable(const GlobalOptions& g, const UpdateArgs& a) {
  TL_ASSIGN_OR_RETURN(auto store, OpenStore(g, Access::kWrite));
  TL_ASSIGN_OR_RETURN(TableDescription d, store->DescribeTable(a.name));
  std::optional<TableOptions> options;
  if (a.ttl || a.max_versions || a.deviation) {
    options = d.options;
    if (a.ttl) options->time_to_live = *a.ttl;
    if (a.max_versions) options->max_versions = *a.max_versions;
    if (a.deviation) options->deviation_cell_version_in_sec = *a.deviation;
  }
  std::optional<StreamSpecification> stream;
  if (a.no_stream && a.stream_hours) {
    return Status::InvalidArgument("--stream-hours and --no-stream exclude each other");
  }
  if (a.no_stream) stream = StreamSpecification{false, d.stream.expiration_hours};
  if (a.stream_hours) stream = StreamSpecification{true, *a.stream_hours};
  if (!options && !stream) {
    return Status::InvalidArgument(
        "table update: give at least one of --ttl, --max-versions, "
        "--deviation, --stream-hours, --no-stream");
  }
  TL_RETURN_IF_ERROR(store->UpdateTable(a.name, options, stream));
  std::fprintf(stderr, "updated table '%s'\n", a.name.c_str());
  return Status::OK();
}

// Dropping a table deletes its delivery tasks, as nothing is left for them to deliver; the
// files they delivered stay in their buckets.
Status DropTable(const GlobalOptions& g, const std::string& name) {
  TL_ASSIGN_OR_RETURN(auto store, OpenStore(g, Access::kWrite));
  TL_ASSIGN_OR_RETURN(auto delivery, OpenDelivery(g, store.get()));
  TL_ASSIGN_OR_RETURN(std::vector<std::string> tasks, delivery->DropTable(name));
  std::string with;
  for (const auto& t : tasks) with += (with.empty() ? "" : ", ") + t;
  std::fprintf(stderr, "dropped table '%s'%s\n", name.c_str(),
               tasks.empty() ? ""
                             : fmt::format(" and its delivery task(s) {} (files they delivered "
                                           "stay in their buckets)",
                                           with)
                                   .c_str());
  return Status::OK();
}

}  // namespace

void RegisterTableCommands(CLI::App& app, GlobalOptions& g, Status& status) {
  auto* table = app.add_subcommand("table", "create, list, describe, update and drop tables");
  table->require_subcommand(1);
  AddGlobalOptions(table, &g);

  auto create_args = std::make_shared<CreateArgs>();
  auto* create = table->add_subcommand("create", "create a table");
  AddGlobalOptions(create, &g);
  create->add_option("name", create_args->name, "table name")->required();
  create->add_option("--pk", create_args->pks, "primary key column COL:TYPE[:AUTO_INCREMENT]")
      ->required()
      ->allow_extra_args(false);
  create->add_option("--stream-hours", create_args->stream_hours,
                     "enable the change stream, keeping records H hours");
  create->add_option("--ttl", create_args->ttl, "time to live in seconds (-1: for ever)");
  create->add_option("--max-versions", create_args->max_versions, "versions kept per column");
  create->add_option("--deviation", create_args->deviation,
                     "max deviation of a given cell version from now, seconds");
  create->callback([&g, &status, create_args] { status = CreateTable(g, *create_args); });

  auto* list = table->add_subcommand("list", "list tables, one per line");
  AddGlobalOptions(list, &g);
  list->callback([&g, &status] {
    status = [&]() -> Status {
      TL_ASSIGN_OR_RETURN(auto store, OpenStore(g, Access::kRead));
      TL_ASSIGN_OR_RETURN(auto names, store->ListTable());
      for (const auto& n : names) std::printf("%s\n", n.c_str());
      return Status::OK();
    }();
  });

  auto describe_name = std::make_shared<std::string>();
  auto* describe = table->add_subcommand("describe", "print a table's description as JSON");
  AddGlobalOptions(describe, &g);
  describe->add_option("name", *describe_name, "table name")->required();
  describe->callback([&g, &status, describe_name] {
    status = [&]() -> Status {
      TL_ASSIGN_OR_RETURN(auto store, OpenStore(g, Access::kRead));
      TL_ASSIGN_OR_RETURN(TableDescription d, store->DescribeTable(*describe_name));
      PrintJsonLine(DescriptionToJson(d));
      return Status::OK();
    }();
  });

  auto update_args = std::make_shared<UpdateArgs>();
  auto* update = table->add_subcommand("update", "change a table's options or stream");
  AddGlobalOptions(update, &g);
  update->add_option("name", update_args->name, "table name")->required();
  update->add_option("--stream-hours", update_args->stream_hours, "enable the stream, H hours");
  update->add_flag("--no-stream", update_args->no_stream, "disable the stream");
  update->add_option("--ttl", update_args->ttl, "time to live in seconds (-1: for ever)");
  update->add_option("--max-versions", update_args->max_versions, "versions kept per column");
  update->add_option("--deviation", update_args->deviation, "max cell version deviation, s");
  update->callback([&g, &status, update_args] { status = UpdateTable(g, *update_args); });

  auto drop_name = std::make_shared<std::string>();
  auto* drop = table->add_subcommand("drop", "drop a table and its data");
  AddGlobalOptions(drop, &g);
  drop->add_option("name", *drop_name, "table name")->required();
  drop->callback([&g, &status, drop_name] { status = DropTable(g, *drop_name); });
}

}  // namespace tablelake::cli
