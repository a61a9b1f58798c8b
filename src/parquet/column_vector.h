// The values of one column for a batch of rows, in the column's physical representation:
// what the writer takes. Nulls are rows without a value; values are stored densely.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "parquet/schema.h"

namespace tablelake::parquet {

//
// LIST and MAP columns: each row is either null (AppendNullRow) or a list of entries
// (BeginRow(n), then n entries). An entry is a value or a null, appended with the calls below
// (AppendNull, AppendInt64, ...); a MAP entry starts with AppendKey. defined() and the value
// arrays then hold the entries, and row_sizes() the rows.
class ColumnVector {
 public:
  explicit ColumnVector(const ColumnSpec& spec)
      : type_(PhysicalTypeOf(spec)), fixed_length_(FixedLengthOf(spec)), nested_(IsNested(spec)) {
    if (spec.type == ColumnType::kMap) keys_.emplace_back(MapKeySpec(spec));
  }

  PhysicalType type() const { return type_; }
  int32_t fixed_length() const { return fixed_length_; }
  bool nested() const { return nested_; }
  size_t num_rows() const { return nested_ ? row_sizes_.size() : defined_.size(); }
  size_t num_values() const { return num_values_; }
  size_t num_nulls() const { return defined_.size() - num_values_; }
  // One byte per row (per entry of LIST/MAP rows): 1 when it has a value.
  const std::vector<uint8_t>& defined() const { return defined_; }

  void AppendNull() { defined_.push_back(0); }

  // LIST/MAP rows.
  void AppendNullRow() { row_sizes_.push_back(-1); }
  void BeginRow(int32_t entries) { row_sizes_.push_back(entries); }
  void AppendKey(std::string_view key) { keys_[0].AppendBytes(key); }
  // Entries per row, -1 for a null row.
  const std::vector<int32_t>& row_sizes() const { return row_sizes_; }
  // MAP keys, one per entry.
  const ColumnVector& keys() const { return keys_[0]; }
  // The physical type decides which of these applies: BOOLEAN, INT32, INT64, FLOAT, DOUBLE.
  void AppendBool(bool v) {
    Mark();
    bools_.push_back(v ? 1 : 0);
  }
  void AppendInt32(int32_t v) {
    Mark();
    i32_.push_back(v);
  }
  void AppendInt64(int64_t v) {
    Mark();
    i64_.push_back(v);
  }
  void AppendFloat(float v) {
    Mark();
    f32_.push_back(v);
  }
  void AppendDouble(double v) {
    Mark();
    f64_.push_back(v);
  }
  // BYTE_ARRAY values, or exactly fixed_length() bytes for FIXED_LEN_BYTE_ARRAY and INT96.
  void AppendBytes(std::string_view v) {
    Mark();
    bytes_.append(v.data(), v.size());
    offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
  }

  // Empties the vector, keeping its buffers' capacity.
  void Clear();

  const std::vector<uint8_t>& bools() const { return bools_; }
  const std::vector<int32_t>& int32s() const { return i32_; }
  const std::vector<int64_t>& int64s() const { return i64_; }
  const std::vector<float>& floats() const { return f32_; }
  const std::vector<double>& doubles() const { return f64_; }
  std::string_view bytes_at(size_t i) const {
    return std::string_view(bytes_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  // Offsets of value i's bytes: [offsets()[i], offsets()[i+1]).
  const std::vector<uint32_t>& offsets() const { return offsets_; }
  const std::string& byte_data() const { return bytes_; }
  // Bytes of BYTE_ARRAY values held (MAP keys included): what makes a batch of wide rows large.
  size_t byte_size() const { return bytes_.size() + (keys_.empty() ? 0 : keys_[0].byte_size()); }

 private:
  void Mark() {
    defined_.push_back(1);
    ++num_values_;
  }

  PhysicalType type_;
  int32_t fixed_length_;
  bool nested_;
  std::vector<int32_t> row_sizes_;
  std::vector<ColumnVector> keys_;  // MAP only: one vector of keys
  std::vector<uint8_t> defined_;
  size_t num_values_ = 0;
  std::vector<uint8_t> bools_;
  std::vector<int32_t> i32_;
  std::vector<int64_t> i64_;
  std::vector<float> f32_;
  std::vector<double> f64_;
  std::string bytes_;
  std::vector<uint32_t> offsets_{0};
};

inline void ColumnVector::Clear() {
  row_sizes_.clear();
  for (auto& k : keys_) k.Clear();
  defined_.clear();
  num_values_ = 0;
  bools_.clear();
  i32_.clear();
  i64_.clear();
  f32_.clear();
  f64_.clear();
  bytes_.clear();
  offsets_.assign(1, 0);
}

// Value helpers for the logical types whose physical form takes a computation.
// DECIMAL with precision > 18: the unscaled value as `width` bytes, big-endian two's complement.
std::string DecimalToFixed(__int128 unscaled, int32_t width);
// INT96 from nanoseconds since the epoch (the legacy Impala/Spark layout).
std::string Int96FromNanos(__int128 nanos_since_epoch);
// INTERVAL from months, days and milliseconds.
std::string IntervalBytes(uint32_t months, uint32_t days, uint32_t millis);

}  // namespace tablelake::parquet
