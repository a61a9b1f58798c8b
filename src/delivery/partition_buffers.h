// Rows grouped by partition before they are written, so that a partition gets one file per
// flush however its rows arrive. Rows wait in the compact form RowConverter::Encode gives
// them (converted once), each as a record
//   varint row_bytes (RowConverter::row_bytes, what the file size bound counts), varint size,
//   the encoded row
// and the buffers' memory is charged to a MemoryBudget: when it is spent, Add says so and the
// caller spills the buffers to a run (base phase) or writes the largest ones out (incremental).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "delivery/chunk_arena.h"
#include "delivery/memory_budget.h"
#include "tablelake/status.h"

namespace tablelake::delivery {

void AppendRecord(std::string* out, std::string_view encoded, size_t row_bytes);
size_t RecordSize(std::string_view encoded, size_t row_bytes);

// Records in memory from a ChunkArena.
struct Chunk {
  char* data;
  size_t size;
  size_t capacity;
  std::string_view view() const { return {data, size}; }
};

// A partition's records, in chunks that grow with the partition (from 512 bytes to 256 KiB,
// or one record when larger) and are never copied as it grows; no record spans two chunks.
struct PartitionBuffer {
  static constexpr uint32_t kNoId = UINT32_MAX;
  uint32_t id = kNoId;  // the number the caller knows its partition by, if any
  std::vector<Chunk> chunks;
  int64_t rows = 0;
  int64_t row_bytes = 0;  // the sum of its rows' row_bytes
  int64_t size = 0;       // bytes of records
  int64_t capacity = 0;   // bytes the chunks hold
};

class PartitionBuffers {
 public:
  explicit PartitionBuffers(MemoryBudget* budget) : budget_(budget), arena_(&budget->slabs()) {}
  ~PartitionBuffers() { Clear(); }
  PartitionBuffers(const PartitionBuffers&) = delete;
  PartitionBuffers& operator=(const PartitionBuffers&) = delete;

  // Adds a row to `partition`'s buffer. False when the budget has no room left for it (it is
  // added all the same): the caller spills or flushes next. `id`, when the caller numbers its
  // partitions (PartitionNames), finds the buffer without hashing the name, and a row that fits
  // its buffer's newest chunk touches only that partition's slot and the bytes it writes.
  bool Add(const std::string& partition, std::string_view encoded, size_t row_bytes,
           uint32_t id = PartitionBuffer::kNoId) {
    if (id < slots_.size()) {
      Slot& s = slots_[id];
      const size_t n = RecordSize(encoded, row_bytes);
      if (static_cast<size_t>(s.limit - s.cursor) >= n) {
        s.cursor = WriteRecord(s.cursor, encoded, row_bytes);
        ++s.rows;
        s.row_bytes += static_cast<int64_t>(row_bytes);
        s.size += static_cast<int64_t>(n);
        last_slot_ = &s;
        return !over_;
      }
    }
    return AddSlow(partition, encoded, row_bytes, id);
  }
  // Fetches into the cache where the next row of partition `id` would be written.
  void Prefetch(uint32_t id) const {
    if (id < slots_.size()) __builtin_prefetch(slots_[id].cursor, 1);
  }
  // Removes `partition`'s buffer from the set; its memory is the budget's until Release.
  PartitionBuffer Take(const std::string& partition);
  // Gives back the memory of a buffer that Take removed.
  void Release(PartitionBuffer* b);
  void Clear();

  using Entry = std::pair<const std::string, PartitionBuffer>;
  // In partition order: how spill runs hold them.
  std::vector<const Entry*> Sorted() const;
  bool Has(const std::string& partition) const { return buffers_.count(partition) > 0; }
  // Any partition held (empty() must be false).
  const std::string& AnyPartition() const { return buffers_.begin()->first; }
  bool empty() const { return buffers_.empty(); }
  int64_t bytes() const { return bytes_; }
  // The row_bytes of the buffer the last Add went to.
  int64_t last_row_bytes() const {
    return last_slot_ != nullptr ? last_slot_->row_bytes
                                 : (last_ == nullptr ? 0 : last_->second.row_bytes);
  }
  // The partition holding the most bytes ("" when empty).
  std::string Largest() const;

 private:
  static int64_t Footprint(const std::string& partition, const PartitionBuffer& b) {
    return static_cast<int64_t>(partition.size()) + b.capacity +
           static_cast<int64_t>(b.chunks.capacity() * sizeof(Chunk)) + 128;
  }
  // A numbered partition's buffer as Add sees it: where its newest chunk takes the next record,
  // and its counts, which its PartitionBuffer only gets when it is read (Sync): with hundreds
  // of partitions, a row that touched the buffer's map node, its chunk list and the chunk waited
  // for three cache misses; the slots of 720 partitions take 35 KiB.
  struct Slot {
    char* cursor = nullptr;  // in the newest chunk
    char* limit = nullptr;   // that chunk's end
    Entry* entry = nullptr;
    int64_t rows = 0, row_bytes = 0, size = 0;
  };
  static char* WriteRecord(char* out, std::string_view encoded, size_t row_bytes);
  bool AddSlow(const std::string& partition, std::string_view encoded, size_t row_bytes,
               uint32_t id);
  // Brings the buffers of numbered partitions up to date with their slots.
  void Sync(const Slot& s) const;
  void SyncAll() const;
  void Charge();  // takes from the budget what bytes_ has grown past charged_
  // `partition`'s buffer, made empty when there is none.
  Entry* Find(const std::string& partition, uint32_t id);

  MemoryBudget* budget_;
  ChunkArena arena_;
  // Mutable: what is read of a numbered partition's buffer comes from its slot first (Sync).
  mutable std::unordered_map<std::string, PartitionBuffer> buffers_;
  std::vector<Slot> slots_;  // by their partition's number (entries do not move)
  Slot* last_slot_ = nullptr;
  Entry* last_ = nullptr;
  int64_t bytes_ = 0;    // the buffers' footprint
  int64_t charged_ = 0;  // what this holds of the budget: bytes_ rounded up to a chunk
  bool over_ = false;
};

// Reads the records of a buffer (or of a run's block) one by one.
class RecordReader {
 public:
  explicit RecordReader(std::string_view records) : in_(records) {}
  // The next row and its row_bytes; false at the end. Corruption when a record is cut short.
  Result<bool> Next(std::string_view* row, size_t* row_bytes);

 private:
  std::string_view in_;
};

// Calls fn(row, row_bytes) for each record of `b`, in the order added; stops at fn's first error.
template <typename Fn>
Status ForEachRecord(const PartitionBuffer& b, Fn&& fn) {
  std::string_view row;
  size_t row_bytes;
  for (const Chunk& chunk : b.chunks) {
    RecordReader records(chunk.view());
    while (true) {
      TL_ASSIGN_OR_RETURN(bool more, records.Next(&row, &row_bytes));
      if (!more) break;
      TL_RETURN_IF_ERROR(fn(row, row_bytes));
    }
  }
  return Status::OK();
}

}  // namespace tablelake::delivery
