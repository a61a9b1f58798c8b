// Sorted runs: partition buffers spilled to local files when the memory budget is spent, so
// that a full delivery groups every partition's rows however large the table. A run holds
// blocks in partition order:
//   'B', varint name size, name, varint rows, varint block size, the block (buffer records)
//   'P', varint name size, name, varint value bytes, varint block size, the block: an encoded
//        row group (row_group_encoder.h) as varint metadata size, metadata, bytes
// and ends with "E", the magic "TLRUN2\n" and the XXH3 hash of the bytes before it. Runs are
// written whole before the state that lists them is saved, so a run a crash of the process cut
// short is never listed: it is removed and its rows scanned again. Runs are not synced: they are
// scratch, read back moments later, mostly from the page cache (syncing B's 180 MB of runs cost
// half a second of a 4 s delivery). A crash of the machine may leave a listed run without its
// tail, so a resumed attempt checks its runs' hashes first (VerifyRun) and starts over when one
// is damaged.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "delivery/partition_buffers.h"
#include "delivery/row_group_encoder.h"
#include "tablelake/status.h"

namespace tablelake::delivery {

// Writes `buffers` as run `path`: with `encoding`, buffers large enough as row groups
// (encoded on this thread and one more), the others as records.
Status WriteRun(const std::string& path, const PartitionBuffers& buffers,
                const RowGroupEncoding* encoding = nullptr);

// Whether run `path` is whole: its bytes match the hash at its end (Corruption naming the file
// when they do not). A run of the earlier layout, which was synced, has no hash to check.
Status VerifyRun(const std::string& path);

// Reads a run's blocks in order, one record at a time.
class RunReader {
 public:
  static Result<std::unique_ptr<RunReader>> Open(const std::string& path);
  ~RunReader();

  // The partition of the block the reader stands at; empty at the end.
  const std::string& partition() const { return partition_; }
  bool done() const { return done_; }
  // Whether the current block is an encoded row group (ReadRowGroup) rather than records.
  bool row_group() const { return row_group_; }
  // The next record of the current block; false at its end (or when it holds a row group).
  Result<bool> NextRow(std::string_view* row, size_t* row_bytes);
  // The current block's row group.
  Result<RowGroupBlock> ReadRowGroup();
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
  bool row_group_ = false;
  uint64_t value_bytes_ = 0;  // a row group block's
  uint64_t block_left_ = 0;   // bytes of the current block not read yet
  std::string scratch_;
};

}  // namespace tablelake::delivery
