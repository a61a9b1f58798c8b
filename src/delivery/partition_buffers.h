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
  // partitions (PartitionNames), finds the buffer without hashing the name.
  bool Add(const std::string& partition, std::string_view encoded, size_t row_bytes,
           uint32_t id = PartitionBuffer::kNoId);
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
  int64_t last_row_bytes() const { return last_ == nullptr ? 0 : last_->second.row_bytes; }
  // The partition holding the most bytes ("" when empty).
  std::string Largest() const;

 private:
  static int64_t Footprint(const std::string& partition, const PartitionBuffer& b) {
    return static_cast<int64_t>(partition.size()) + b.capacity +
           static_cast<int64_t>(b.chunks.capacity() * sizeof(Chunk)) + 128;
  }
  void Charge();  // takes from the budget what bytes_ has grown past charged_
  // `partition`'s buffer, made empty when there is none.
  Entry* Find(const std::string& partition, uint32_t id);

  MemoryBudget* budget_;
  ChunkArena arena_;
  std::unordered_map<std::string, PartitionBuffer> buffers_;
  std::vector<Entry*> by_id_;  // buffers by their partition's number (elements do not move)
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

void AppendRecord(std::string* out, std::string_view encoded, size_t row_bytes);
size_t RecordSize(std::string_view encoded, size_t row_bytes);

}  // namespace tablelake::delivery
