#include "parquet/file_writer.h"

#include <pthread.h>

#include <algorithm>
#include <type_traits>
#include <utility>

#include "common/coding.h"
#include "fmt/format.h"
#include "parquet/thrift_compact.h"

namespace tablelake::parquet {
namespace {

constexpr char kMagic[] = "PAR1";

// A leaf column of the file: a flat column, or a LIST's elements, a MAP's keys or values.
struct Leaf {
  enum class Kind { kFlat, kListElement, kMapKey, kMapValue };
  size_t column;  // the schema column it belongs to
  Kind kind;
  ColumnSpec spec;
  std::vector<std::string> path;
  int max_def;
  int max_rep;
};

std::vector<Leaf> LeavesOf(const std::vector<ColumnSpec>& schema) {
  std::vector<Leaf> leaves;
  for (size_t i = 0; i < schema.size(); ++i) {
    const ColumnSpec& c = schema[i];
    int base = c.optional ? 1 : 0;
    if (c.type == ColumnType::kList) {
      leaves.push_back(
          {i, Leaf::Kind::kListElement, ElementSpec(c), {c.name, "list", "element"}, base + 2, 1});
    } else if (c.type == ColumnType::kMap) {
      leaves.push_back(
          {i, Leaf::Kind::kMapKey, MapKeySpec(c), {c.name, "key_value", "key"}, base + 1, 1});
      leaves.push_back(
          {i, Leaf::Kind::kMapValue, ElementSpec(c), {c.name, "key_value", "value"}, base + 2, 1});
    } else {
      leaves.push_back({i, Leaf::Kind::kFlat, c, {c.name}, base, 0});
    }
  }
  return leaves;
}

// Where a detached writer's row groups wait: offsets count from the first byte not taken yet.
class SegmentSink : public Sink {
 public:
  Status Append(std::string_view data) override {
    bytes_.append(data);
    return Status::OK();
  }
  Status Commit() override { return Status::Internal("a detached Parquet writer has no file"); }
  void Abort() override { bytes_.clear(); }
  int64_t Tell() const override { return static_cast<int64_t>(bytes_.size()); }
  std::string Take() { return std::exchange(bytes_, std::string()); }

