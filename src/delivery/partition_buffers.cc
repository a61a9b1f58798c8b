#include "delivery/partition_buffers.h"

#include <algorithm>

#include "common/coding.h"

namespace tablelake::delivery {
namespace {
constexpr int64_t kChargeChunk = 1 << 20;  // the budget is taken a MiB at a time
}  // namespace

void AppendRecord(std::string* out, std::string_view encoded, size_t row_bytes) {
  PutVarint64(out, row_bytes);
  PutLengthPrefixed(out, encoded);
}

Result<bool> RecordReader::Next(std::string_view* row, size_t* row_bytes) {
  if (in_.empty()) return false;
  uint64_t bytes;
  if (!GetVarint64(&in_, &bytes) || !GetLengthPrefixed(&in_, row)) {
    return Status::Corruption("a grouped row record is cut short");
  }
  *row_bytes = static_cast<size_t>(bytes);
  return true;
}

bool PartitionBuffers::Add(const std::string& partition, std::string_view encoded,
                           size_t row_bytes) {
  // Consecutive rows mostly share a partition: skip the map lookup then.
  if (last_ == buffers_.end() || last_->first != partition) {
    last_ = buffers_.try_emplace(partition).first;
    if (last_->second.rows == 0) bytes_ += Footprint(partition, last_->second);
  }
  PartitionBuffer& b = last_->second;
  size_t capacity = b.records.capacity();
  AppendRecord(&b.records, encoded, row_bytes);
  bytes_ += static_cast<int64_t>(b.records.capacity() - capacity);
  ++b.rows;
  b.row_bytes += static_cast<int64_t>(row_bytes);
  if (bytes_ > charged_) Charge();
  return !over_;
}

void PartitionBuffers::Charge() {
  int64_t want = (bytes_ - charged_ + kChargeChunk - 1) / kChargeChunk * kChargeChunk;
  if (budget_->TryTake(want)) {
    charged_ += want;
  } else {
    budget_->Take(want);  // held anyway until the caller spills or flushes
    charged_ += want;
    over_ = true;
  }
}

PartitionBuffer PartitionBuffers::Take(const std::string& partition) {
  auto it = buffers_.find(partition);
  if (it == buffers_.end()) return {};
  if (it == last_) last_ = buffers_.end();
  bytes_ -= Footprint(it->first, it->second);
  PartitionBuffer b = std::move(it->second);
  buffers_.erase(it);
  // Give back whole chunks no longer used.
  int64_t spare = (charged_ - std::max<int64_t>(bytes_, 0)) / kChargeChunk * kChargeChunk;
  budget_->Give(spare);
  charged_ -= spare;
  over_ = false;
  return b;
}

void PartitionBuffers::Clear() {
  buffers_.clear();
  last_ = buffers_.end();
  budget_->Give(charged_);
  bytes_ = charged_ = 0;
  over_ = false;
}

std::string PartitionBuffers::Largest() const {
  auto it = std::max_element(buffers_.begin(), buffers_.end(), [](const auto& a, const auto& b) {
    return a.second.records.size() < b.second.records.size();
  });
  return it == buffers_.end() ? "" : it->first;
}

}  // namespace tablelake::delivery
