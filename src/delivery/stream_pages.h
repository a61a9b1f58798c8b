// Pages of a table's change records read on a thread of their own, a few pages ahead of the
// caller, so that reading and decoding the stream runs on one core while the records are
// converted and grouped on another: an incremental task catching up on a backlog (a bulk load
// into its table, say) delivers it about twice as fast as reading and converting in turn.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "tablelake/table_store.h"

namespace tablelake::delivery {

class StreamPages {
 public:
  static constexpr size_t kPageRecords = 1000;
  // Pages waiting, at most (a page of 1000 records of rows of 300 bytes holds about 1 MiB,
  // decoded).
  static constexpr size_t kAhead = 3;

  // The records of `table` from sequence `from` on, until one at or past `to`.
  StreamPages(TableStore* store, std::string table, uint64_t from, uint64_t to);
  ~StreamPages();  // stops the reader
  StreamPages(const StreamPages&) = delete;
  StreamPages& operator=(const StreamPages&) = delete;

  // The next page; one without records ends the stream (or the range). Valid until the next
  // call.
  Result<const StreamReadResult*> Next();

 private:
  void Loop(uint64_t from, uint64_t to);

  TableStore* store_;
  const std::string table_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Result<StreamReadResult>> ready_;
  StreamReadResult current_;
  bool stopping_ = false;
  std::thread reader_;
};

}  // namespace tablelake::delivery
