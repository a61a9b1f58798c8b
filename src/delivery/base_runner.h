// The base phase of a delivery task (BaseTask, and BaseIncTask's full phase): every row of a
// durable snapshot of the table, delivered exactly once.
//
// Commit protocol (docs/delivery.md): each run is an attempt with a number kept in the task's
// state. An attempt takes a durable snapshot and scans it in segments; each segment's files are
// published under names holding the attempt and segment, then the scan position, the segment's
// counts and its file entries are saved in one atomic write. A run that resumes a segment first
// deletes whatever that segment had published. After the last segment come the manifest and
// _SUCCESS, and only then is the phase recorded as done. A new attempt (its snapshot lost)
// first deletes every object an earlier attempt published, so the bucket ends up holding each
// row of one snapshot exactly once.
#pragma once

#include "delivery/task_run.h"

namespace tablelake::delivery {

// Delivers the snapshot, resuming an interrupted attempt where it can.
Status RunBase(TaskRun& run);
// Removes the finished snapshot's checkpoint and spill runs and forgets them: the end of
// RunBase, and at the start of a run whose previous one stopped between the two.
Status ReleaseSnapshot(TaskRun& run);
// Removes an attempt's spill runs (with its task, or a new attempt).
void RemoveSpillRuns(const TaskState& state);

}  // namespace tablelake::delivery
