// Where a file's bytes go (a Parquet file, an object). A file appears complete only after Commit: a
// writer that fails or is abandoned calls Abort and leaves nothing that looks like a finished file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tablelake/status.h"

namespace tablelake {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status Append(std::string_view data) = 0;
  // Makes the file visible, whole. Nothing may be appended after.
  virtual Status Commit() = 0;
  // Discards everything written. Safe to call more than once, and after a failed Commit.
  virtual void Abort() = 0;
  virtual int64_t Tell() const = 0;
};

// Writes `path` through a temporary file beside it, renamed onto `path` by Commit (atomic in
// one file system). `sync`: fsync the file and its folder before the rename returns.
// `no_replace`: Commit fails with AlreadyExists, leaving it as it is, when `path` exists.
// `deferred`: the temporary, and the folders above it, are created only when the first bytes
// go out (past the sink's 1 MiB buffer, or at Commit), on the thread that writes them - so a
// small file costs the file system nothing until it is finished, and nothing if abandoned.
Result<std::unique_ptr<Sink>> NewFileSink(const std::string& path, bool sync = false,
                                          bool no_replace = false, bool deferred = false);

// Collects the bytes in memory; Commit hands them to `*out`.
std::unique_ptr<Sink> NewStringSink(std::string* out);

}  // namespace tablelake
