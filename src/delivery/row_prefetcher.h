// Reads a RowIterator on a thread of its own, a batch of rows ahead of the caller, so that a
// delivery's scan and its conversion run on two cores. Rows move between the iterator and the
// batches by swapping buffers: in steady state nothing is allocated.
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
  // Borrows `it` until destruction.
  explicit RowPrefetcher(RowIterator* it, size_t batch_rows = 1024, size_t batches = 3);
  ~RowPrefetcher();

  // The next row, or nullptr at the end (then status() says whether the scan failed). A row
  // stays valid until `batch_rows` further calls.
  const Row* Next();
  Status status() const { return status_; }

 private:
  struct Batch {
    std::vector<Row> rows;
    size_t count = 0;
  };
  void Loop();

  RowIterator* it_;
  size_t batch_rows_;
  std::vector<Batch> batches_;
  std::deque<Batch*> free_, ready_;
  Batch* current_ = nullptr;
  size_t pos_ = 0;
  bool done_ = false, stopping_ = false;
  Status status_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace tablelake::delivery
