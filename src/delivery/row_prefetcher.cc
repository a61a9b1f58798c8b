#include "delivery/row_prefetcher.h"

namespace tablelake::delivery {

RowPrefetcher::RowPrefetcher(RowIterator* it, size_t batch_rows, size_t batches)
    : it_(it), batch_rows_(batch_rows), batches_(batches) {
  for (auto& b : batches_) {
    b.rows.resize(batch_rows_);
    free_.push_back(&b);
  }
  thread_ = std::thread([this] { Loop(); });
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
    Batch* b;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !free_.empty() || stopping_; });
      if (stopping_) return;
      b = free_.front();
      free_.pop_front();
    }
    b->count = 0;
    for (; b->count < batch_rows_ && it_->Valid(); it_->Next()) it_->SwapRow(&b->rows[b->count++]);
    bool end = !it_->Valid();
    std::lock_guard lock(mu_);
    ready_.push_back(b);
    if (end) {
      status_ = it_->status();
      done_ = true;
      cv_.notify_all();
      return;
    }
    cv_.notify_all();
  }
}

const Row* RowPrefetcher::Next() {
  if (current_ != nullptr && pos_ < current_->count) return &current_->rows[pos_++];
  std::unique_lock lock(mu_);
  if (current_ != nullptr) free_.push_back(current_);  // its rows were all handed out
  current_ = nullptr;
  cv_.notify_all();
  cv_.wait(lock, [this] { return !ready_.empty() || done_; });
  if (ready_.empty()) return nullptr;
  current_ = ready_.front();
  ready_.pop_front();
  pos_ = 0;
  lock.unlock();
  return current_->count > 0 ? &current_->rows[pos_++] : nullptr;
}

}  // namespace tablelake::delivery
