// Dirty rows: rows a task cannot deliver (a value that does not fit its column, an event time
// that does not parse), kept for the user where the task names a dirty prefix.
#pragma once

#include <string>

#include "delivery/task_config.h"
#include "objectstore/object_store.h"

namespace tablelake::delivery {

// Dirty rows as JSON lines, {"row": ..., "reason": ...}, published in parts. The prefix's time
// variables take the first dirty row's time, so that a batch done again writes the same keys.
class DirtyRows {
 public:
  DirtyRows(ObjectStore* bucket, const ResolvedTask& resolved, bool enabled, std::string stem)
      : bucket_(bucket), resolved_(resolved), enabled_(enabled), stem_(std::move(stem)) {}
  Status Add(const Row& row, const std::string& reason, int64_t time_ms);
  Status Flush();
  int64_t files() const { return part_; }

 private:
  ObjectStore* bucket_;
  const ResolvedTask& resolved_;
  bool enabled_;
  std::string stem_;
  std::string prefix_;
  std::string buffer_;
  int part_ = 0;
};

}  // namespace tablelake::delivery
