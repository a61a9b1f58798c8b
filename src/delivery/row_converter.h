// Turns a row's newest values into a Parquet row of the task's schema, by the type mapping of
// docs/delivery.md. A value that does not fit makes the whole row dirty: nothing is appended
// and the reason names the column and the value.
#pragma once

#include <string>
#include <vector>

#include "delivery/task_config.h"
#include "parquet/file_writer.h"

namespace tablelake::delivery {

class RowConverter {
 public:
  explicit RowConverter(const ResolvedTask& task)
      : task_(task), staged_(task.columns.size()), hints_(task.columns.size(), 0) {}

  // What the change-log columns say of the row.
  struct Change {
    const char* op = "PUT";
    uint64_t sequence = 0;
    int64_t commit_time_us = 0;
  };

  // Appends the row (primary key, newest version of each column, sorted by name) to `out`, or
  // returns InvalidArgument with the reason it is dirty.
  Status Append(const PrimaryKey& key, const std::vector<Cell>& cells, const Change& change,
                parquet::RowAppender* out);

  // A staged value in its physical form, before it is appended.
  struct Staged {
    bool null = true;
    int64_t integer = 0;
    double real = 0;
    // Byte values: `bytes` when computed here (decimals, INT96, INTERVAL, nested entries),
    // else `view` into the source cell, which outlives the row's append.
    bool owned = false;
    std::string_view view;
    std::string bytes;
    std::string_view value() const { return owned ? std::string_view(bytes) : view; }
    std::vector<Staged> entries;    // LIST elements / MAP values
    std::vector<std::string> keys;  // MAP keys
  };

 private:
  const ResolvedTask& task_;
  std::vector<Staged> staged_;
  std::vector<size_t> hints_;  // where each column's cell was in the last row
};

// Converts one value for a target column (exposed for tests).
Status ConvertValue(const Value& v, const parquet::ColumnSpec& target, RowConverter::Staged* out);

}  // namespace tablelake::delivery
