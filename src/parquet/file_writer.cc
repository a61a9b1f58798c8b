#include "parquet/file_writer.h"

#include <algorithm>

#include "fmt/format.h"
#include "parquet/thrift_compact.h"

namespace tablelake::parquet {
namespace {

constexpr char kMagic[] = "PAR1";

struct RowGroupMetadata {
  std::vector<ChunkMetadata> columns;
  int64_t num_rows = 0;
  int64_t total_byte_size = 0;
  int64_t file_offset = 0;
  int64_t total_compressed_size = 0;
};

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

void WriteSchema(const std::vector<ColumnSpec>& schema, thrift::CompactWriter& w) {
  w.BeginList(2, thrift::Type::kStruct, schema.size() + 1);
  w.BeginListStruct();  // the root group
  w.Binary(4, "schema");
  w.I32(5, static_cast<int32_t>(schema.size()));
  w.EndListStruct();
  for (const auto& c : schema) {
    w.BeginListStruct();
    w.I32(1, static_cast<int32_t>(PhysicalTypeOf(c)));
    if (int32_t len = FixedLengthOf(c); len > 0 && c.type != ColumnType::kInt96) w.I32(2, len);
    w.I32(3, c.optional ? 1 : 0);  // OPTIONAL : REQUIRED
    w.Binary(4, c.name);
    if (auto converted = ConvertedTypeOf(c.type)) w.I32(6, *converted);
    if (c.type == ColumnType::kDecimal) {
      w.I32(7, c.scale);
      w.I32(8, c.precision);
    }
    WriteLogicalType(c, w);
    w.EndListStruct();
  }
}

void WriteColumnChunk(const ColumnSpec& c, const ChunkMetadata& m, Codec codec,
                      thrift::CompactWriter& w) {
  w.BeginListStruct();           // ColumnChunk
  w.I64(2, m.data_page_offset);  // file_offset: deprecated; where the chunk's pages start
  w.BeginStruct(3);              // ColumnMetaData
  w.I32(1, static_cast<int32_t>(PhysicalTypeOf(c)));
  w.BeginList(2, thrift::Type::kI32, m.encodings.size());
  for (int32_t e : m.encodings) w.ListI32(e);
  w.BeginList(3, thrift::Type::kBinary, 1);
  w.ListBinary(c.name);
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

}  // namespace

class FileWriter::Impl {
 public:
  Impl(std::vector<ColumnSpec> schema, WriterOptions options, std::unique_ptr<Sink> sink,
       std::unique_ptr<Compressor> compressor)
      : schema_(std::move(schema)),
        options_(std::move(options)),
        sink_(std::move(sink)),
        compressor_(std::move(compressor)) {
    for (const auto& c : schema_) {
      columns_.push_back(std::make_unique<ColumnChunkWriter>(c, options_, compressor_.get()));
    }
  }

  Status Start() { return Sticky(sink_->Append(std::string_view(kMagic, 4))); }
  Status WriteBatch(const std::vector<ColumnVector>& columns);
  Status Close();
  void Abort() {
    if (!closed_) sink_->Abort();
    closed_ = true;
  }
  const std::vector<ColumnSpec>& schema() const { return schema_; }
  int64_t rows_written() const { return rows_total_; }
  int64_t bytes_written() const { return sink_->Tell() + BufferedBytes(); }

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
  std::string SerializeFooter() const;

  std::vector<ColumnSpec> schema_;
  WriterOptions options_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<Compressor> compressor_;
  std::vector<std::unique_ptr<ColumnChunkWriter>> columns_;
  std::vector<RowGroupMetadata> row_groups_;
  int64_t group_rows_ = 0;
  int64_t rows_total_ = 0;
  bool closed_ = false;
  Status error_;
};

Status FileWriter::Impl::WriteBatch(const std::vector<ColumnVector>& batch) {
  TL_RETURN_IF_ERROR(error_);
  if (closed_) return Status::Internal("Parquet writer: write after close");
  if (batch.size() != schema_.size()) {
    return Status::InvalidArgument(
        fmt::format("Parquet batch has {} columns, the schema {}", batch.size(), schema_.size()));
  }
  size_t rows = batch[0].num_rows();
  for (size_t c = 0; c < batch.size(); ++c) {
    if (batch[c].num_rows() != rows || batch[c].type() != PhysicalTypeOf(schema_[c])) {
      return Status::InvalidArgument(fmt::format(
          "Parquet batch column '{}' has {} rows of physical type {}, expected {} rows of {}",
          schema_[c].name, batch[c].num_rows(), static_cast<int>(batch[c].type()), rows,
          static_cast<int>(PhysicalTypeOf(schema_[c]))));
    }
  }
  // Slices of at most 1024 rows, so that pages and row groups end near their bounds.
  std::vector<size_t> value_at(batch.size(), 0);
  for (size_t begin = 0; begin < rows;) {
    size_t end = std::min(rows, begin + 1024);
    if (options_.max_row_group_rows > 0) {
      end = std::min<size_t>(end, begin + (options_.max_row_group_rows - group_rows_));
    }
    for (size_t c = 0; c < batch.size(); ++c) {
      TL_RETURN_IF_ERROR(Sticky(columns_[c]->Append(batch[c], begin, end, value_at[c])));
      const uint8_t* d = batch[c].defined().data();
      value_at[c] += static_cast<size_t>(std::count(d + begin, d + end, 1));
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
      WriteColumnChunk(schema_[c], rg.columns[c], options_.codec, w);
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
  // column_orders: TYPE_ORDER for every column, so readers trust min_value/max_value.
  w.BeginList(7, thrift::Type::kStruct, schema_.size());
  for (size_t i = 0; i < schema_.size(); ++i) {
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

const std::vector<ColumnSpec>& FileWriter::schema() const { return impl_->schema(); }
Status FileWriter::WriteBatch(const std::vector<ColumnVector>& columns) {
  return impl_->WriteBatch(columns);
}
Status FileWriter::Close() { return impl_->Close(); }
void FileWriter::Abort() { impl_->Abort(); }
int64_t FileWriter::rows_written() const { return impl_->rows_written(); }
int64_t FileWriter::bytes_written() const { return impl_->bytes_written(); }

}  // namespace tablelake::parquet
