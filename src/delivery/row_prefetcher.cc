#include "delivery/row_prefetcher.h"

#include <pthread.h>

namespace tablelake::delivery {

RowPrefetcher::RowPrefetcher(RowIterator* it, size_t batch_rows, size_t batch_bytes, size_t batches)
    : it_(it), batch_rows_(batch_rows), batch_bytes_(batch_bytes), batches_(batches) {
  for (auto& b : batches_) free_.push_back(&b);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "tl-scan");  // names it in top -H and perf
    Loop();
  });
}

RowPrefetcher::~RowPrefetcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void RowPrefetcher::Loop() {
  while (true) {
    RowBatch* b;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !free_.empty() || stopping_; });
      if (stopping_) return;
      b = free_.front();
      free_.pop_front();
    }
    Status s = it_->NextBatch(batch_rows_, batch_bytes_, b);
    bool end = !s.ok() || !it_->Valid();
    std::lock_guard lock(mu_);
    ready_.push_back(b);
    if (end) {
      scan_status_ = s;
      done_ = true;
    }
    cv_.notify_all();
    if (end) return;
  }
}

RowBatch* RowPrefetcher::NextBatch() {
  std::unique_lock lock(mu_);
  if (current_ != nullptr) free_.push_back(current_);
  current_ = nullptr;
  cv_.notify_all();
  cv_.wait(lock, [this] { return !ready_.empty() || done_; });
  if (ready_.empty()) return nullptr;
  current_ = ready_.front();
  ready_.pop_front();
  pos_ = 0;
  return current_;
}

const Row* RowPrefetcher::Next() {
  while (true) {
    while (current_ != nullptr && pos_ < current_->size()) {
      auto visible = current_->DecodeRow(pos_++, &row_);
      if (!visible.ok()) {
        decode_status_ = visible.status();
        return nullptr;
      }
      if (*visible) return &row_;
    }
    if (NextBatch() == nullptr) return nullptr;
  }
}

}  // namespace tablelake::delivery