 private:
  std::string bytes_;
};

void ShiftOffsets(RowGroupMetadata* rg, int64_t by) {
  rg->file_offset += by;
  for (auto& c : rg->columns) {
    c.data_page_offset += by;
    if (c.dictionary_page_offset >= 0) c.dictionary_page_offset += by;
  }
}

// ConvertedType values.
constexpr int32_t kConvertedUtf8 = 0, kConvertedDecimal = 5, kConvertedDate = 6,
                  kConvertedTimestampMillis = 9, kConvertedTimestampMicros = 10,
                  kConvertedInterval = 21;

// LogicalType is a union: exactly one field, a struct.
void WriteLogicalType(const ColumnSpec& c, thrift::CompactWriter& w) {
  auto time_unit = [&](int16_t id, bool micros) {
    w.BeginStruct(id);              // TimeUnit union
    w.BeginStruct(micros ? 2 : 1);  // MICROS : MILLIS (empty structs)
    w.EndStruct();
    w.EndStruct();
  };
  switch (c.type) {
    case ColumnType::kUtf8:
      w.BeginStruct(10);
      w.BeginStruct(1);  // STRING
      w.EndStruct();
      w.EndStruct();
      return;
    case ColumnType::kDate:
      w.BeginStruct(10);
      w.BeginStruct(6);  // DATE
      w.EndStruct();
      w.EndStruct();
      return;
    case ColumnType::kDecimal:
      w.BeginStruct(10);
      w.BeginStruct(5);  // DECIMAL
      w.I32(1, c.scale);
      w.I32(2, c.precision);
      w.EndStruct();
      w.EndStruct();
      return;
    case ColumnType::kTimeMillis:
    case ColumnType::kTimeMicros:
      w.BeginStruct(10);
      w.BeginStruct(7);  // TIME
      // A time of day, not an instant: isAdjustedToUTC false, so engines read a plain TIME
      // (DuckDB reads an adjusted one as TIME WITH TIME ZONE). No ConvertedType then: the
      // legacy TIME_MILLIS/TIME_MICROS mean adjusted.
      w.Bool(1, false);
      time_unit(2, c.type == ColumnType::kTimeMicros);
      w.EndStruct();
      w.EndStruct();
      return;
    case ColumnType::kTimestampMillis:
    case ColumnType::kTimestampMicros:
      w.BeginStruct(10);
      w.BeginStruct(8);  // TIMESTAMP
      w.Bool(1, true);   // isAdjustedToUTC
      time_unit(2, c.type == ColumnType::kTimestampMicros);
      w.EndStruct();
      w.EndStruct();
      return;
    default:
      return;
  }
}

std::optional<int32_t> ConvertedTypeOf(ColumnType t) {
  switch (t) {
    case ColumnType::kUtf8:
      return kConvertedUtf8;
    case ColumnType::kDecimal:
      return kConvertedDecimal;
    case ColumnType::kDate:
      return kConvertedDate;
    case ColumnType::kTimestampMillis:
      return kConvertedTimestampMillis;
    case ColumnType::kTimestampMicros:
      return kConvertedTimestampMicros;
    case ColumnType::kInterval:
      return kConvertedInterval;
    default:
      return std::nullopt;
  }
}

// Repetition: REQUIRED 0, OPTIONAL 1, REPEATED 2. ConvertedType LIST 3, MAP 1; LogicalType
// union fields LIST 3, MAP 2.
void WriteLeafElement(const ColumnSpec& c, thrift::CompactWriter& w) {
  w.BeginListStruct();
  w.I32(1, static_cast<int32_t>(PhysicalTypeOf(c)));
  if (int32_t len = FixedLengthOf(c); len > 0 && c.type != ColumnType::kInt96) w.I32(2, len);
  w.I32(3, c.optional ? 1 : 0);
  w.Binary(4, c.name);
  if (auto converted = ConvertedTypeOf(c.type)) w.I32(6, *converted);
  if (c.type == ColumnType::kDecimal) {
    w.I32(7, c.scale);
    w.I32(8, c.precision);
  }
  WriteLogicalType(c, w);
  w.EndListStruct();
}

void WriteGroupElement(const std::string& name, int32_t repetition, int32_t children,
                       std::optional<int32_t> converted, std::optional<int16_t> logical,
                       thrift::CompactWriter& w) {
  w.BeginListStruct();
  w.I32(3, repetition);
  w.Binary(4, name);
  w.I32(5, children);
  if (converted) w.I32(6, *converted);
  if (logical) {
    w.BeginStruct(10);
    w.BeginStruct(*logical);
    w.EndStruct();
    w.EndStruct();
  }
  w.EndListStruct();
}

size_t SchemaElementCount(const std::vector<ColumnSpec>& schema) {
  size_t n = 1;
  for (const auto& c : schema)
    n += c.type == ColumnType::kList ? 3 : c.type == ColumnType::kMap ? 4 : 1;
  return n;
}

void WriteSchema(const std::vector<ColumnSpec>& schema, thrift::CompactWriter& w) {
  w.BeginList(2, thrift::Type::kStruct, SchemaElementCount(schema));
  WriteGroupElement("schema", 0, static_cast<int32_t>(schema.size()), std::nullopt, std::nullopt,
                    w);
  for (const auto& c : schema) {
    int32_t repetition = c.optional ? 1 : 0;
    if (c.type == ColumnType::kList) {
      // The three-level list: <col> (LIST) { repeated group list { optional element } }.
      WriteGroupElement(c.name, repetition, 1, 3, 3, w);
      WriteGroupElement("list", 2, 1, std::nullopt, std::nullopt, w);
      WriteLeafElement(ElementSpec(c), w);
    } else if (c.type == ColumnType::kMap) {
      // <col> (MAP) { repeated group key_value { required key; optional value } }.
      WriteGroupElement(c.name, repetition, 1, 1, 2, w);
      WriteGroupElement("key_value", 2, 2, std::nullopt, std::nullopt, w);
      WriteLeafElement(MapKeySpec(c), w);
      WriteLeafElement(ElementSpec(c), w);
    } else {
      WriteLeafElement(c, w);
    }
  }
}

void WriteColumnChunk(const Leaf& leaf, const ChunkMetadata& m, Codec codec,
                      thrift::CompactWriter& w) {
  const ColumnSpec& c = leaf.spec;
  w.BeginListStruct();           // ColumnChunk
  w.I64(2, m.data_page_offset);  // file_offset: deprecated; where the chunk's pages start
  w.BeginStruct(3);              // ColumnMetaData
  w.I32(1, static_cast<int32_t>(PhysicalTypeOf(c)));
  w.BeginList(2, thrift::Type::kI32, m.encodings.size());
  for (int32_t e : m.encodings) w.ListI32(e);
  w.BeginList(3, thrift::Type::kBinary, leaf.path.size());
  for (const auto& part : leaf.path) w.ListBinary(part);
  w.I32(4, static_cast<int32_t>(codec));
  w.I64(5, m.num_values);
  w.I64(6, m.total_uncompressed_size);
  w.I64(7, m.total_compressed_size);
  w.I64(9, m.data_page_offset);
  if (m.dictionary_page_offset >= 0) w.I64(11, m.dictionary_page_offset);
  w.BeginStruct(12);  // Statistics
  w.I64(3, m.null_count);
  if (m.max_value) w.Binary(5, *m.max_value);
  if (m.min_value) w.Binary(6, *m.min_value);
  w.EndStruct();
  w.EndStruct();
  w.EndListStruct();
}

void PutOptional(std::string* out, const std::optional<std::string>& v) {
  out->push_back(v ? 1 : 0);
  if (v) PutLengthPrefixed(out, *v);
}

bool GetOptional(std::string_view* in, std::optional<std::string>* v) {
  if (in->empty()) return false;
  bool present = in->front() != 0;
  in->remove_prefix(1);
  std::string_view s;
  if (present && !GetLengthPrefixed(in, &s)) return false;
  if (present) *v = std::string(s);
  return true;
}

}  // namespace

// Every number as a varint (a dictionary offset + 1, so that none is -1).
void EncodeRowGroupMetadata(const RowGroupMetadata& rg, std::string* out) {
  for (int64_t v : {rg.num_rows, rg.total_byte_size, rg.file_offset, rg.total_compressed_size})
    PutVarint64(out, static_cast<uint64_t>(v));
  PutVarint64(out, rg.columns.size());
  for (const ChunkMetadata& c : rg.columns) {
    PutVarint64(out, c.encodings.size());
    for (int32_t e : c.encodings) PutVarint64(out, static_cast<uint64_t>(e));
    for (int64_t v : {c.num_values, c.null_count, c.total_uncompressed_size,
                      c.total_compressed_size, c.data_page_offset, c.dictionary_page_offset + 1})
      PutVarint64(out, static_cast<uint64_t>(v));
    PutOptional(out, c.min_value);
    PutOptional(out, c.max_value);
  }
}

Status DecodeRowGroupMetadata(std::string_view* in, RowGroupMetadata* rg) {
  auto corrupt = [] { return Status::Corruption("Parquet row group metadata is cut short"); };
  auto get = [&](auto* v) {
    uint64_t x;
    if (!GetVarint64(in, &x)) return false;
    *v = static_cast<std::remove_pointer_t<decltype(v)>>(x);
    return true;
  };
  *rg = RowGroupMetadata();
  size_t columns = 0;
  if (!get(&rg->num_rows) || !get(&rg->total_byte_size) || !get(&rg->file_offset) ||
      !get(&rg->total_compressed_size) || !get(&columns) || columns > in->size()) {
    return corrupt();
  }
  rg->columns.resize(columns);
  for (ChunkMetadata& c : rg->columns) {
    size_t encodings = 0;
    if (!get(&encodings) || encodings > in->size()) return corrupt();
    c.encodings.resize(encodings);
    for (int32_t& e : c.encodings) {
      if (!get(&e)) return corrupt();
    }
    if (!get(&c.num_values) || !get(&c.null_count) || !get(&c.total_uncompressed_size) ||
        !get(&c.total_compressed_size) || !get(&c.data_page_offset) ||
        !get(&c.dictionary_page_offset) || !GetOptional(in, &c.min_value) ||
        !GetOptional(in, &c.max_value)) {
      return corrupt();
    }
    --c.dictionary_page_offset;
  }
  return Status::OK();
}

class FileWriter::Impl {
 public:
  // A null `sink`: detached.
  Impl(std::vector<ColumnSpec> schema, WriterOptions options, std::unique_ptr<Sink> sink,
       std::unique_ptr<Compressor> compressor)
      : schema_(std::move(schema)),
        options_(std::move(options)),
        segment_(sink ? nullptr : new SegmentSink),
        sink_(sink ? std::move(sink) : std::unique_ptr<Sink>(segment_)),
        compressor_(std::move(compressor)) {
    leaves_ = LeavesOf(schema_);
    for (const auto& leaf : leaves_) {
      columns_.push_back(std::make_unique<ColumnChunkWriter>(leaf.spec, leaf.max_def, leaf.max_rep,
                                                             options_, compressor_.get()));
    }
  }

