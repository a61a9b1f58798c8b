// Sorted runs: partition buffers spilled to local files when the memory budget is spent, so
// that a full delivery groups every partition's rows however large the table. A run holds
// blocks in partition order:
//   'B', varint name size, name, varint rows, varint block size, the block (buffer records)
// and ends with "E" and the magic "TLRUN1\n". Runs are written whole (then fsynced) before the
// state that lists them is saved, so a run a crash cut short is never listed: it is removed and its
// rows scanned again.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "delivery/partition_buffers.h"
#include "tablelake/status.h"

namespace tablelake::delivery {

// Writes `buffers` as run `path`, durably.
Status WriteRun(const std::string& path, const PartitionBuffers& buffers);

// Reads a run's blocks in order, one record at a time.
class RunReader {
 public:
  static Result<std::unique_ptr<RunReader>> Open(const std::string& path);
  ~RunReader();

  // The partition of the block the reader stands at; empty at the end.
  const std::string& partition() const { return partition_; }
  bool done() const { return done_; }
  // The next record of the current block; false at its end.
  Result<bool> NextRow(std::string_view* row, size_t* row_bytes);
  // Moves to the next block (skipping what is left of this one).
  Status NextBlock();

 private:
  RunReader(std::string path, FILE* file) : path_(std::move(path)), file_(file) {}
  Status Corrupt(const char* what) const;
  bool ReadVarint(uint64_t* v, uint64_t* consumed = nullptr);

  std::string path_;
  FILE* file_;
  std::string partition_;
  bool done_ = false;
  uint64_t block_left_ = 0;  // bytes of the current block not read yet
  std::string scratch_;
};

}  // namespace tablelake::delivery
