#include "delivery/chunk_arena.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace tablelake::delivery {

char* SlabPool::Get() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_.empty()) {
      char* slab = free_.back();
      free_.pop_back();
      return slab;
    }
  }
  // Twice the size, then the unaligned ends go: a slab aligned to 2 MiB can be one huge page
  // where the system's policy gives them (transparent_hugepage=always). Not asked for with
  // MADV_HUGEPAGE: under the common defrag=madvise, that makes a fault wait for the kernel to
  // compact memory into a huge page; on a VM handing freed memory back to its host, the 256 MiB
  // of a full budget then cost 0.5-1.3 s of system time (issue 10's 10M-row scenario: 3.4 s
  // instead of 4.3 s, median of six runs each).
  constexpr size_t kMapped = 2 * kSlabBytes;
  void* p = ::mmap(nullptr, kMapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  auto start = reinterpret_cast<uintptr_t>(p);
  uintptr_t aligned = (start + kSlabBytes - 1) & ~(uintptr_t{kSlabBytes} - 1);
  if (aligned > start) ::munmap(p, aligned - start);
  size_t tail = start + kMapped - (aligned + kSlabBytes);
  if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + kSlabBytes), tail);
  return reinterpret_cast<char*>(aligned);
}

void SlabPool::Put(char* slab) {
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(slab);
}

void SlabPool::Trim() {
  std::lock_guard<std::mutex> lock(mu_);
  for (char* slab : free_) ::munmap(slab, kSlabBytes);
  free_.clear();
}

size_t ChunkArena::Class(size_t bytes) {
  size_t c = 0;
  for (size_t size = kSmallest; size < bytes; size <<= 1) ++c;
  return c;
}

char* ChunkArena::Allocate(size_t bytes) {
  if (bytes > kLargest) {
    char* chunk = static_cast<char*>(std::malloc(bytes));
    if (chunk == nullptr) throw std::bad_alloc();
    large_.push_back(chunk);
    return chunk;
  }
  std::vector<char*>& spare = free_[Class(bytes)];
  if (!spare.empty()) {
    char* chunk = spare.back();
    spare.pop_back();
    return chunk;
  }
  if (left_ < bytes) {
    // What is left of the slab (a multiple of 512 B) goes to the free lists, largest first.
    for (size_t size = kLargest; left_ >= kSmallest; size >>= 1) {
      while (left_ >= size) {
        free_[Class(size)].push_back(cursor_);
        cursor_ += size;
        left_ -= size;
      }
    }
    char* slab = pool_->Get();
    if (slab == nullptr) throw std::bad_alloc();
    slabs_.push_back(slab);
    cursor_ = slab;
    left_ = SlabPool::kSlabBytes;
  }
  char* chunk = cursor_;
  cursor_ += bytes;
  left_ -= bytes;
  return chunk;
}

void ChunkArena::Free(char* chunk, size_t bytes) {
  if (bytes <= kLargest) {
    free_[Class(bytes)].push_back(chunk);
    return;
  }
  auto it = std::find(large_.rbegin(), large_.rend(), chunk);
  if (it != large_.rend()) large_.erase(std::next(it).base());
  std::free(chunk);
}

void ChunkArena::Reset() {
  for (char* slab : slabs_) pool_->Put(slab);
  slabs_.clear();
  for (auto& spare : free_) spare.clear();
  for (char* chunk : large_) std::free(chunk);
  large_.clear();
  cursor_ = nullptr;
  left_ = 0;
}

}  // namespace tablelake::delivery