  Status Start() {
    return segment_ ? Status::OK() : Sticky(sink_->Append(std::string_view(kMagic, 4)));
  }
  Status WriteBatch(const std::vector<ColumnVector>& columns);
  Status TakeRowGroups(std::vector<EncodedRowGroup>* out);
  Status AppendRowGroup(const RowGroupMetadata& meta, std::string_view bytes);
  Status Close();
  void Abort() {
    if (!closed_) sink_->Abort();
    closed_ = true;
  }
  const std::vector<ColumnSpec>& schema() const { return schema_; }
  int64_t rows_written() const { return rows_total_; }
  // Once closed, the file's exact size; before, what is written plus what is buffered.
  int64_t bytes_written() const { return sink_->Tell() + (closed_ ? 0 : BufferedBytes()); }

 private:
  Status Sticky(Status s) {
    if (!s.ok() && error_.ok()) error_ = s;
    return s;
  }
  int64_t BufferedBytes() const {
    int64_t n = 0;
    for (const auto& c : columns_) n += c->BufferedBytes();
    return n;
  }
  Status FlushRowGroup();
  Status ValidateBatch(const std::vector<ColumnVector>& batch) const;
  Status AppendNested(size_t leaf, const ColumnVector& v, size_t begin, size_t end,
                      size_t* entry_at, size_t* value_at);
  std::string SerializeFooter() const;

