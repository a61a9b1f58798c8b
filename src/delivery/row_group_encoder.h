// Partitions' grouped rows encoded as Parquet row groups when the base scan spills them: a run
// then holds a large partition's rows encoded and compressed, and the merge copies them into the
// partition's file (parquet::FileWriter::AppendRowGroup) instead of decoding every row and
// encoding it once more. Small partitions stay records: a row group of a few rows costs more
// than it saves, and their rows are merged into one row group of their file.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "delivery/partition_buffers.h"
#include "delivery/row_converter.h"
#include "delivery/task_config.h"
#include "parquet/file_writer.h"

namespace tablelake::delivery {

// One encoded row group of a partition, with what the file size bound counts of it.
struct RowGroupBlock {
  parquet::EncodedRowGroup group;
  int64_t value_bytes = 0;  // the sum of its rows' RowConverter::row_bytes
};

// What a spill encodes, and how.
struct RowGroupEncoding {
  const ResolvedTask& task;
  const RowConverter& converter;  // AppendEncoded only: safe on several threads
  int64_t row_group_bytes;        // a row group ends past this many value bytes
  // Buffers of at least this many value bytes are encoded; smaller ones stay records.
  int64_t min_bytes = 64 << 10;
};

// Encodes buffers one after the other with one detached writer (one per thread).
class RowGroupEncoder {
 public:
  static Result<std::unique_ptr<RowGroupEncoder>> Open(const RowGroupEncoding& how);
  // A row group per `row_group_bytes` of the buffer's rows, in the order they were added.
  Result<std::vector<RowGroupBlock>> Encode(const PartitionBuffer& buffer);
  // Appends the row `converter` staged; the row group ends with it, into `*out`, once it holds
  // `row_group_bytes` (a key range's thread encoding a task of one partition: RangeScan).
  Status Add(RowConverter& converter, std::vector<RowGroupBlock>* out);
  // Ends the open row group into `*out`, if it holds a row.
  Status Finish(std::vector<RowGroupBlock>* out);

 private:
  RowGroupEncoder(const RowGroupEncoding& how, std::unique_ptr<parquet::FileWriter> writer);
  Status EndRowGroup(std::vector<RowGroupBlock>* out);

  const RowGroupEncoding& how_;
  std::unique_ptr<parquet::FileWriter> writer_;
  parquet::RowAppender rows_;
  int64_t open_bytes_ = 0;  // value bytes of the open row group
  int64_t open_rows_ = 0;   // rows Add put in it
};

}  // namespace tablelake::delivery
