// One run of a delivery task, as the runners of its phases (base_runner.h, inc_runner.h) share
// it: the task, its state as last committed plus what the run has done since, its bucket, and
// the services the run uses.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <vector>

#include "delivery/batch_writer.h"
#include "delivery/memory_budget.h"
#include "delivery/object_names.h"
#include "delivery/partition_files.h"
#include "delivery/task_config.h"
#include "delivery/task_state.h"
#include "objectstore/object_store.h"
#include "tablelake/delivery.h"
#include "tablelake/table_store.h"

namespace tablelake::delivery {

struct TaskRun {
  TableStore* store;
  Clock* clock;          // the store's: tests that drive time drive delivery's too
  FILE* progress;        // progress lines, or null
  MemoryBudget* budget;  // the process's, for delivery
  DeliveryTaskDescription& task;
  TaskState& state;
  DeliveryRunStats& stats;
  ResolvedTask resolved;
  std::unique_ptr<ObjectStore> bucket;
  int scan_ranges = 1;       // at most, for a new attempt's scan; 0: by the cores (DeliveryOptions)
  bool error_saved = false;  // the failure is already in the task's status
  std::atomic<int64_t>* memory_now = nullptr;  // what describe reports while the run goes on
  // Set when the run is to stop (SIGINT, a server stopping the task): the base scan and merge
  // commit what they hold at the next row batch and return, resumable (stats.stopped).
  const std::atomic<bool>* stop = nullptr;
  // Whether the run is to stop now; a yes is recorded in stats.stopped.
  bool Stopping() {
    stats.stopped = stop != nullptr && stop->load(std::memory_order_relaxed);
    return stats.stopped;
  }

  // What the run's grouped rows and open files hold now.
  void NoteMemory(int64_t bytes) {
    stats.peak_memory_bytes = std::max(stats.peak_memory_bytes, bytes);
    if (memory_now != nullptr) memory_now->store(bytes, std::memory_order_relaxed);
  }

  Status Save() const { return SaveState(store, task, state); }
  // Saves the state with entries for `files`, in one atomic write.
  Status Commit(const std::vector<PublishedFile>& files) const {
    return CommitState(store, task, state, files, clock->NowMillis());
  }
  // Deletes what the task published under its prefixes whose file name `matches`.
  Status RemoveObjects(const FileMatcher& matches) const {
    return delivery::RemoveObjects(bucket.get(), resolved, matches);
  }
};

}  // namespace tablelake::delivery
