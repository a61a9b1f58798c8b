#include "delivery/row_group_encoder.h"

#include <limits>

namespace tablelake::delivery {

Result<std::unique_ptr<RowGroupEncoder>> RowGroupEncoder::Open(const RowGroupEncoding& how) {
  std::vector<parquet::ColumnSpec> schema;
  for (const auto& c : how.task.columns) schema.push_back(c.parquet);
  parquet::WriterOptions options;
  options.codec = how.task.codec;
  // Row groups end where Encode says, never inside the writer.
  options.row_group_bytes = std::numeric_limits<int64_t>::max();
  TL_ASSIGN_OR_RETURN(auto writer, parquet::FileWriter::OpenDetached(schema, options));
  return std::unique_ptr<RowGroupEncoder>(new RowGroupEncoder(how, std::move(writer)));
}

RowGroupEncoder::RowGroupEncoder(const RowGroupEncoding& how,
                                 std::unique_ptr<parquet::FileWriter> writer)
    : how_(how), writer_(std::move(writer)), rows_(writer_.get()) {}

Result<std::vector<RowGroupBlock>> RowGroupEncoder::Encode(const PartitionBuffer& buffer) {
  std::vector<RowGroupBlock> out;
  TL_RETURN_IF_ERROR(ForEachRecord(buffer, [&](std::string_view row, size_t row_bytes) {
    const auto bytes = static_cast<int64_t>(row_bytes);
    if (open_bytes_ > 0 && open_bytes_ + bytes > how_.row_group_bytes) {
      TL_RETURN_IF_ERROR(EndRowGroup(&out));
    }
    open_bytes_ += bytes;
    return how_.converter.AppendEncoded(row, &rows_);
  }));
  TL_RETURN_IF_ERROR(EndRowGroup(&out));
  return out;
}

Status RowGroupEncoder::Add(RowConverter& converter, std::vector<RowGroupBlock>* out) {
  TL_RETURN_IF_ERROR(converter.Write(&rows_));
  open_bytes_ += static_cast<int64_t>(converter.row_bytes());
  ++open_rows_;
  return open_bytes_ >= how_.row_group_bytes ? EndRowGroup(out) : Status::OK();
}

Status RowGroupEncoder::Finish(std::vector<RowGroupBlock>* out) {
  return open_rows_ > 0 ? EndRowGroup(out) : Status::OK();
}

Status RowGroupEncoder::EndRowGroup(std::vector<RowGroupBlock>* out) {
  TL_RETURN_IF_ERROR(rows_.Flush());
  std::vector<parquet::EncodedRowGroup> groups;
  TL_RETURN_IF_ERROR(writer_->TakeRowGroups(&groups));
  // One at most: the writer never ends one by itself.
  for (auto& g : groups) out->push_back({std::move(g), open_bytes_});
  open_bytes_ = open_rows_ = 0;
  return Status::OK();
}

}  // namespace tablelake::delivery
