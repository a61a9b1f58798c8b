#include "delivery/base_runner.h"

#include <filesystem>

#include "common/progress.h"
#include "delivery/row_prefetcher.h"
#include "fmt/format.h"
#include "store/row_json.h"

namespace tablelake::delivery {
namespace {

using nlohmann::json;

Status StartAttempt(TaskRun& run);
Status DeliverSnapshot(TaskRun& run);
Status CommitSegment(TaskRun& run, std::unique_ptr<BatchWriter> batch, const PrimaryKey& last);
Status FinishBase(TaskRun& run);

}  // namespace

Status RunBase(TaskRun& run) {
  TaskState& state = run.state;
  bool resumable = !state.checkpoint.empty() && !state.checkpoint_path.empty() &&
                   std::filesystem::is_directory(state.checkpoint_path);
  if (!resumable) {
    TL_RETURN_IF_ERROR(StartAttempt(run));
  } else {
    run.stats.resumed = true;
    if (run.progress) {
      std::fprintf(run.progress, "deliver %s: resuming the snapshot scan at segment %lld\n",
                   run.task.name.c_str(), static_cast<long long>(state.segment));
    }
    // The segment may have published some of its files before the interruption.
    TL_RETURN_IF_ERROR(
        run.RemoveObjects(StemFiles(BaseStem(run.task, state.attempt, state.segment))));
  }
  TL_RETURN_IF_ERROR(DeliverSnapshot(run));
  TL_RETURN_IF_ERROR(FinishBase(run));
  return run.store->DropCheckpoint(state.checkpoint);
}

namespace {

// A new attempt: an earlier one whose snapshot is gone leaves its files to be removed.
Status StartAttempt(TaskRun& run) {
  TaskState& state = run.state;
  const DeliveryTaskDescription& task = run.task;
  if (state.attempt > 0) {
    FileMatcher matches = AnyBaseFile(task);
    TL_RETURN_IF_ERROR(run.RemoveObjects(matches));
    TL_ASSIGN_OR_RETURN(auto entries,
                        run.store->ListMetadata(FilesPrefix(task.table, task.name)));
    std::vector<std::string> stale;
    for (const auto& [key, value] : entries) {
      if (matches(FileName(key))) stale.push_back(key);
    }
    TL_RETURN_IF_ERROR(run.store->WriteMetadata({}, stale));
  }
  if (!state.checkpoint.empty()) TL_RETURN_IF_ERROR(run.store->DropCheckpoint(state.checkpoint));
  ++state.attempt;
  state.status = DeliveryTaskStatus();  // the bucket holds nothing of the task now
  state.status.phase = SyncPhase::kFull;
  // The name is saved before the snapshot is taken, so that a crash cannot leak it.
  state.checkpoint = fmt::format("{}.{}.base{}", task.table, task.name, state.attempt);
  state.checkpoint_path.clear();
  TL_RETURN_IF_ERROR(run.Save());
  TL_ASSIGN_OR_RETURN(auto cp, run.store->CreateCheckpoint(state.checkpoint));
  state.checkpoint_path = cp.path;
  state.snapshot_seq = cp.sequence;
  state.snapshot_ms = run.clock->NowMillis();
  state.segment = 0;
  state.resume_key = json();
  state.base_files = json::array();
  return run.Save();
}

Status DeliverSnapshot(TaskRun& run) {
  TaskState& state = run.state;
  const DeliveryTaskDescription& task = run.task;
  StoreOptions read_only;
  read_only.read_only = true;
  TL_ASSIGN_OR_RETURN(auto snapshot, TableStore::Open(state.checkpoint_path, read_only));
  TL_ASSIGN_OR_RETURN(TableDescription table, snapshot->DescribeTable(task.table));
  const TableMeta& meta = table.meta;
  PrimaryKey start, end;
  for (const auto& k : meta.primary_key) {
    start.push_back({k.name, Value::InfMin()});
    end.push_back({k.name, Value::InfMax()});
  }
  if (!state.resume_key.is_null()) {
    TL_ASSIGN_OR_RETURN(auto key, store::RowFromJson(meta, json::parse(state.resume_key.dump()),
                                                     store::MissingKey::kError, true));
    start = key.primary_key;
  }
  TL_ASSIGN_OR_RETURN(auto it, snapshot->NewRowIterator(task.table, start, end, {}));
  if (!state.resume_key.is_null() && it->Valid()) it->Next();  // it was the last one delivered
  // A segment ends after about file_bytes / 64 rows: all its files are published and the scan
  // position saved, so a crash costs at most one segment, redone into the same file names.
  const int64_t segment_rows = std::max<int64_t>(10000, task.config.file_bytes / 64);
  std::unique_ptr<Progress> progress;
  if (run.progress) progress = std::make_unique<Progress>("deliver " + task.name, 0, run.progress);
  RowPrefetcher rows(it.get());  // the scan runs a batch ahead, on another core
  std::unique_ptr<BatchWriter> batch;
  // The segment's last row: its key is still valid when the scan ends (see RowPrefetcher).
  const Row* last = nullptr;
  Status scanned = [&]() -> Status {
    while (const Row* row = rows.Next()) {
      if (!batch) {
        batch = std::make_unique<BatchWriter>(task, run.resolved, run.bucket.get(),
                                              BaseStem(task, state.attempt, state.segment),
                                              FileMetadata(task, state.snapshot_seq));
      }
      // A row's write time is its newest cell's version; a key-only row takes the snapshot's.
      int64_t write_ms = row->cells.empty() ? state.snapshot_ms : 0;
      for (const auto& c : row->cells) write_ms = std::max(write_ms, c.timestamp);
      TL_RETURN_IF_ERROR(batch->Add(row->primary_key, row->cells, write_ms,
                                    {"PUT", state.snapshot_seq, write_ms * 1000}));
      last = row;
      if (batch->rows() >= segment_rows) {
        TL_RETURN_IF_ERROR(CommitSegment(run, std::move(batch), last->primary_key));
      } else if (progress) {
        progress->Update(0, run.stats.rows_delivered + run.stats.dirty_rows + batch->rows());
      }
    }
    TL_RETURN_IF_ERROR(rows.status());
    return batch ? CommitSegment(run, std::move(batch), last->primary_key) : Status::OK();
  }();
  if (!scanned.ok()) {
    // What the failed segment published goes now, where the bucket allows, so that the bucket
    // holds what the status counts (a resume removes it anyway).
    batch.reset();
    (void)run.RemoveObjects(StemFiles(BaseStem(task, state.attempt, state.segment)));
    return scanned;
  }
  if (progress) progress->Finish(run.stats.rows_delivered + run.stats.dirty_rows, "rows");
  return Status::OK();
}

// Publishes a segment's files, then saves where the scan stands with the segment's counts and
// file entries, in one write.
Status CommitSegment(TaskRun& run, std::unique_ptr<BatchWriter> batch, const PrimaryKey& last) {
  TaskState& state = run.state;
  TL_RETURN_IF_ERROR(batch->Commit());
  for (const auto& f : batch->published()) {
    state.base_files.push_back({{"key", f.key}, {"rows", f.rows}, {"bytes", f.bytes}});
  }
  state.resume_key = json::parse(store::RowToJson(Row{last, {}}).dump());
  ++state.segment;
  AddCounts(batch->counts(), &state.status, &run.stats);
  ClearError(&state.status);  // progress again
  return run.Commit(batch->published());
}

// The manifest and _SUCCESS go last: their presence says every file above is complete.
Status FinishBase(TaskRun& run) {
  TaskState& state = run.state;
  const DeliveryTaskDescription& task = run.task;
  json manifest = {{"table", task.table},
                   {"task", task.name},
                   {"type", DeliveryTaskTypeName(task.type)},
                   {"attempt", state.attempt},
                   {"snapshot_sequence", state.snapshot_seq},
                   {"snapshot_time_ms", state.snapshot_ms},
                   {"rows", state.status.rows_delivered},
                   {"dirty_rows", state.status.dirty_rows},
                   {"files", state.base_files}};
  std::string base = run.resolved.prefix.StaticPrefix();
  std::string stem = fmt::format("{}-{}-base{}", task.table, task.name, state.attempt);
  TL_RETURN_IF_ERROR(run.bucket->PutObject(JoinKey(base, fmt::format("{}.manifest.json", stem)),
                                           manifest.dump(2) + "\n"));
  TL_RETURN_IF_ERROR(run.bucket->PutObject(JoinKey(base, "_SUCCESS"), ""));
  state.status.current_sync_timestamp_ns = state.snapshot_ms * 1000000;
  state.base_done = true;
  // A finished BaseTask reports phase INCR, as the cloud service does (isFinished).
  state.status.phase = SyncPhase::kIncr;
  if (task.type == DeliveryTaskType::kBase) {
    state.status.finished = true;
  } else {
    state.position = state.snapshot_seq + 1;  // the stream right after the snapshot
  }
  ClearError(&state.status);
  return run.Save();
}

}  // namespace
}  // namespace tablelake::delivery
