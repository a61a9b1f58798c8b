#include "delivery/base_runner.h"

#include <filesystem>

#include "common/progress.h"
#include "delivery/row_prefetcher.h"
#include "delivery/spill_runs.h"
#include "fmt/format.h"
#include "store/row_json.h"

namespace tablelake::delivery {
namespace {

using nlohmann::json;

Status StartAttempt(TaskRun& run);
Status ScanSnapshot(TaskRun& run);
Status MergeRuns(TaskRun& run);
std::string SpillDir(const TaskState& state);
void RemoveSpill(const TaskRun& run);
std::string RunPath(const TaskRun& run, int64_t n);
int64_t RunBytes(const TaskRun& run);
Status AbsorbRuns(TaskRun& run, BatchWriter* batch);
Result<int64_t> MergeBlock(RunReader* r, BatchWriter* batch, int64_t merged);
Status CommitSegment(TaskRun& run, std::unique_ptr<BatchWriter> batch, const PrimaryKey& last,
                     bool resume_at = false);
Status FinishBase(TaskRun& run);

}  // namespace

void RemoveSpillRuns(const TaskState& state) {
  if (state.checkpoint.empty() || state.checkpoint_path.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(SpillDir(state), ec);
}

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
    // The segment may have published some of its files, or written part of a run, before the
    // interruption.
    TL_RETURN_IF_ERROR(
        run.RemoveObjects(StemFiles(BaseStem(run.task, state.attempt, state.segment))));
    std::error_code ec;
    std::filesystem::remove(RunPath(run, state.runs), ec);
  }
  if (!state.merging) TL_RETURN_IF_ERROR(ScanSnapshot(run));
  if (state.merging) TL_RETURN_IF_ERROR(MergeRuns(run));
  TL_RETURN_IF_ERROR(FinishBase(run));
  return ReleaseSnapshot(run);
}

Status ReleaseSnapshot(TaskRun& run) {
  TaskState& state = run.state;
  RemoveSpillRuns(state);
  TL_RETURN_IF_ERROR(run.store->DropCheckpoint(state.checkpoint));
  state.checkpoint.clear();
  state.checkpoint_path.clear();
  return run.Save();
}

