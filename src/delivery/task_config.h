// Delivery task configuration: validation, resolution against the table, JSON persistence and
// the CLI's compact schema syntax.
#pragma once

#include <string>
#include <vector>

#include "delivery/path_template.h"
#include "delivery/time_zone.h"
#include "nlohmann/json.hpp"
#include "objectstore/object_store.h"
#include "parquet/schema.h"
#include "tablelake/delivery.h"

namespace tablelake::delivery {

// 3 to 16 of [a-z0-9-], starting and ending with a letter or digit.
Status ValidateTaskName(const std::string& name);

struct ResolvedColumn {
  // Where the value comes from: a table column, or the change itself (change-log columns).
  enum class Source { kColumn, kOp, kSequence, kCommitTime };
  Source source = Source::kColumn;
  DeliveryColumn column;
  parquet::ColumnSpec parquet;
  int key_index = -1;  // the column's position in the primary key, -1 for an attribute
};

// A task's config checked against its table and turned into what delivery runs on.
struct ResolvedTask {
  std::vector<ResolvedColumn> columns;
  PathTemplate prefix;
  PathTemplate dirty_prefix;
  TimeZone zone = TimeZone::Utc();
  parquet::Codec codec = parquet::Codec::kSnappy;
};

// Every check of CreateDeliveryTask except the table's existence and the name's uniqueness;
// `buckets` knows the endpoint schemes.
Result<ResolvedTask> ResolveTask(const DeliveryTaskConfig& config, const TableMeta& table,
                                 const BucketRegistry& buckets = BucketRegistry::Default());

nlohmann::json ConfigToJson(const DeliveryTaskConfig& config);
Result<DeliveryTaskConfig> ConfigFromJson(const nlohmann::json& j);

Result<DeliveryTaskType> ParseTaskType(const std::string& text);  // base|inc|baseinc|BaseTask...
Result<EventTimeFormat> ParseEventTimeFormat(const std::string& text);  // rfc3339|RFC3339|...
// 'SRC:DST:TYPE[:ENCODING],...'; commas inside parentheses (DECIMAL(10,2)) do not separate.
Result<std::vector<DeliveryColumn>> ParseSchemaArgument(const std::string& text);

}  // namespace tablelake::delivery
