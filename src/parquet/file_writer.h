// A streaming Parquet file writer: column batches in, one file out.
//
// Memory stays bounded by one row group: rows are encoded into pages as they arrive, and a row
// group is written to the sink as soon as it reaches WriterOptions::row_group_bytes (or
// max_row_group_rows). Close writes the footer and commits the sink; until then, and after any
// failure, the sink holds nothing that looks like a finished file.
//
// Not thread-safe: one thread writes one file. Errors are sticky: after a failed call every
// later call returns the same error.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/sink.h"
#include "parquet/column_vector.h"
#include "parquet/column_writer.h"
#include "parquet/schema.h"

namespace tablelake::parquet {

constexpr const char* kCreatedBy = "tablelake version 0.1.0";

// What the footer says of a row group. Offsets are the file's; in an EncodedRowGroup they count
// from the row group's first byte.
struct RowGroupMetadata {
  std::vector<ChunkMetadata> columns;  // one per leaf column
  int64_t num_rows = 0;
  int64_t total_byte_size = 0;
  int64_t file_offset = 0;
  int64_t total_compressed_size = 0;
};

// A row group encoded apart from any file (FileWriter::OpenDetached), placed into a file later
// by FileWriter::AppendRowGroup: a copy of its bytes, nothing decoded or encoded again.
struct EncodedRowGroup {
  RowGroupMetadata meta;
  std::string bytes;
};
// A compact, self-delimiting form of the metadata (spill runs keep row groups so).
void EncodeRowGroupMetadata(const RowGroupMetadata& meta, std::string* out);
// Reads what EncodeRowGroupMetadata wrote from the front of `*in`, and consumes it.
Status DecodeRowGroupMetadata(std::string_view* in, RowGroupMetadata* meta);

class FileWriter {
 public:
  static Result<std::unique_ptr<FileWriter>> Open(std::vector<ColumnSpec> schema,
                                                  WriterOptions options,
                                                  std::unique_ptr<Sink> sink);
  // A writer of row groups for no file yet: TakeRowGroups hands them over as they end. One
  // writer encodes any number of row groups, one after the other.
  static Result<std::unique_ptr<FileWriter>> OpenDetached(std::vector<ColumnSpec> schema,
                                                          WriterOptions options);
  // Aborts the sink unless Close succeeded.
  ~FileWriter();

  const std::vector<ColumnSpec>& schema() const;
  // Appends rows: one vector per schema column, each with the same number of rows.
  Status WriteBatch(const std::vector<ColumnVector>& columns);
  // Detached writers: ends the open row group (if it has rows) and moves every row group ended
  // since the last call to `out`.
  Status TakeRowGroups(std::vector<EncodedRowGroup>* out);
  // Ends the open row group, then places a row group encoded by a detached writer of the same
  // schema and options (codec) after it.
  Status AppendRowGroup(const RowGroupMetadata& meta, std::string_view bytes);
  // Ends the open row group, writes the footer and commits the sink.
  Status Close();
  // Discards the file.
  void Abort();

  int64_t rows_written() const;
  // Bytes sent to the sink so far, plus what the open row group holds.
  int64_t bytes_written() const;

 private:
  class Impl;
  explicit FileWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Row-at-a-time appends over a FileWriter: fill each column of the current row through
// column(i), then EndRow. Rows go to the writer in batches of `batch_rows`, or fewer once the
// batch holds kBatchBytes of string values (rows may be megabytes each), so memory stays
// bounded by the batch being filled, those queued (at most kQueuedBatches, with `background`)
// and the writer's row group. With `background`, batches are encoded and compressed on a
// thread of their own while the caller fills the next ones; errors from it come back from the
// next EndRow, Flush or Close.
class RowAppender {
 public:
  explicit RowAppender(FileWriter* writer, size_t batch_rows = 4096, bool background = false);
  ~RowAppender();
  ColumnVector& column(size_t i) { return batch_[i]; }
  // Ends the row: every column must have received exactly one value, null or row.
  Status EndRow();
  // Sends the rows appended so far and waits until the writer has them.
  Status Flush();
  // Flushes and closes the writer.
  Status Close();
  // The writer's bytes_written() as of the last batch it took; safe while a batch is in flight.
  int64_t bytes_written() const { return bytes_written_.load(); }

 private:
  Status Send();  // hands the batch over (background) or writes it
  size_t BatchBytes() const;
  Status Wait();  // until the background thread is idle; its error, if any
  void Loop();

  FileWriter* writer_;
  size_t batch_rows_;
  size_t rows_ = 0;
  std::vector<ColumnVector> batch_;
  std::atomic<int64_t> bytes_written_{0};
  // Background encoding: filled batches queue up for the thread (front: the one it is on), so
  // that a row group's flush does not stall the caller; emptied ones come back for reuse.
  // Eight smooth out the bursts of a shared 2-core machine (a third faster than three in
  // bench/delivery_bench) and are allocated only when the encoder falls behind.
  using Batch = std::vector<ColumnVector>;
  static constexpr size_t kQueuedBatches = 8;
  static constexpr size_t kBatchBytes = 1 << 20;
  bool background_;
  std::deque<Batch> queued_;
  std::vector<Batch> spare_;
  bool stopping_ = false;
  Status error_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace tablelake::parquet
