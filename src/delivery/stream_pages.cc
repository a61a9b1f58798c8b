#include "delivery/stream_pages.h"

#include <pthread.h>

namespace tablelake::delivery {

StreamPages::StreamPages(TableStore* store, std::string table, uint64_t from, uint64_t to)
    : store_(store), table_(std::move(table)) {
  reader_ = std::thread([this, from, to] {
    pthread_setname_np(pthread_self(), "tl-stream");
    Loop(from, to);
  });
}

StreamPages::~StreamPages() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  reader_.join();
}

void StreamPages::Loop(uint64_t from, uint64_t to) {
  while (true) {
    Result<StreamReadResult> page = store_->ReadStream(table_, from, kPageRecords);
    // The last page: an error, the stream's end, or a record at or past `to`.
    const bool last = !page.ok() || page->records.empty() || page->records.back().sequence >= to;
    if (page.ok()) from = page->next_sequence;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return ready_.size() < kAhead || stopping_; });
    if (stopping_) return;
    ready_.push_back(std::move(page));
    if (last) ready_.push_back(StreamReadResult{});  // the end, however often asked
    cv_.notify_all();
    if (last) return;
  }
}

Result<const StreamReadResult*> StreamPages::Next() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !ready_.empty(); });
  Result<StreamReadResult> page = std::move(ready_.front());
  // The end stays for every later call.
  if (ready_.size() > 1 || (page.ok() && !page->records.empty())) ready_.pop_front();
  cv_.notify_all();
  lock.unlock();
  TL_RETURN_IF_ERROR(page.status());
  current_ = std::move(*page);
  return &current_;
}

}  // namespace tablelake::delivery