  std::vector<ColumnSpec> schema_;
  WriterOptions options_;
  SegmentSink* segment_;  // detached: sink_, which it is
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<Compressor> compressor_;
  std::vector<Leaf> leaves_;
  std::vector<std::unique_ptr<ColumnChunkWriter>> columns_;  // one per leaf
  std::vector<uint8_t> def_scratch_, rep_scratch_;
  std::vector<RowGroupMetadata> row_groups_;
  int64_t group_rows_ = 0;
  int64_t rows_total_ = 0;
  bool closed_ = false;
  Status error_;
};

Status FileWriter::Impl::ValidateBatch(const std::vector<ColumnVector>& batch) const {
  if (batch.size() != schema_.size()) {
    return Status::InvalidArgument(
        fmt::format("Parquet batch has {} columns, the schema {}", batch.size(), schema_.size()));
  }
  size_t rows = batch[0].num_rows();
  for (size_t c = 0; c < batch.size(); ++c) {
    const ColumnVector& v = batch[c];
    const ColumnSpec& spec = schema_[c];
    if (v.num_rows() != rows || v.type() != PhysicalTypeOf(spec) || v.nested() != IsNested(spec)) {
      return Status::InvalidArgument(fmt::format(
          "Parquet batch column '{}' has {} rows of physical type {}, expected {} rows of {}",
          spec.name, v.num_rows(), static_cast<int>(v.type()), rows,
          static_cast<int>(PhysicalTypeOf(spec))));
    }
    if (!v.nested()) continue;
    size_t entries = 0;
    for (int32_t n : v.row_sizes()) {
      if (n < 0 && !spec.optional) {
        return Status::InvalidArgument(
            fmt::format("column '{}' is REQUIRED but a row is null", spec.name));
      }
      entries += n > 0 ? static_cast<size_t>(n) : 0;
    }
    if (entries != v.defined().size() ||
        (spec.type == ColumnType::kMap && v.keys().num_rows() != entries)) {
      return Status::InvalidArgument(
          fmt::format("Parquet batch column '{}': rows announce {} entries, {} were appended",
                      spec.name, entries, v.defined().size()));
    }
  }
  return Status::OK();
}

// Levels of rows [begin, end) of a LIST/MAP column for one of its leaves.
Status FileWriter::Impl::AppendNested(size_t l, const ColumnVector& v, size_t begin, size_t end,
                                      size_t* entry_at, size_t* value_at) {
  const Leaf& leaf = leaves_[l];
  uint8_t empty = static_cast<uint8_t>(schema_[leaf.column].optional ? 1 : 0);
  uint8_t top = static_cast<uint8_t>(leaf.max_def);
  def_scratch_.clear();
  rep_scratch_.clear();
  size_t values = 0;
  const uint8_t* defined = v.defined().data();
  for (size_t r = begin; r < end; ++r) {
    int32_t n = v.row_sizes()[r];
    if (n <= 0) {  // a null row, or an empty list
      def_scratch_.push_back(n < 0 ? 0 : empty);
      rep_scratch_.push_back(0);
      continue;
    }
    for (int32_t j = 0; j < n; ++j) {
      bool present = leaf.kind == Leaf::Kind::kMapKey || defined[(*entry_at)++] != 0;
      if (leaf.kind == Leaf::Kind::kMapKey) ++*entry_at;
      def_scratch_.push_back(present ? top : static_cast<uint8_t>(top - 1));
      rep_scratch_.push_back(j == 0 ? 0 : 1);
      values += present;
    }
  }
  const ColumnVector& source = leaf.kind == Leaf::Kind::kMapKey ? v.keys() : v;
  TL_RETURN_IF_ERROR(columns_[l]->AppendLevels(def_scratch_.data(), rep_scratch_.data(),
                                               def_scratch_.size(), source, *value_at, values));
  *value_at += values;
  return Status::OK();
}

Status FileWriter::Impl::WriteBatch(const std::vector<ColumnVector>& batch) {
  TL_RETURN_IF_ERROR(error_);
  if (closed_) return Status::Internal("Parquet writer: write after close");
  TL_RETURN_IF_ERROR(ValidateBatch(batch));
  size_t rows = batch[0].num_rows();
  // Slices of at most 1024 rows, so that pages and row groups end near their bounds.
  std::vector<size_t> value_at(leaves_.size(), 0), entry_at(leaves_.size(), 0);
  for (size_t begin = 0; begin < rows;) {
    size_t end = std::min(rows, begin + 1024);
    if (options_.max_row_group_rows > 0) {
      end = std::min<size_t>(end, begin + (options_.max_row_group_rows - group_rows_));
    }
    for (size_t l = 0; l < leaves_.size(); ++l) {
      const ColumnVector& v = batch[leaves_[l].column];
      if (leaves_[l].kind != Leaf::Kind::kFlat) {
        TL_RETURN_IF_ERROR(Sticky(AppendNested(l, v, begin, end, &entry_at[l], &value_at[l])));
        continue;
      }
      size_t values = 0;
      TL_RETURN_IF_ERROR(Sticky(columns_[l]->Append(v, begin, end, value_at[l], &values)));
      value_at[l] += values;
    }
    group_rows_ += static_cast<int64_t>(end - begin);
    rows_total_ += static_cast<int64_t>(end - begin);
    begin = end;
    if ((options_.max_row_group_rows > 0 && group_rows_ >= options_.max_row_group_rows) ||
        BufferedBytes() >= options_.row_group_bytes) {
      TL_RETURN_IF_ERROR(Sticky(FlushRowGroup()));
    }
  }
  return Status::OK();
}

Status FileWriter::Impl::FlushRowGroup() {
  if (group_rows_ == 0) return Status::OK();
  RowGroupMetadata rg;
  rg.num_rows = group_rows_;
  rg.file_offset = sink_->Tell();
  for (auto& c : columns_) {
    ChunkMetadata m;
    TL_RETURN_IF_ERROR(c->Flush(sink_.get(), &m));
    rg.total_byte_size += m.total_uncompressed_size;
    rg.total_compressed_size += m.total_compressed_size;
    rg.columns.push_back(std::move(m));
  }
  row_groups_.push_back(std::move(rg));
  group_rows_ = 0;
  return Status::OK();
}

Status FileWriter::Impl::TakeRowGroups(std::vector<EncodedRowGroup>* out) {
  TL_RETURN_IF_ERROR(error_);
  if (segment_ == nullptr) return Status::Internal("Parquet writer: not detached");
  TL_RETURN_IF_ERROR(Sticky(FlushRowGroup()));
  std::string bytes = segment_->Take();
  for (auto& rg : row_groups_) {
    EncodedRowGroup e;
    e.bytes = row_groups_.size() == 1 ? std::move(bytes)
                                      : bytes.substr(static_cast<size_t>(rg.file_offset),
                                                     static_cast<size_t>(rg.total_compressed_size));
    ShiftOffsets(&rg, -rg.file_offset);
    e.meta = std::move(rg);
    out->push_back(std::move(e));
  }
  row_groups_.clear();
  return Status::OK();
}

Status FileWriter::Impl::AppendRowGroup(const RowGroupMetadata& meta, std::string_view bytes) {
  TL_RETURN_IF_ERROR(error_);
  if (closed_ || segment_) return Status::Internal("Parquet writer: no file to append to");
  if (meta.columns.size() != leaves_.size() ||
      meta.total_compressed_size != static_cast<int64_t>(bytes.size())) {
    return Status::InvalidArgument(fmt::format(
        "Parquet row group of {} columns and {} bytes does not fit a file of {} columns "
        "(it holds {} bytes)",
        meta.columns.size(), meta.total_compressed_size, leaves_.size(), bytes.size()));
  }
  TL_RETURN_IF_ERROR(Sticky(FlushRowGroup()));
  RowGroupMetadata rg = meta;
  ShiftOffsets(&rg, sink_->Tell() - meta.file_offset);
  TL_RETURN_IF_ERROR(Sticky(sink_->Append(bytes)));
  rows_total_ += rg.num_rows;
  row_groups_.push_back(std::move(rg));
  return Status::OK();
}

std::string FileWriter::Impl::SerializeFooter() const {
  std::string out;
  thrift::CompactWriter w(&out);
  w.I32(1, 2);  // version
  WriteSchema(schema_, w);
  w.I64(3, rows_total_);
  w.BeginList(4, thrift::Type::kStruct, row_groups_.size());
  for (const auto& rg : row_groups_) {
    w.BeginListStruct();
    w.BeginList(1, thrift::Type::kStruct, rg.columns.size());
    for (size_t c = 0; c < rg.columns.size(); ++c)
      WriteColumnChunk(leaves_[c], rg.columns[c], options_.codec, w);
    w.I64(2, rg.total_byte_size);
    w.I64(3, rg.num_rows);
    w.I64(5, rg.file_offset);
    w.I64(6, rg.total_compressed_size);
    w.EndListStruct();
  }
  if (!options_.key_value_metadata.empty()) {
    w.BeginList(5, thrift::Type::kStruct, options_.key_value_metadata.size());
    for (const auto& [k, v] : options_.key_value_metadata) {
      w.BeginListStruct();
      w.Binary(1, k);
      w.Binary(2, v);
      w.EndListStruct();
    }
  }
  w.Binary(6, kCreatedBy);
  // column_orders: TYPE_ORDER for every leaf, so readers trust min_value/max_value.
  w.BeginList(7, thrift::Type::kStruct, leaves_.size());
  for (size_t i = 0; i < leaves_.size(); ++i) {
    w.BeginListStruct();
    w.BeginStruct(1);
    w.EndStruct();
    w.EndListStruct();
  }
  w.Stop();
  return out;
}

Status FileWriter::Impl::Close() {
  TL_RETURN_IF_ERROR(error_);
  if (closed_) return Status::Internal("Parquet writer: closed twice");
  Status s = [&]() -> Status {
    TL_RETURN_IF_ERROR(FlushRowGroup());
    std::string footer = SerializeFooter();
    uint32_t len = static_cast<uint32_t>(footer.size());
    footer.append(reinterpret_cast<const char*>(&len), 4);
    footer.append(kMagic, 4);
    TL_RETURN_IF_ERROR(sink_->Append(footer));
    return sink_->Commit();
  }();
  if (!s.ok()) {
    error_ = s;
    sink_->Abort();
  }
  closed_ = true;
  return s;
}

FileWriter::FileWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FileWriter::~FileWriter() {
  if (impl_) impl_->Abort();
}

Result<std::unique_ptr<FileWriter>> FileWriter::Open(std::vector<ColumnSpec> schema,
                                                     WriterOptions options,
                                                     std::unique_ptr<Sink> sink) {
  TL_RETURN_IF_ERROR(ValidateSchema(schema));
  if (options.page_bytes <= 0 || options.row_group_bytes <= 0) {
    return Status::InvalidArgument("Parquet writer: page and row group bounds must be positive");
  }
  TL_ASSIGN_OR_RETURN(auto compressor, NewCompressor(options.codec, options.compression_level));
  auto impl = std::make_unique<Impl>(std::move(schema), std::move(options), std::move(sink),
                                     std::move(compressor));
  TL_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<FileWriter>(new FileWriter(std::move(impl)));
}

Result<std::unique_ptr<FileWriter>> FileWriter::OpenDetached(std::vector<ColumnSpec> schema,
                                                             WriterOptions options) {
  return Open(std::move(schema), std::move(options), nullptr);
}

const std::vector<ColumnSpec>& FileWriter::schema() const { return impl_->schema(); }
Status FileWriter::TakeRowGroups(std::vector<EncodedRowGroup>* out) {
  return impl_->TakeRowGroups(out);
}
Status FileWriter::AppendRowGroup(const RowGroupMetadata& meta, std::string_view bytes) {
  return impl_->AppendRowGroup(meta, bytes);
}
Status FileWriter::WriteBatch(const std::vector<ColumnVector>& columns) {
  return impl_->WriteBatch(columns);
}
Status FileWriter::Close() { return impl_->Close(); }
void FileWriter::Abort() { impl_->Abort(); }
int64_t FileWriter::rows_written() const { return impl_->rows_written(); }
int64_t FileWriter::bytes_written() const { return impl_->bytes_written(); }

RowAppender::RowAppender(FileWriter* writer, size_t batch_rows, bool background)
    : writer_(writer), batch_rows_(batch_rows), background_(background) {
  for (const auto& c : writer->schema()) batch_.emplace_back(c);
  if (background_)
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "tl-encode");  // names it in top -H and perf
      Loop();
    });
}

