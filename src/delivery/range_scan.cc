#include "delivery/range_scan.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace tablelake::delivery {

namespace {

// Moves the row groups that ended at stored row `last_source` into `out`, after the dirty rows
// that came before it.
void HandOver(std::vector<RowGroupBlock>* ended, std::vector<ConvertedBatch::Dirty>* pending,
              uint32_t last_source, ConvertedBatch* out) {
  for (auto& d : *pending) out->dirty.push_back(std::move(d));
  pending->clear();
  for (auto& b : *ended) out->groups.push_back({std::move(b), last_source, out->dirty.size()});
  ended->clear();
}

}  // namespace

struct RangeScan::Source {
  Range range;
  ConvertedBatch batches[kQueued];
  std::vector<ConvertedBatch*> free;
  RangeStats stats;
  std::thread thread;
};

RangeScan::RangeScan(std::vector<Range> ranges, const DeliveryTaskConfig& config,
                     const ResolvedTask& resolved, Snapshot snapshot, bool encode)
    : config_(config), resolved_(resolved), snapshot_(snapshot), encode_(encode) {
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
  // A group never outgrows a file (a file of the size bound holds one group at least).
  const RowGroupEncoding how{resolved_, stager.converter(),
                             std::min<int64_t>(kGroupBytes, config_.file_bytes)};
  std::unique_ptr<RowGroupEncoder> encoder;
  Status opened;
  if (encode_) {
    auto e = RowGroupEncoder::Open(how);
    opened = e.status();
    if (e.ok()) encoder = std::move(*e);
  }
  std::vector<ConvertedBatch::Dirty> pending;
  RowIterator* it = source->range.rows.get();
  Row row;
  RowViews views;
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
    Status s = opened.ok() ? it->status() : opened;
    if (!s.ok()) {
      out->stored.Reset(nullptr);
    } else if (it->Valid()) {
      s = it->NextBatch(kBatchRows, kBatchBytes, &out->stored);
    } else {
      out->stored.Reset(nullptr);  // an empty range
    }
    int64_t rows = 0;
    if (s.ok() && encoder) {
      s = Encode(stager, *encoder, &pending, &views, &row, out);
      rows = static_cast<int64_t>(out->stored.size());
    } else {
      for (size_t i = 0; s.ok() && i < out->stored.size(); ++i) {
        auto visible = out->stored.DecodeRow(i, &row);
        if (!visible.ok()) s = visible.status();
        if (!s.ok() || !*visible) continue;
        const int64_t write_ms = SnapshotWriteMs(row, snapshot_.time_ms);
        stager.Convert(row, static_cast<uint32_t>(i), write_ms,
                       {"PUT", snapshot_.sequence, write_ms * 1000}, out);
      }
      rows = static_cast<int64_t>(out->rows.size());
    }
    out->last = !s.ok() || !it->Valid();
    if (s.ok() && out->last && encoder) {
      // The range's last rows: an open group, and dirty rows after the last group's end.
      std::vector<RowGroupBlock> blocks;
      s = encoder->Finish(&blocks);
      HandOver(&blocks, &pending, static_cast<uint32_t>(out->stored.size() - 1), out);
    }
    const double busy =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::lock_guard lock(mu_);
    source->stats.rows += rows;
    source->stats.busy_seconds += busy;
    if (!s.ok() && status_.ok()) status_ = s;
    ready_.emplace_back(source, out);
    cv_.notify_all();
    if (out->last) return;
  }
}

Status RangeScan::Encode(RowStager& stager, RowGroupEncoder& encoder,
                         std::vector<ConvertedBatch::Dirty>* pending, RowViews* views, Row* decoded,
                         ConvertedBatch* out) {
  // Rows are staged from views of their stored form; a dirty row is decoded whole to be kept.
  RowViews& row = *views;
  std::vector<RowGroupBlock> ended;
  for (size_t i = 0; i < out->stored.size(); ++i) {
    TL_ASSIGN_OR_RETURN(bool visible, out->stored.DecodeRowViews(i, &row));
    if (!visible) continue;
    const int64_t write_ms = SnapshotWriteMs(row.cells, snapshot_.time_ms);
    int64_t time_ms;
    DirtyReason dirty = stager.Stage(row.primary_key, row.cells, write_ms,
                                     {"PUT", snapshot_.sequence, write_ms * 1000}, &time_ms);
    if (!dirty.empty()) {
      TL_RETURN_IF_ERROR(out->stored.DecodeRow(i, decoded).status());
      pending->push_back({*decoded, std::move(dirty.text), write_ms});
      continue;
    }
    TL_RETURN_IF_ERROR(encoder.Add(stager.converter(), &ended));
    if (!ended.empty()) HandOver(&ended, pending, static_cast<uint32_t>(i), out);
  }
  return Status::OK();
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
