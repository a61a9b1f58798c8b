#include "delivery/inc_runner.h"

#include <chrono>
#include <optional>
#include <thread>

#include "delivery/stream_pages.h"
#include "fmt/format.h"

namespace tablelake::delivery {
namespace {

// Sequences past which a batch's records are read ahead on a thread of their own.
constexpr uint64_t kReadAheadRecords = 4 * StreamPages::kPageRecords;

// Delivers change records from state.position up to `to` (exclusive) into `batch`, stopping
// early once the batch holds `max_rows` rows (0: no bound). Deletes are skipped and counted.
Status DeliverRecords(TaskRun& run, uint64_t to, BatchWriter* batch, int64_t max_rows) {
  TaskState& state = run.state;
  // A backlog is read on another core meanwhile; a few records are read here, as they come.
  std::optional<StreamPages> pages;
  if (state.position < to && to - state.position > kReadAheadRecords) {
    pages.emplace(run.store, run.task.table, state.position, to);
  }
  StreamReadResult read;
  while (state.position < to) {
    const StreamReadResult* page = &read;
    if (pages) {
      TL_ASSIGN_OR_RETURN(page, pages->Next());
    } else {
      TL_ASSIGN_OR_RETURN(
          read, run.store->ReadStream(run.task.table, state.position, StreamPages::kPageRecords));
    }
    if (page->records.empty()) {
      state.position = to;
      break;
    }
    for (const ChangeRecord& rec : page->records) {
      if (rec.sequence >= to) {
        state.position = to;
        return Status::OK();
      }
      if (rec.op == ChangeOp::kDelete && !run.task.config.change_log_columns) {
        batch->SkipDelete();
      } else {
        TL_RETURN_IF_ERROR(batch->Add(rec.primary_key, rec.row_image, rec.commit_time_us / 1000,
                                      {ChangeOpName(rec.op), rec.sequence, rec.commit_time_us}));
        // Memory is sampled (and noted before a flush, when it is the most); when the budget
        // is spent, the largest partitions go out first.
        if (batch->full() || (batch->rows() & 1023) == 0) run.NoteMemory(batch->memory_bytes());
        if (batch->full()) TL_RETURN_IF_ERROR(batch->FlushLargest(batch->buffered_bytes() / 2));
      }
      state.position = rec.sequence + 1;
      if (max_rows > 0 && batch->rows() >= max_rows) return Status::OK();
    }
  }
  return Status::OK();
}

// Publishes a batch whose end (state.position) is known: the intent [from, to) is saved
// first, so that a crash while publishing redoes exactly this batch; then its files; then
// the position, counts and file entries together.
Status CommitBatch(TaskRun& run, BatchWriter& batch) {
  TaskState& state = run.state;
  if (batch.rows() > 0) {
    state.intent_to = state.position;
    state.intent_open = false;
    TL_RETURN_IF_ERROR(run.Save());
    TL_RETURN_IF_ERROR(batch.Commit());
    ClearError(&state.status);  // progress again
  }
  state.intent_from = state.intent_to = 0;
  state.intent_open = false;
  AddCounts(batch.counts(), &state.status, &run.stats);
  return run.Commit(batch.published());
}

// A batch interrupted by a crash: what it published goes, then a batch whose end was saved is
// delivered again from the same records into the same names; one whose end was not is simply
// started again from its first record.
Status RedoIntent(TaskRun& run) {
  TaskState& state = run.state;
  run.stats.resumed = true;
  TL_RETURN_IF_ERROR(run.RemoveObjects(StemFiles(IncStem(run.task, state.intent_from))));
  state.position = state.intent_from;
  if (state.intent_to == 0) {
    state.intent_open = false;
    state.intent_from = 0;
    return run.Save();
  }
  BatchWriter redo(run.task, run.resolved, run.bucket.get(), IncStem(run.task, state.intent_from),
                   FileMetadata(run.task, state.intent_from), run.budget);
  TL_RETURN_IF_ERROR(DeliverRecords(run, state.intent_to, &redo, 0));
  return CommitBatch(run, redo);
}

// Reads change records into `batch` until the flush interval has passed, the batch is full, or
// the run is to end (`*done`: without `stop`, once every record up to `target` is in).
Status FillBatch(TaskRun& run, BatchWriter* batch, const std::atomic<bool>* stop, uint64_t target,
                 int64_t* idle_saved_us, bool* done) {
  constexpr int64_t kMaxBatchRows = 1000000;
  TaskState& state = run.state;
  const int64_t interval_us = int64_t{run.task.config.flush_interval_seconds} * 1000000;
  int64_t batch_start_us = run.clock->NowMicros();
  int64_t synced_us = 0;  // every write committed at or before it is in this batch or earlier
  while (true) {
    int64_t before_us = run.clock->NowMicros();
    TL_ASSIGN_OR_RETURN(auto snapshot, run.store->GetSnapshot());  // waits for commits in flight
    uint64_t last = snapshot->sequence();
    snapshot.reset();
    TL_RETURN_IF_ERROR(DeliverRecords(run, last + 1, batch, kMaxBatchRows));
    bool caught_up = state.position > last;
    if (caught_up) synced_us = before_us;
    if (caught_up && batch->rows() == 0 && before_us - *idle_saved_us >= 1000000) {
      // Idle: nothing waits to be published, so every write up to now is delivered. Saying so
      // once a second keeps the reported lag near zero between flushes.
      state.status.current_sync_timestamp_ns = before_us * 1000;
      TL_RETURN_IF_ERROR(run.Save());
      *idle_saved_us = before_us;
    }
    *done = stop == nullptr ? caught_up && state.position > target : stop->load();
    bool time_up = run.clock->NowMicros() - batch_start_us >= interval_us;
    if (*done || batch->rows() >= kMaxBatchRows || time_up) break;
    if (caught_up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (synced_us > 0) state.status.current_sync_timestamp_ns = synced_us * 1000;
  return Status::OK();
}

}  // namespace

// The incremental phase. Records are read in batches of at most a flush interval; each batch is
// published under names holding its first record's sequence, and filled deterministically from
// the records, so that a batch redone after a crash writes the same objects with the same rows.
Status RunIncremental(TaskRun& run, const std::atomic<bool>* stop) {
  TaskState& state = run.state;
  const DeliveryTaskDescription& task = run.task;
  state.status.phase = SyncPhase::kIncr;
  // Records older than the store's maximum hold may be gone: past it, say so rather than skip.
  int64_t synced_us = state.status.current_sync_timestamp_ns > 0
                          ? state.status.current_sync_timestamp_ns / 1000
                          : task.create_time_us;
  int64_t max_us = int64_t{run.store->options().max_change_log_hours} * 3600 * 1000000;
  if (run.clock->NowMicros() - synced_us > max_us) {
    state.status.error_code = "CHANGE_LOG_EXPIRED";
    state.status.error_detail = fmt::format(
        "the task fell more than {} hours behind; changes it has not delivered may be gone from "
        "the change log: recreate the task (BaseIncTask) to deliver the table again",
        run.store->options().max_change_log_hours);
    TL_RETURN_IF_ERROR(run.Save());
    run.error_saved = true;
    return Status::Unavailable(state.status.error_detail);
  }
  if (state.intent_open || state.intent_to > 0) TL_RETURN_IF_ERROR(RedoIntent(run));
  uint64_t target = run.store->LastSequence();  // without `stop`: what was committed before now
  int64_t idle_saved_us = 0;
  while (true) {
    uint64_t from = state.position;
    // Saved before anything of the batch can be published (a file may end on its size bound
    // long before the batch does).
    state.intent_from = from;
    state.intent_open = true;
    TL_RETURN_IF_ERROR(run.Save());
    BatchWriter batch(task, run.resolved, run.bucket.get(), IncStem(task, from),
                      FileMetadata(task, from), run.budget);
    bool done = false;
    Status delivered = FillBatch(run, &batch, stop, target, &idle_saved_us, &done);
    if (delivered.ok()) delivered = CommitBatch(run, batch);
    if (!delivered.ok()) {
      // As for a base segment: the failed batch's objects go where the bucket allows.
      (void)run.RemoveObjects(StemFiles(IncStem(task, from)));
      return delivered;
    }
    TL_RETURN_IF_ERROR(run.store->HoldChangeLog(task.table, HoldName(task.name), state.position));
    if (run.progress && batch.rows() > 0) {
      int64_t since_us = state.status.current_sync_timestamp_ns > 0
                             ? state.status.current_sync_timestamp_ns / 1000
                             : task.create_time_us;
      std::fprintf(run.progress, "deliver %s: published %lld rows in %lld files, lag %.1f s\n",
                   task.name.c_str(), static_cast<long long>(batch.counts().rows_delivered),
                   static_cast<long long>(batch.counts().files_written),
                   std::max<int64_t>(0, run.clock->NowMicros() - since_us) / 1e6);
    }
    if (done) return Status::OK();
  }
}

}  // namespace tablelake::delivery
