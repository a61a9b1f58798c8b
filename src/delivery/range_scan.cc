#include "delivery/range_scan.h"

#include <pthread.h>

#include <chrono>
#include <cstdint>

namespace tablelake::delivery {

struct RangeScan::Source {
  Range range;
  ConvertedBatch batches[kQueued];
  std::vector<ConvertedBatch*> free;
  RangeStats stats;
  std::thread thread;
};

RangeScan::RangeScan(std::vector<Range> ranges, const DeliveryTaskConfig& config,
                     const ResolvedTask& resolved, Snapshot snapshot)
    : config_(config), resolved_(resolved), snapshot_(snapshot) {
  for (auto& r : ranges) {
    auto source = std::make_unique<Source>();
    source->stats.index = r.index;
    source->range = std::move(r);
    for (auto& b : source->batches) source->free.push_back(&b);
    sources_.push_back(std::move(source));
  }
  running_ = sources_.size();
  for (auto& s : sources_) {
    s->thread = std::thread([this, source = s.get()] {
      pthread_setname_np(pthread_self(), "tl-range");
      Loop(source);
    });
  }
}

RangeScan::~RangeScan() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& s : sources_) s->thread.join();
}

void RangeScan::Loop(Source* source) {
  RowStager stager(config_, resolved_);
  RowIterator* it = source->range.rows.get();
  Row row;
  while (true) {
    ConvertedBatch* out;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !source->free.empty() || stopping_; });
      if (stopping_) return;
      out = source->free.back();
      source->free.pop_back();
    }
    const auto start = std::chrono::steady_clock::now();
    out->Clear();
    Status s = it->status();
    if (it->Valid()) {
      s = it->NextBatch(kBatchRows, kBatchBytes, &out->stored);
    } else {
      out->stored.Reset(nullptr);  // an empty range
    }
    for (size_t i = 0; s.ok() && i < out->stored.size(); ++i) {
      auto visible = out->stored.DecodeRow(i, &row);
      if (!visible.ok()) s = visible.status();
      if (!s.ok() || !*visible) continue;
      const int64_t write_ms = SnapshotWriteMs(row, snapshot_.time_ms);
      stager.Convert(row, static_cast<uint32_t>(i), write_ms,
                     {"PUT", snapshot_.sequence, write_ms * 1000}, out);
    }
    out->last = !s.ok() || !it->Valid();
    const double busy =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::lock_guard lock(mu_);
    source->stats.rows += static_cast<int64_t>(out->rows.size());
    source->stats.busy_seconds += busy;
    if (!s.ok() && status_.ok()) status_ = s;
    ready_.emplace_back(source, out);
    cv_.notify_all();
    if (out->last) return;
  }
}

const ConvertedBatch* RangeScan::Next(int64_t* range) {
  std::unique_lock lock(mu_);
  if (current_.second != nullptr) {
    current_.first->free.push_back(current_.second);
    current_ = {nullptr, nullptr};
    cv_.notify_all();
  }
  cv_.wait(lock, [&] { return !ready_.empty() || running_ == 0 || !status_.ok(); });
  if (!status_.ok() || ready_.empty()) return nullptr;
  current_ = ready_.front();
  ready_.pop_front();
  if (current_.second->last) --running_;
  *range = current_.first->range.index;
  return current_.second;
}

Status RangeScan::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

std::vector<RangeScan::RangeStats> RangeScan::stats() const {
  std::lock_guard lock(mu_);
  std::vector<RangeStats> out;
  for (const auto& s : sources_) out.push_back(s->stats);
  return out;
}

}  // namespace tablelake::delivery
