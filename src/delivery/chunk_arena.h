// Memory for grouped rows (partition_buffers.h). Buffers fill to the memory budget, spill, and
// fill again; from malloc, every refill faults its pages in anew, 4 KiB at a time, which cost a
// many-partition scan a fifth of its time on a virtual machine. Here chunks are carved from slabs
// of 2 MiB (huge pages where the system gives them), and slabs are kept for the
// next buffers while delivery runs.
#pragma once

#include <array>
#include <cstddef>
#include <mutex>
#include <vector>

namespace tablelake::delivery {

// Slabs shared by the buffers of a process's delivery tasks (one per MemoryBudget).
class SlabPool {
 public:
  static constexpr size_t kSlabBytes = size_t{2} << 20;
  SlabPool() = default;
  ~SlabPool() { Trim(); }
  SlabPool(const SlabPool&) = delete;
  SlabPool& operator=(const SlabPool&) = delete;

  // A slab, nullptr when the system has no memory left.
  char* Get();
  void Put(char* slab);
  // Returns the slabs nobody uses to the system (when a task's run ends).
  void Trim();

 private:
  std::mutex mu_;
  std::vector<char*> free_;
};

// One buffer set's chunks: sizes from 512 B to 256 KiB, powers of two, carved from slabs, with
// freed chunks kept by size for the next ones; larger ones (a record of a wide row) come from
// malloc. Not thread-safe: one thread groups rows.
class ChunkArena {
 public:
  static constexpr size_t kSmallest = 512, kLargest = 256 << 10;
  explicit ChunkArena(SlabPool* pool) : pool_(pool) {}
  ~ChunkArena() { Reset(); }
  ChunkArena(const ChunkArena&) = delete;
  ChunkArena& operator=(const ChunkArena&) = delete;

  // `bytes` is a power of two from kSmallest to kLargest, or larger than kLargest.
  char* Allocate(size_t bytes);
  void Free(char* chunk, size_t bytes);
  // Frees every chunk at once; the slabs go back to the pool.
  void Reset();

 private:
  static size_t Class(size_t bytes);  // 0 for kSmallest ... 9 for kLargest

  SlabPool* pool_;
  std::vector<char*> slabs_;
  char* cursor_ = nullptr;  // where the next chunk of the newest slab starts
  size_t left_ = 0;         // bytes left in the newest slab
  std::array<std::vector<char*>, 10> free_;
  std::vector<char*> large_;  // malloc'd chunks not yet freed
};

}  // namespace tablelake::delivery
