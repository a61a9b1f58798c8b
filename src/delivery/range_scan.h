// The base scan of a snapshot over several key ranges at once. Each range has a thread that
// reads its rows (RowIterator::NextBatch) and converts them (RowStager) into ConvertedBatches;
// the task's thread takes batches from whichever range has one ready and groups them
// (BatchWriter::AddConverted). The ranges share that one grouping, so scanning in parallel
// never multiplies the files, and each batch says which range it came from and the key of its
// last row: what the task's state records per range at a commit.
//
// A task of one partition needs no grouping: its ranges' threads also encode their rows into
// row groups (encoding mode), which the task's thread only copies into the partition's file
// (BatchWriter::AddEncodedGroup), so that every step but that copy runs on every range's core.
// A file then holds row groups of several ranges, each group a run of keys of one range.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "delivery/converted_rows.h"
#include "tablelake/table_store.h"

namespace tablelake::delivery {

class RangeScan {
 public:
  struct Range {
    std::unique_ptr<RowIterator> rows;  // positioned at the range's first row to deliver
    int64_t index;                      // the range's number in the task's state
  };
  // What every row of the snapshot shares.
  struct Snapshot {
    uint64_t sequence;
    int64_t time_ms;
  };
  static constexpr size_t kBatchRows = 4096, kBatchBytes = 1 << 20;
  // Batches of a range: read and converted, waiting, or being grouped. Each holds its rows as
  // read and as records: about 2 * kBatchBytes.
  static constexpr size_t kQueued = 3;
  static constexpr int64_t kBytesPerRange = kQueued * 2 * kBatchBytes;
  // Encoding mode: a range's row groups end past this many value bytes (RowConverter::
  // row_bytes), and it holds one being encoded and one queued at most (a group takes more rows
  // than the queued batches hold).
  static constexpr int64_t kGroupBytes = 8 << 20;
  static constexpr int64_t kBytesPerEncodingRange = kBytesPerRange + 2 * kGroupBytes;

  // `encode`: the encoding mode (a task of one partition).
  RangeScan(std::vector<Range> ranges, const DeliveryTaskConfig& config,
            const ResolvedTask& resolved, Snapshot snapshot, bool encode = false);
  ~RangeScan();  // stops the threads

  // The next batch of any range (`*range`: its index), or nullptr when every range has ended
  // or one failed (then status() says why). Valid until the next call.
  const ConvertedBatch* Next(int64_t* range);
  Status status() const;

  // Per range, in the order given: rows taken and the seconds its thread was busy reading and
  // converting them (not waiting for the grouping).
  struct RangeStats {
    int64_t index = 0;
    int64_t rows = 0;
    double busy_seconds = 0;
  };
  std::vector<RangeStats> stats() const;

 private:
  struct Source;
  void Loop(Source* source);
  // Encoding mode: converts and encodes the rows of `out` (see ConvertedBatch::Group), each
  // decoded as views into `*views` (a dirty one whole into `*decoded`; their buffers reused);
  // dirty rows past the last group's end wait in `*pending` for the group they come before.
  Status Encode(RowStager& stager, RowGroupEncoder& encoder,
                std::vector<ConvertedBatch::Dirty>* pending, RowViews* views, Row* decoded,
                ConvertedBatch* out);

  const DeliveryTaskConfig& config_;
  const ResolvedTask& resolved_;
  const Snapshot snapshot_;
  const bool encode_;
  std::vector<std::unique_ptr<Source>> sources_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Source*, ConvertedBatch*>> ready_;
  std::pair<Source*, ConvertedBatch*> current_{nullptr, nullptr};
  size_t running_ = 0;  // ranges whose last batch has not been taken
  bool stopping_ = false;
  Status status_;
};

}  // namespace tablelake::delivery