namespace {

// A new attempt: an earlier one whose snapshot is gone leaves its files to be removed.
Status StartAttempt(TaskRun& run) {
  TaskState& state = run.state;
  const DeliveryTaskDescription& task = run.task;
  if (state.attempt > 0) {
    FileMatcher matches = AnyBaseFile(task);
    TL_RETURN_IF_ERROR(run.RemoveObjects(matches));
    TL_ASSIGN_OR_RETURN(auto entries, run.store->ListMetadata(FilesPrefix(task.table, task.name)));
    std::vector<std::string> stale;
    for (const auto& [key, value] : entries) {
      if (matches(FileName(key))) stale.push_back(key);
    }
    TL_RETURN_IF_ERROR(run.store->WriteMetadata({}, stale));
  }
  if (!state.checkpoint.empty()) {
    RemoveSpill(run);
    TL_RETURN_IF_ERROR(run.store->DropCheckpoint(state.checkpoint));
  }
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
  state.resume_at = false;
  state.runs = 0;
  state.merging = false;
  state.merged_through.clear();
  return run.Save();
}

// Where the attempt's spill runs live: beside the store's checkpoints.
std::string SpillDir(const TaskState& state) {
  return (std::filesystem::path(state.checkpoint_path).parent_path().parent_path() / "spill" /
          state.checkpoint)
      .string();
}
std::string SpillDir(const TaskRun& run) { return SpillDir(run.state); }
std::string RunPath(const TaskRun& run, int64_t n) {
  return fmt::format("{}/run-{:06d}", SpillDir(run), n);
}
void RemoveSpill(const TaskRun& run) { RemoveSpillRuns(run.state); }

std::unique_ptr<BatchWriter> NewSegment(TaskRun& run) {
  auto batch =
      std::make_unique<BatchWriter>(run.task, run.resolved, run.bucket.get(),
                                    BaseStem(run.task, run.state.attempt, run.state.segment),
                                    FileMetadata(run.task, run.state.snapshot_seq), run.budget);
  batch->set_carry(true);
  return batch;
}

// The scan: rows are grouped by partition in memory (a partition with a row group's worth
// streams into its file). When files are complete (BatchWriter::segment_due) or the memory
// budget is spent, the buffers spill to a run; each spill ends a segment (its files, dirty rows,
// the run and the scan position committed together), so a crash costs at most a file's worth or a
// budget's worth of rows. At the end, rows still in memory are published with the rows of the
// runs when those are small (a quarter of the budget at most), else they become the last run
// and the runs are merged.
Status ScanSnapshot(TaskRun& run) {
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
  // The key is the last row delivered, or the first of the next segment (resume_at).
  if (!state.resume_key.is_null() && !state.resume_at && it->Valid()) it->Next();
  std::error_code ec;
  std::filesystem::create_directories(SpillDir(run), ec);
  if (ec) return Status::IOError(fmt::format("{}: {}", SpillDir(run), ec.message()));
  std::unique_ptr<Progress> progress;
  if (run.progress) progress = std::make_unique<Progress>("deliver " + task.name, 0, run.progress);
  RowPrefetcher rows(it.get());  // the scan runs a batch ahead, on another core
  // Its read-ahead is memory of the budget's too.
  run.budget->Take(RowPrefetcher::kMaxBytes);
  struct GiveBack {
    MemoryBudget* budget;
    ~GiveBack() { budget->Give(RowPrefetcher::kMaxBytes); }
  } give_back{run.budget};
  std::unique_ptr<BatchWriter> batch = NewSegment(run);
  int64_t scanned = 0;
  // The segment's last row: its key is still valid when the scan ends (see RowPrefetcher).
  const Row* last = nullptr;
  auto spill = [&]() -> Status {
    run.NoteMemory(batch->memory_bytes());  // the most it holds: sampled rows may miss it
    const std::string path = RunPath(run, state.runs);
    TL_RETURN_IF_ERROR(batch->Spill(path));
    std::error_code ec;
    run.stats.spill_bytes += static_cast<int64_t>(std::filesystem::file_size(path, ec));
    ++state.runs;
    ++run.stats.spill_runs;
    return CommitSegment(run, std::move(batch), last->primary_key);
  };
  Status s = [&]() -> Status {
    while (const Row* row = rows.Next()) {
      if (!batch) batch = NewSegment(run);
      // A row's write time is its newest cell's version; a key-only row takes the snapshot's.
      int64_t write_ms = row->cells.empty() ? state.snapshot_ms : 0;
      for (const auto& c : row->cells) write_ms = std::max(write_ms, c.timestamp);
      const RowConverter::Change change{"PUT", state.snapshot_seq, write_ms * 1000};
      TL_RETURN_IF_ERROR(batch->Add(row->primary_key, row->cells, write_ms, change));
      if (!batch->carried().empty()) {
        // The row starts the next segment, whose partition streams from it on.
        std::string partition = batch->carried();
        TL_RETURN_IF_ERROR(CommitSegment(run, std::move(batch), row->primary_key, true));
        batch = NewSegment(run);
        batch->StreamFrom(std::move(partition));
        TL_RETURN_IF_ERROR(batch->Add(row->primary_key, row->cells, write_ms, change));
      }
      last = row;
      if (batch->full() || batch->segment_due()) TL_RETURN_IF_ERROR(spill());
      if ((++scanned & 1023) == 0) {
        run.NoteMemory(batch ? batch->memory_bytes() : 0);
        if (progress && (scanned & 4095) == 0) progress->Update(0, scanned);
      }
    }
    TL_RETURN_IF_ERROR(rows.status());
    if (state.runs > 0 && RunBytes(run) > run.budget->limit() / 4) {
      if (batch && batch->rows() > 0) TL_RETURN_IF_ERROR(spill());
      state.merging = true;
      return run.Save();
    }
    if (!batch) batch = NewSegment(run);
    // Runs small enough (a streaming partition's rows past each whole file, say) join the
    // last segment's buffers instead of a merge: no partition gets a small file of its own.
    TL_RETURN_IF_ERROR(AbsorbRuns(run, batch.get()));
    if (state.runs == 0 && last == nullptr) return Status::OK();
    state.runs = 0;  // committed with the files that now hold their rows
    return CommitSegment(run, std::move(batch), last ? last->primary_key : PrimaryKey{});
  }();
  if (!s.ok()) {
    // What the failed segment published goes now, where the bucket allows, so that the bucket
    // holds what the status counts (a resume removes it anyway).
    batch.reset();
    (void)run.RemoveObjects(StemFiles(BaseStem(task, state.attempt, state.segment)));
    return s;
  }
  if (progress) progress->Finish(scanned, "rows scanned");
  return Status::OK();
}

int64_t RunBytes(const TaskRun& run) {
  int64_t bytes = 0;
  std::error_code ec;
  for (int64_t n = 0; n < run.state.runs; ++n) {
    bytes += static_cast<int64_t>(std::filesystem::file_size(RunPath(run, n), ec));
  }
  return bytes;
}

// Adds the rows of every run to `batch`, in run order.
Status AbsorbRuns(TaskRun& run, BatchWriter* batch) {
  for (int64_t n = 0; n < run.state.runs; ++n) {
    TL_ASSIGN_OR_RETURN(auto reader, RunReader::Open(RunPath(run, n)));
    std::string_view row;
    size_t row_bytes;
    while (!reader->done()) {
      if (reader->row_group()) {
        TL_ASSIGN_OR_RETURN(RowGroupBlock block, reader->ReadRowGroup());
        batch->AddRowGroup(reader->partition(), std::move(block));
      }
      while (true) {
        TL_ASSIGN_OR_RETURN(bool more, reader->NextRow(&row, &row_bytes));
        if (!more) break;
        TL_RETURN_IF_ERROR(batch->AddGrouped(reader->partition(), row, row_bytes));
      }
      TL_RETURN_IF_ERROR(reader->NextBlock());
    }
  }
  return Status::OK();
}

// The merge of the runs, partition by partition in name order: each partition's rows come from
// every run in turn (so in key order) into its files. Every few seconds the files written are
// committed as a segment with the last partition done; a resumed merge starts after it.
Status MergeRuns(TaskRun& run) {
  TaskState& state = run.state;
  std::vector<std::unique_ptr<RunReader>> readers;
  for (int64_t n = 0; n < state.runs; ++n) {
    TL_ASSIGN_OR_RETURN(auto r, RunReader::Open(RunPath(run, n)));
    readers.push_back(std::move(r));
  }
  std::unique_ptr<Progress> progress;
  if (run.progress) {
    progress = std::make_unique<Progress>("merge " + run.task.name, 0, run.progress);
  }
  std::unique_ptr<BatchWriter> batch = NewSegment(run);
  int64_t commit_at_us = run.clock->NowMicros() + 2000000, merged = 0;
  Status s = [&]() -> Status {
    while (true) {
      const std::string* next = nullptr;
      for (const auto& r : readers) {
        if (!r->done() && (next == nullptr || r->partition() < *next)) next = &r->partition();
      }
      if (next == nullptr) break;
      std::string partition = *next;
      bool done_already = !state.merged_through.empty() && partition <= state.merged_through;
      for (const auto& r : readers) {
        // A run holds a partition's records in one block, its row groups in one block each.
        while (!r->done() && r->partition() == partition) {
          if (!done_already) {
            TL_ASSIGN_OR_RETURN(merged, MergeBlock(r.get(), batch.get(), merged));
          }
          TL_RETURN_IF_ERROR(r->NextBlock());
        }
      }
      if (done_already) continue;
      TL_RETURN_IF_ERROR(batch->ClosePartition(partition));
      if (progress) progress->Update(0, merged);
      if (run.clock->NowMicros() >= commit_at_us) {
        state.merged_through = partition;
        TL_RETURN_IF_ERROR(CommitSegment(run, std::move(batch), {}));
        batch = NewSegment(run);
        commit_at_us = run.clock->NowMicros() + 2000000;
      }
    }
    state.merging = false;
    return CommitSegment(run, std::move(batch), {});
  }();
  if (!s.ok()) {
    batch.reset();
    (void)run.RemoveObjects(StemFiles(BaseStem(run.task, state.attempt, state.segment)));
    return s;
  }
  if (progress) progress->Finish(merged, "rows merged");
  return Status::OK();
}

// Writes the block `r` stands at into its partition's file; returns `merged` plus its rows.
Result<int64_t> MergeBlock(RunReader* r, BatchWriter* batch, int64_t merged) {
  const std::string& partition = r->partition();
  if (r->row_group()) {
    TL_ASSIGN_OR_RETURN(RowGroupBlock block, r->ReadRowGroup());
    TL_RETURN_IF_ERROR(batch->WriteRowGroup(partition, block));
    return merged + block.group.meta.num_rows;
  }
  std::string_view row;
  size_t row_bytes;
  while (true) {
    TL_ASSIGN_OR_RETURN(bool more, r->NextRow(&row, &row_bytes));
    if (!more) return merged;
    TL_RETURN_IF_ERROR(batch->WriteRow(partition, row, row_bytes));
    ++merged;
  }
}

// Publishes a segment's files, then saves where the delivery stands (the scan position when
// `last` is given) with the segment's counts and file entries, in one write.
Status CommitSegment(TaskRun& run, std::unique_ptr<BatchWriter> batch, const PrimaryKey& last,
                     bool resume_at) {
  TaskState& state = run.state;
  TL_RETURN_IF_ERROR(batch->Commit());
  if (!last.empty()) {
    state.resume_key = json::parse(store::RowToJson(Row{last, {}}).dump());
    state.resume_at = resume_at;
  }
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
                   {"files", json::array()}};
  TL_ASSIGN_OR_RETURN(auto entries, run.store->ListMetadata(FilesPrefix(task.table, task.name)));
  FileMatcher attempt_files = AttemptFiles(task, state.attempt);
  for (const auto& [key, value] : entries) {
    FileEntry f = FileEntryFromJson(json::parse(value));
    if (!attempt_files(FileName(f.key))) continue;
    manifest["files"].push_back({{"key", f.key}, {"rows", f.rows}, {"bytes", f.bytes}});
  }
  std::string base = run.resolved.prefix.StaticPrefix();
  TL_RETURN_IF_ERROR(run.bucket->PutObject(JoinKey(base, ManifestName(task, state.attempt)),
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
