// Reads a RowIterator on a thread of its own, a batch of rows ahead of the caller, so that a
// delivery's scan and its conversion run on two cores. Batches carry rows in their stored
// form and the caller decodes them into one reused Row: the threads share only flat buffers,
// and in steady state nothing is allocated.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "tablelake/table_store.h"

namespace tablelake::delivery {

class RowPrefetcher {
 public:
  // Borrows `it` until destruction. The default read-ahead, 16 batches of 4096 rows or 1 MiB
  // in stored form (8 MiB for rows of 130 bytes, 16 rows for rows of a megabyte), lets the scan
  // run on while conversion waits for a core; four batches cost a fifth of a delivery's speed
  // on two cores.
  explicit RowPrefetcher(RowIterator* it, size_t batch_rows = 4096,
                         size_t batch_bytes = kBatchBytes, size_t batches = kBatches);
  static constexpr size_t kBatchBytes = 1 << 20, kBatches = 16;
  // The most the default read-ahead holds.
  static constexpr int64_t kMaxBytes = kBatchBytes * kBatches;
  ~RowPrefetcher();

  // The next row, or nullptr at the end (then status() says whether the scan failed). A row
  // stays valid until the next call; the last row's primary key also after the call that ends
  // the scan (rows hidden by retention are dropped before their key is decoded).
  const Row* Next();
  Status status() const { return decode_status_.ok() ? scan_status_ : decode_status_; }

 private:
  void Loop();
  // Takes the next ready batch (nullptr at the end), giving the current one back.
  RowBatch* NextBatch();

  RowIterator* it_;
  size_t batch_rows_, batch_bytes_;
  std::vector<RowBatch> batches_;
  std::deque<RowBatch*> free_, ready_;
  RowBatch* current_ = nullptr;
  size_t pos_ = 0;
  Row row_;
  bool done_ = false, stopping_ = false;
  Status scan_status_;    // set by the scanning thread before done_
  Status decode_status_;  // set by the caller's thread
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace tablelake::delivery
