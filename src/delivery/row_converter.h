// Turns a row's newest values into a Parquet row of the task's schema, by the type mapping of
// docs/delivery.md. A value that does not fit makes the whole row dirty: nothing is appended
// and the reason names the column and the value.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "delivery/task_config.h"
#include "parquet/file_writer.h"

namespace tablelake::delivery {

// Why a row cannot be delivered (a value that does not fit its column, an event time that
// does not parse): a value, never an error code, so that a failing writer can never pass for
// dirty data and have rows dropped. Empty when the row is clean.
struct DirtyReason {
  std::string text;
  bool empty() const { return text.empty(); }
};

// A value of a Row or of views of one, as a view.
inline ValueView ViewOf(const Value& v) { return v.view(); }
inline ValueView ViewOf(ValueView v) { return v; }

// Whether a value fits its column: nullopt when it does, else why not.
using Misfit = std::optional<std::string>;

class RowConverter {
 public:
  explicit RowConverter(const ResolvedTask& task);

  // What the change-log columns say of the row.
  struct Change {
    const char* op = "PUT";
    uint64_t sequence = 0;
    int64_t commit_time_us = 0;
  };

  // Converts the row (primary key, newest version of each column, sorted by name) into the
  // task's columns, or says why it is dirty. The staged row refers to `key` and `cells`, which
  // must outlive the Write that follows. Key and Cells: a Row's (PrimaryKey, std::vector<Cell>)
  // or views of one (std::vector<ColumnView>, std::vector<CellView>).
  template <typename Key, typename Cells>
  DirtyReason Stage(const Key& key, const Cells& cells, const Change& change);
  // Appends the staged row to `out`. Errors are the writer's own.
  Status Write(parquet::RowAppender* out);
  // Appends the staged row to `out` in a compact form (grouped rows wait in memory and in
  // spill runs so; the conversion is not done again): per column a byte, 0 for null, else 1
  // and the value - integers as zigzag varints, floating point as 8 bytes, byte values
  // length-prefixed, LIST/MAP as a count of entries, each a MAP key then a value or null.
  void Encode(std::string* out) const;
  // Appends a row that Encode wrote to `out`: Corruption when it does not decode.
  Status AppendEncoded(std::string_view row, parquet::RowAppender* out) const;
  // The plain (unencoded, uncompressed) size of the staged row: a measure of file size that
  // depends on the data alone.
  size_t row_bytes() const { return row_bytes_; }

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
  std::vector<size_t> hints_;                    // where each column's cell was in the last row
  std::vector<parquet::PhysicalType> physical_;  // each column's (a LIST/MAP's elements')
  std::vector<bool> nested_;                     // whether each column is a LIST or MAP
  size_t row_bytes_ = 0;
};

// Converts one value for a target column (exposed for tests). A byte value is staged as a view
// of `v`'s bytes, which must outlive the row's append.
Misfit ConvertValue(const ValueView& v, const parquet::ColumnSpec& target,
                    RowConverter::Staged* out);
inline Misfit ConvertValue(const Value& v, const parquet::ColumnSpec& target,
                           RowConverter::Staged* out) {
  return ConvertValue(v.view(), target, out);
}

}  // namespace tablelake::delivery
