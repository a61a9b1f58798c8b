// The incremental phase of a delivery task (IncTask, and BaseIncTask after its full phase):
// change records from the task's position on, in batches of at most a flush interval. Each
// batch is published under names holding its first record's sequence and filled
// deterministically from the records: its end is saved before its files are published, so that
// a batch redone after a crash writes the same objects with the same rows.
#pragma once

#include <atomic>

#include "delivery/task_run.h"

namespace tablelake::delivery {

// Delivers batches until every record committed before the call is delivered (`stop` null),
// or until `*stop` (a running service).
Status RunIncremental(TaskRun& run, const std::atomic<bool>* stop);

}  // namespace tablelake::delivery
