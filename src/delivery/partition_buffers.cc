#include "delivery/partition_buffers.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "common/coding.h"

namespace tablelake::delivery {
namespace {
constexpr int64_t kChargeChunk = 1 << 20;  // the budget is taken a MiB at a time
constexpr size_t kFirstChunk = ChunkArena::kSmallest, kLargestChunk = ChunkArena::kLargest;

}  // namespace

void AppendRecord(std::string* out, std::string_view encoded, size_t row_bytes) {
  PutVarint64(out, row_bytes);
  PutLengthPrefixed(out, encoded);
}

size_t RecordSize(std::string_view encoded, size_t row_bytes) {
  return VarintLength(row_bytes) + VarintLength(encoded.size()) + encoded.size();
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

PartitionBuffers::Entry* PartitionBuffers::Find(const std::string& partition, uint32_t id) {
  if (id != PartitionBuffer::kNoId && id < slots_.size() && slots_[id].entry != nullptr) {
    return slots_[id].entry;
  }
  auto [it, added] = buffers_.try_emplace(partition);
  Entry* e = &*it;
  if (added) bytes_ += Footprint(partition, e->second);
  if (id != PartitionBuffer::kNoId) {
    if (id >= slots_.size()) {
      // Slots move: the last Add's is found again by number.
      const uint32_t last = last_slot_ == nullptr ? 0 : last_slot_ - slots_.data();
      slots_.resize(std::max<size_t>(id + 1, 2 * slots_.size()));
      if (last_slot_ != nullptr) last_slot_ = &slots_[last];
    }
    slots_[id].entry = e;
    e->second.id = id;
  }
  return e;
}

char* PartitionBuffers::WriteRecord(char* out, std::string_view encoded, size_t row_bytes) {
  out = EncodeVarint64(out, row_bytes);
  out = EncodeVarint64(out, encoded.size());
  std::memcpy(out, encoded.data(), encoded.size());
  return out + encoded.size();
}

void PartitionBuffers::Sync(const Slot& s) const {
  PartitionBuffer& b = s.entry->second;
  b.rows = s.rows;
  b.row_bytes = s.row_bytes;
  b.size = s.size;
  if (!b.chunks.empty())
    b.chunks.back().size = static_cast<size_t>(s.cursor - b.chunks.back().data);
}

void PartitionBuffers::SyncAll() const {
  for (const Slot& s : slots_) {
    if (s.entry != nullptr) Sync(s);
  }
}

bool PartitionBuffers::AddSlow(const std::string& partition, std::string_view encoded,
                               size_t row_bytes, uint32_t id) {
  // Consecutive rows mostly share a partition: skip the lookup then.
  if (last_ == nullptr ||
      (id != PartitionBuffer::kNoId ? last_->second.id != id : last_->first != partition)) {
    last_ = Find(partition, id);
  }
  PartitionBuffer& b = last_->second;
  Slot* slot = b.id == PartitionBuffer::kNoId ? nullptr : &slots_[b.id];
  if (slot != nullptr) Sync(*slot);
  size_t n = RecordSize(encoded, row_bytes);
  if (b.chunks.empty() || b.chunks.back().size + n > b.chunks.back().capacity) {
    size_t last = b.chunks.empty() ? 0 : b.chunks.back().capacity;
    size_t chunk = std::clamp(2 * last, kFirstChunk, kLargestChunk);
    if (n > chunk) chunk = n <= kLargestChunk ? std::bit_ceil(n) : n;
    int64_t before = Footprint(partition, b);
    b.chunks.push_back({arena_.Allocate(chunk), 0, chunk});
    b.capacity += static_cast<int64_t>(chunk);
    bytes_ += Footprint(partition, b) - before;
  }
  Chunk& c = b.chunks.back();
  WriteRecord(c.data + c.size, encoded, row_bytes);
  c.size += n;
  b.size += static_cast<int64_t>(n);
  ++b.rows;
  b.row_bytes += static_cast<int64_t>(row_bytes);
  last_slot_ = slot;
  if (slot != nullptr) {
    *slot = {c.data + c.size, c.data + c.capacity, last_, b.rows, b.row_bytes, b.size};
  }
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
  if (&*it == last_) last_ = nullptr;
  if (it->second.id != PartitionBuffer::kNoId) {
    Slot& s = slots_[it->second.id];
    Sync(s);
    if (&s == last_slot_) last_slot_ = nullptr;
    s = Slot();
  }
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

void PartitionBuffers::Release(PartitionBuffer* b) {
  for (const Chunk& c : b->chunks) arena_.Free(c.data, c.capacity);
  b->chunks.clear();
}

void PartitionBuffers::Clear() {
  buffers_.clear();
  arena_.Reset();
  slots_.clear();
  last_slot_ = nullptr;
  last_ = nullptr;
  budget_->Give(charged_);
  bytes_ = charged_ = 0;
  over_ = false;
}

std::string PartitionBuffers::Largest() const {
  SyncAll();
  auto it = std::max_element(buffers_.begin(), buffers_.end(), [](const auto& a, const auto& b) {
    return a.second.size < b.second.size;
  });
  return it == buffers_.end() ? "" : it->first;
}

std::vector<const PartitionBuffers::Entry*> PartitionBuffers::Sorted() const {
  SyncAll();
  std::vector<const Entry*> out;
  out.reserve(buffers_.size());
  for (const auto& e : buffers_) out.push_back(&e);
  std::sort(out.begin(), out.end(),
            [](const Entry* a, const Entry* b) { return a->first < b->first; });
  return out;
}

}  // namespace tablelake::delivery
