// The open Parquet files of a delivery batch, one per partition at a time. A file ends once its
// rows' values reach the task's size bound (measured as plain, uncompressed values on the
// converting thread, so where files split depends on the data alone, never on how far the
// encoding thread has got; encoded and compressed files come out at or below the bound). The
// least recently written partition is closed first when too many are open. Every file is published
// atomically under a deterministic name:
//   <partition>/<stem>-<index>.parquet
// so that a run repeated from the same position writes the same objects, never duplicates.
// A closed file is finished (its last rows encoded, its footer written, the object created and
// published) on a thread of its own while the caller goes on converting rows: a flush or a merge
// over thousands of partitions spends most of its time finishing small files.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "delivery/memory_budget.h"
#include "delivery/task_config.h"
#include "objectstore/object_store.h"
#include "parquet/file_writer.h"

namespace tablelake::delivery {

// A file's row groups end past this many value bytes (RowConverter::row_bytes).
inline int64_t RowGroupBytes(int64_t file_bytes) { return std::min<int64_t>(file_bytes, 16 << 20); }

struct PublishedFile {
  std::string key;
  int64_t rows = 0;
  int64_t bytes = 0;
  size_t sequence = 0;  // the order its file was closed in
};

class PartitionFiles {
 public:
  // An open file's row group and queued batches are charged to `budget` while it is open.
  PartitionFiles(ObjectStore* bucket, const ResolvedTask& task, std::string stem,
                 int64_t file_bytes, std::vector<std::pair<std::string, std::string>> metadata,
                 MemoryBudget* budget, size_t max_open = 8);
  ~PartitionFiles();

  // The appender to write a row of `row_bytes` (RowConverter::row_bytes) of `partition` to,
  // which counts the row: the partition's open file, unless the row would take it past the
  // size bound - then that file ends and a new one opens.
  // A file opened for it encodes on a thread of its own when `large` (a thread costs more than
  // encoding a few rows).
  Result<parquet::RowAppender*> For(const std::string& partition, size_t row_bytes,
                                    bool large = true);
  // Places a row group encoded apart (parquet::FileWriter::OpenDetached, the task's schema and
  // codec) into `partition`'s file, as For places a row: `value_bytes` is what its rows count
  // for the size bound; `large` as For's.
  Status AppendRowGroup(const std::string& partition, const parquet::EncodedRowGroup& group,
                        int64_t value_bytes, bool large = false);
  bool IsOpen(const std::string& partition) const { return open_.count(partition) > 0; }
  // Whether `partition`'s open file holds rows and `value_bytes` more would take it past the
  // size bound.
  bool Whole(const std::string& partition, int64_t value_bytes) const {
    auto it = open_.find(partition);
    return it != open_.end() && it->second.value_bytes > 0 &&
           it->second.value_bytes + value_bytes > file_bytes_;
  }
  // What a row of `row_bytes` for `partition` finds, in one lookup: its open file, which takes
  // the row (counted as For counts it); its open file, whole without the row (`*whole`; the
  // file stays open); or no open file (nullptr).
  parquet::RowAppender* OpenFor(const std::string& partition, size_t row_bytes, bool* whole);
  size_t open_count() const { return open_.size(); }
  // Closes `partition`'s open file, if any: it is published in the background (an error
  // comes back from a later call).
  Status Close(const std::string& partition);
  // Closes every open file and waits until every closed file is published.
  Status CloseAll();
  // Discards open files and those not yet published.
  void Abort();

  // Files closed so far (published or on their way).
  size_t closed_count() const { return closed_; }
  // Every file published; complete once CloseAll has returned.
  const std::vector<PublishedFile>& published() const { return published_; }
  // What the open files are charged.
  int64_t memory_bytes() const { return static_cast<int64_t>(open_.size()) * file_memory_; }

 private:
  struct OpenFile {
    std::unique_ptr<parquet::FileWriter> writer;
    std::unique_ptr<parquet::RowAppender> rows;
    std::string key;
    int64_t row_count = 0;
    int64_t value_bytes = 0;
    uint64_t last_use = 0;
    int64_t charged = 0;      // what it holds of the budget
    bool background = false;  // its rows are encoded on a thread of its own
    size_t sequence = 0;
  };
  Status Close(std::map<std::string, OpenFile>::iterator it);
  // The open file that takes `value_bytes` more of `partition`, opened (or a new one, when the
  // size bound says so) as needed.
  Result<OpenFile*> FileFor(const std::string& partition, int64_t value_bytes, bool large);
  // Finishing closed files in the background.
  Status Enqueue(OpenFile f);
  Status Finish(OpenFile& f);  // on the publishing thread
  Status Drain();              // waits until none is left; the first error, if any
  void PublishLoop();

  ObjectStore* bucket_;
  const ResolvedTask& task_;
  std::string stem_;
  int64_t file_bytes_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  MemoryBudget* budget_;
  int64_t file_memory_;  // what an open file is charged
  size_t max_open_;
  std::map<std::string, OpenFile> open_;
  std::map<std::string, OpenFile>::iterator last_;  // the partition of the last row
  std::map<std::string, int> next_index_;
  uint64_t clock_ = 0;
  size_t closed_ = 0;

  // Shared with the publishing thread (started by the first close).
  static constexpr size_t kMaxClosing = 32;  // files waiting to be finished
  // Two: creating a file is mostly the kernel's work, which a second thread overlaps.
  static constexpr size_t kPublishers = 2;
  std::mutex mu_;
  // Publishers wait for files (`work_`); Enqueue and Drain for room and for finished files
  // (`room_`): a file queued or finished wakes only the threads it concerns.
  std::condition_variable work_, room_;
  std::deque<OpenFile> closing_;
  size_t finishing_ = 0;   // files taken off closing_ and not yet finished
  int large_waiting_ = 0;  // files on closing_ whose rows encode on a thread of their own
  bool stopping_ = false;
  Status publish_error_;
  std::vector<PublishedFile> published_;
  std::vector<std::thread> publishers_;
};

}  // namespace tablelake::delivery