RowAppender::~RowAppender() {
  if (!background_) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void RowAppender::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return !queued_.empty() || stopping_; });
    if (queued_.empty()) return;
    Batch& batch = queued_.front();
    lock.unlock();
    Status s = writer_->WriteBatch(batch);
    bytes_written_ = writer_->bytes_written();
    for (auto& c : batch) c.Clear();
    lock.lock();
    if (!s.ok() && error_.ok()) error_ = s;
    spare_.push_back(std::move(batch));
    queued_.pop_front();
    cv_.notify_all();
  }
}

Status RowAppender::Wait() {
  if (!background_) return Status::OK();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return queued_.empty(); });
  return error_;
}

Status RowAppender::Send() {
  if (rows_ == 0) return Status::OK();
  rows_ = 0;
  if (!background_) {
    Status s = writer_->WriteBatch(batch_);
    bytes_written_ = writer_->bytes_written();
    for (auto& c : batch_) c.Clear();
    return s;
  }
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return queued_.size() < kQueuedBatches; });
    if (!error_.ok()) return error_;
    queued_.push_back(std::move(batch_));
    if (spare_.empty()) {
      batch_.clear();
      for (const auto& c : writer_->schema()) batch_.emplace_back(c);
    } else {
      batch_ = std::move(spare_.back());
      spare_.pop_back();
    }
  }
  cv_.notify_all();
  return Status::OK();
}

Status RowAppender::EndRow() {
  ++rows_;
  for (size_t i = 0; i < batch_.size(); ++i) {
    if (batch_[i].num_rows() != rows_) {
      return Status::InvalidArgument(
          fmt::format("Parquet row {}: column '{}' has {} values, expected one per row", rows_,
                      writer_->schema()[i].name, batch_[i].num_rows()));
    }
  }
  return rows_ >= batch_rows_ || BatchBytes() >= kBatchBytes ? Send() : Status::OK();
}

size_t RowAppender::BatchBytes() const {
  size_t n = 0;
  for (const auto& c : batch_) n += c.byte_size();
  return n;
}

Status RowAppender::Flush() {
  TL_RETURN_IF_ERROR(Send());
  return Wait();
}

Status RowAppender::Close() {
  TL_RETURN_IF_ERROR(Flush());
  return writer_->Close();
}

}  // namespace tablelake::parquet
