// The memory that delivery may hold in one process, shared by the tasks it runs: partition
// buffers take from it as they grow (and spill or flush when it is spent), Parquet writers take
// their row groups and queued batches while a file is open.
#pragma once

#include <atomic>
#include <cstdint>

#include "delivery/chunk_arena.h"

namespace tablelake::delivery {

class MemoryBudget {
 public:
  explicit MemoryBudget(int64_t limit) : limit_(limit) {}

  // Takes `bytes` if they fit in what is left; false (and nothing taken) if not.
  bool TryTake(int64_t bytes) {
    int64_t used = used_.load(std::memory_order_relaxed);
    while (used + bytes <= limit_) {
      if (used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  // Takes `bytes` whether or not they fit: memory a writer cannot do without.
  void Take(int64_t bytes) { used_.fetch_add(bytes, std::memory_order_relaxed); }
  void Give(int64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  int64_t used() const { return used_.load(std::memory_order_relaxed); }
  int64_t limit() const { return limit_; }
  // Where grouped rows' memory comes from, kept between spills.
  SlabPool& slabs() { return slabs_; }

 private:
  const int64_t limit_;
  SlabPool slabs_;
  std::atomic<int64_t> used_{0};
};

}  // namespace tablelake::delivery
