#include "delivery/base_runner.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "common/progress.h"
#include "delivery/range_scan.h"
#include "delivery/row_prefetcher.h"
#include "delivery/spill_runs.h"
#include "fmt/format.h"
#include "store/row_json.h"

namespace tablelake::delivery {
namespace {

using nlohmann::json;

Status StartAttempt(TaskRun& run);
Status VerifyRuns(const TaskRun& run);
Status ScanSnapshot(TaskRun& run);
Status MergeRuns(TaskRun& run);
std::string SpillDir(const TaskState& state);
void RemoveSpill(const TaskRun& run);
std::string RunPath(const TaskRun& run, int64_t n);
int64_t RunBytes(const TaskRun& run);
Status AbsorbRuns(TaskRun& run, BatchWriter* batch);
Result<int64_t> MergeBlock(RunReader* r, BatchWriter* batch, int64_t merged);
Status CommitSegment(TaskRun& run, std::unique_ptr<BatchWriter> batch);
Status FinishBase(TaskRun& run);

// Deletes what the segment in progress published (a failed or interrupted one).
Status RemoveSegment(const TaskRun& run) {
  return run.RemoveObjects(StemFiles(BaseStem(run.task, run.state.attempt, run.state.segment)));
}

// A range smaller than this is not worth a thread of its own.
constexpr int64_t kMinRangeBytes = int64_t{1} << 20;

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
  if (resumable) {
    Status runs = VerifyRuns(run);
    if (!runs.ok()) {
      // The runs hold rows that the saved positions have moved past: only a new attempt
      // delivers them.
      if (run.progress) {
        std::fprintf(run.progress, "deliver %s: %s; delivering a new snapshot\n",
                     run.task.name.c_str(), runs.message().c_str());
      }
      resumable = false;
    }
  }
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
    TL_RETURN_IF_ERROR(RemoveSegment(run));
    std::error_code ec;
    std::filesystem::remove(RunPath(run, state.runs), ec);
  }
  if (!state.merging) TL_RETURN_IF_ERROR(ScanSnapshot(run));
  if (state.merging && !run.stats.stopped) TL_RETURN_IF_ERROR(MergeRuns(run));
  if (run.stats.stopped) return Status::OK();  // the snapshot stays for the next run
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

// Whether the runs the state lists are whole (runs are not synced: see spill_runs.h).
Status VerifyRuns(const TaskRun& run) {
  for (int64_t n = 0; n < run.state.runs; ++n) TL_RETURN_IF_ERROR(VerifyRun(RunPath(run, n)));
  return Status::OK();
}

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
  state.ranges.clear();  // split when the scan opens the snapshot
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

// A primary key as the task's state keeps it.
json KeyJson(const PrimaryKey& key) { return json::parse(store::RowToJson(Row{key, {}}).dump()); }

// Whether the ranges' threads encode row groups themselves (RangeScan's encoding mode): a
// task of one partition, which needs no grouping.
bool RangesEncode(const TaskRun& run) { return !run.resolved.prefix.has_variables(); }
int64_t BytesPerRange(const TaskRun& run) {
  return RangesEncode(run) ? RangeScan::kBytesPerEncodingRange : RangeScan::kBytesPerRange;
}

// How many ranges a task scans when the process leaves it to the cores: one per core, at most 8.
int DefaultRanges() {
  return std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 8);
}

// The key ranges the attempt scans: parts of about equal size, at most `run.scan_ranges`.
Status SplitScan(TaskRun& run, TableStore* snapshot, const TableMeta& meta) {
  // The ranges' batches take at most a quarter of what the memory budget has left (the other
  // tasks the process runs may hold some of it), or half for a task that groups nothing.
  const int64_t room = std::max<int64_t>(0, run.budget->limit() - run.budget->used());
  const int64_t fed = std::max<int64_t>(1, room / (RangesEncode(run) ? 2 : 4) / BytesPerRange(run));
  const int64_t wanted = run.scan_ranges > 0 ? run.scan_ranges : DefaultRanges();
  const int64_t parts = std::min(wanted, fed);
  std::vector<PrimaryKey> points;
  if (parts > 1) {
    TL_ASSIGN_OR_RETURN(
        points, snapshot->SplitIntoParts(meta.name, static_cast<int32_t>(parts), kMinRangeBytes));
  }
  const int64_t got = static_cast<int64_t>(points.size()) + 1;
  if (run.progress && run.scan_ranges > 0 && got < run.scan_ranges) {
    // Asked for by name: say why there are fewer.
    std::fprintf(run.progress, "deliver %s: %lld key range%s, not %d: %s\n", run.task.name.c_str(),
                 static_cast<long long>(got), got == 1 ? "" : "s", run.scan_ranges,
                 fed < run.scan_ranges && got == fed
                     ? "the memory budget feeds no more (--memory-mb feeds more)"
                     : "the table is too small for more ranges of at least 1 MiB");
  }
  TaskState& state = run.state;
  state.ranges.assign(points.size() + 1, {});
  for (size_t i = 0; i < points.size(); ++i) {
    state.ranges[i].end = state.ranges[i + 1].start = KeyJson(points[i]);
  }
  return Status::OK();
}

// The scan of the attempt's snapshot: rows are grouped by partition in memory (a partition
// with a row group's worth streams into its file). When files are complete
// (BatchWriter::segment_due) or the memory budget is spent, the buffers spill to a run; each
// spill ends a segment (its files, dirty rows, the run and every range's position committed
// together), so a crash costs at most a file's worth or a budget's worth of rows. At the end,
// rows still in memory are published with the rows of the runs when those are small (a quarter
// of the budget at most), else they become the last run and the runs are merged.
class SnapshotScan {
 public:
  explicit SnapshotScan(TaskRun& run) : run_(run), state_(run.state) {}

  Status Run() {
    StoreOptions read_only;
    read_only.read_only = true;
    read_only.block_cache_bytes = 8 << 20;  // the scan reads past the cache
    TL_ASSIGN_OR_RETURN(snapshot_, TableStore::Open(state_.checkpoint_path, read_only));
    TL_ASSIGN_OR_RETURN(TableDescription table, snapshot_->DescribeTable(run_.task.table));
    meta_ = table.meta;
    if (state_.ranges.empty()) TL_RETURN_IF_ERROR(SplitScan(run_, snapshot_.get(), meta_));
    std::error_code ec;
    std::filesystem::create_directories(SpillDir(run_), ec);
    if (ec) return Status::IOError(fmt::format("{}: {}", SpillDir(run_), ec.message()));
    if (run_.progress) {
      progress_ = std::make_unique<Progress>("deliver " + run_.task.name, 0, run_.progress);
    }
    Status s = state_.ranges.size() == 1 ? ScanOneRange() : ScanRanges();
    if (s.ok()) s = run_.stats.stopped ? Pause() : Finish();
    if (!s.ok()) {
      // What the failed segment published goes now, where the bucket allows, so that the
      // bucket holds what the status counts (a resume removes it anyway).
      batch_.reset();
      (void)RemoveSegment(run_);
      return s;
    }
    if (progress_) progress_->Finish(scanned_, "rows scanned");
    return Status::OK();
  }

 private:
  // A range's rows from where it stands: its start, or after (or at) its last row delivered.
  Result<std::unique_ptr<RowIterator>> RangeRows(const TaskState::ScanRange& r) {
    PrimaryKey start, end;
    for (const auto& k : meta_.primary_key) {
      start.push_back({k.name, Value::InfMin()});
      end.push_back({k.name, Value::InfMax()});
    }
    const json& from = r.resume_key.is_null() ? r.start : r.resume_key;
    if (!from.is_null()) {
      TL_ASSIGN_OR_RETURN(start, Key(from));
    }
    if (!r.end.is_null()) {
      TL_ASSIGN_OR_RETURN(end, Key(r.end));
    }
    TL_ASSIGN_OR_RETURN(auto it, snapshot_->NewRowIterator(run_.task.table, start, end, {}));
    // The key is the last row delivered, or the first of the next segment (resume_at).
    if (!r.resume_key.is_null() && !r.resume_at && it->Valid()) it->Next();
    return it;
  }
  Result<PrimaryKey> Key(const json& j) {
    TL_ASSIGN_OR_RETURN(auto row, store::RowFromJson(meta_, json::parse(j.dump()),
                                                     store::MissingKey::kError, true));
    return row.primary_key;
  }

  // One range: rows are converted on this thread as they come (see BatchWriter::set_carry).
  Status ScanOneRange() {
    TL_ASSIGN_OR_RETURN(auto it, RangeRows(state_.ranges[0]));
    RowPrefetcher rows(it.get());  // the scan runs a batch ahead, on another core
    BudgetHold hold(run_.budget, RowPrefetcher::kMaxBytes);  // its read-ahead is the budget's
    // The segment's last row: its key is still valid when the scan ends (see RowPrefetcher).
    const Row* last = nullptr;
    while (const Row* row = rows.Next()) {
      if (!batch_) batch_ = NewSegment(run_);
      const int64_t write_ms = SnapshotWriteMs(*row, state_.snapshot_ms);
      const RowConverter::Change change{"PUT", state_.snapshot_seq, write_ms * 1000};
      TL_RETURN_IF_ERROR(batch_->Add(row->primary_key, row->cells, write_ms, change));
      if (!batch_->carried().empty()) {
        // The row starts the next segment, whose partition streams from it on.
        std::string partition = batch_->carried();
        SetPosition(0, row->primary_key, /*at=*/true);
        TL_RETURN_IF_ERROR(CommitSegment(run_, std::move(batch_)));
        batch_ = NewSegment(run_);
        batch_->StreamFrom(std::move(partition));
        TL_RETURN_IF_ERROR(batch_->Add(row->primary_key, row->cells, write_ms, change));
      }
      last = row;
      if (batch_->full() || batch_->segment_due()) {
        SetPosition(0, row->primary_key);
        TL_RETURN_IF_ERROR(Spill());
      }
      if ((++scanned_ & 1023) == 0) {
        Note();
        if (run_.Stopping()) break;
      }
    }
    TL_RETURN_IF_ERROR(rows.status());
    if (last != nullptr) SetPosition(0, last->primary_key);
    return Status::OK();
  }

  // Several ranges, each read and converted (or encoded) on a thread of its own (RangeScan);
  // this thread takes their batches as they come.
  Status ScanRanges() {
    std::vector<RangeScan::Range> ranges;
    for (size_t i = 0; i < state_.ranges.size(); ++i) {
      if (state_.ranges[i].done) continue;
      TL_ASSIGN_OR_RETURN(auto it, RangeRows(state_.ranges[i]));
      ranges.push_back({std::move(it), static_cast<int64_t>(i)});
    }
    BudgetHold hold(run_.budget, BytesPerRange(run_) * static_cast<int64_t>(ranges.size()));
    const bool encode = RangesEncode(run_);
    RangeScan scan(std::move(ranges), run_.task.config, run_.resolved,
                   {state_.snapshot_seq, state_.snapshot_ms}, encode);
    int64_t r;
    while (const ConvertedBatch* b = scan.Next(&r)) {
      TL_RETURN_IF_ERROR(encode ? TakeEncoded(r, *b) : TakeConverted(r, *b));
      scanned_ += static_cast<int64_t>(encode ? b->stored.size() : b->rows.size());
      if ((scanned_ & ~int64_t{4095}) != last_note_) Note();
      if (run_.Stopping()) break;
    }
    TL_RETURN_IF_ERROR(scan.status());
    for (const auto& st : scan.stats()) {
      run_.stats.scan_ranges.push_back({st.index, st.rows, st.busy_seconds});
    }
    return Status::OK();
  }

  // A batch of converted rows: grouped by partition, the range's position moving to its last
  // row; a row that finds its partition's file whole ends the segment before it (carried()).
  Status TakeConverted(int64_t r, const ConvertedBatch& b) {
    size_t next = 0;
    while (true) {
      if (!batch_) batch_ = NewSegment(run_);
      TL_ASSIGN_OR_RETURN(next, batch_->AddConverted(b, next));
      if (next == b.rows.size()) break;
      // Row `next` starts the next segment, whose partition streams from it on.
      std::string partition = batch_->carried();
      TL_ASSIGN_OR_RETURN(PrimaryKey key, b.Key(next));
      SetPosition(r, key, /*at=*/true);
      TL_RETURN_IF_ERROR(CommitSegment(run_, std::move(batch_)));
      batch_ = NewSegment(run_);
      batch_->StreamFrom(std::move(partition));
    }
    if (!b.rows.empty()) {
      TL_ASSIGN_OR_RETURN(PrimaryKey key, b.Key(b.rows.size() - 1));
      SetPosition(r, key);
    }
    if (b.last) state_.ranges[r].done = true;
    return batch_->full() || batch_->segment_due() ? Spill() : Status::OK();
  }

  // A batch of the encoding mode: its row groups into the partition's file, each after the
  // dirty rows before it, the range's position moving to each group's end; a file whole ends
  // the segment before the group that does not fit goes into the next one.
  Status TakeEncoded(int64_t r, const ConvertedBatch& b) {
    size_t dirty = 0;
    for (const ConvertedBatch::Group& g : b.groups) {
      if (!batch_) batch_ = NewSegment(run_);
      TL_ASSIGN_OR_RETURN(bool ended, batch_->EndsFile(g.block));
      if (ended) {
        TL_RETURN_IF_ERROR(CommitSegment(run_, std::move(batch_)));
        batch_ = NewSegment(run_);
      }
      for (; dirty < g.dirty_end; ++dirty) TL_RETURN_IF_ERROR(batch_->AddDirty(b.dirty[dirty]));
      TL_RETURN_IF_ERROR(batch_->AddEncodedGroup(g.block));
      if (g.last_source < b.stored.size()) {
        TL_ASSIGN_OR_RETURN(PrimaryKey key, b.StoredKey(g.last_source));
        SetPosition(static_cast<size_t>(r), key);
      }
    }
    if (b.last) {
      if (!batch_) batch_ = NewSegment(run_);
      for (; dirty < b.dirty.size(); ++dirty) TL_RETURN_IF_ERROR(batch_->AddDirty(b.dirty[dirty]));
      state_.ranges[r].done = true;
      any_rows_ = true;
    }
    return Status::OK();
  }

  // Where range `r` stands at the next commit: after `key` (at it, for a carried row).
  void SetPosition(size_t r, const PrimaryKey& key, bool at = false) {
    state_.ranges[r].resume_key = KeyJson(key);
    state_.ranges[r].resume_at = at;
    any_rows_ = true;
  }

  void Note() {
    last_note_ = scanned_ & ~int64_t{4095};
    run_.NoteMemory(batch_ ? batch_->memory_bytes() : 0);
    if (progress_) progress_->Update(0, scanned_);
  }

  Status Spill() {
    run_.NoteMemory(batch_->memory_bytes());  // the most it holds: sampled rows may miss it
    const std::string path = RunPath(run_, state_.runs);
    TL_RETURN_IF_ERROR(batch_->Spill(path));
    std::error_code ec;
    run_.stats.spill_bytes += static_cast<int64_t>(std::filesystem::file_size(path, ec));
    ++state_.runs;
    ++run_.stats.spill_runs;
    return CommitSegment(run_, std::move(batch_));
  }

  // Asked to stop: what the segment holds is committed (grouped rows as a run, its files and
  // dirty rows published) with the positions reached, and the next run resumes from them.
  Status Pause() {
    if (!batch_) return Status::OK();
    if (batch_->buffered_bytes() > 0) return Spill();
    return CommitSegment(run_, std::move(batch_));
  }

  Status Finish() {
    if (state_.runs > 0 && RunBytes(run_) > run_.budget->limit() / 4) {
      if (batch_ && batch_->rows() > 0) TL_RETURN_IF_ERROR(Spill());
      state_.merging = true;
      return run_.Save();
    }
    if (!batch_) batch_ = NewSegment(run_);
    // Runs small enough (a streaming partition's rows past each whole file, say) join the
    // last segment's buffers instead of a merge: no partition gets a small file of its own.
    TL_RETURN_IF_ERROR(AbsorbRuns(run_, batch_.get()));
    if (state_.runs == 0 && !any_rows_) return Status::OK();
    state_.runs = 0;  // committed with the files that now hold their rows
    return CommitSegment(run_, std::move(batch_));
  }

  // Memory of the budget's that the scan holds while it runs.
  struct BudgetHold {
    BudgetHold(MemoryBudget* budget, int64_t bytes) : budget(budget), bytes(bytes) {
      budget->Take(bytes);
    }
    ~BudgetHold() { budget->Give(bytes); }
    MemoryBudget* budget;
    int64_t bytes;
  };

  TaskRun& run_;
  TaskState& state_;
  std::unique_ptr<TableStore> snapshot_;
  TableMeta meta_;
  std::unique_ptr<Progress> progress_;
  std::unique_ptr<BatchWriter> batch_;
  int64_t scanned_ = 0, last_note_ = 0;
  bool any_rows_ = false;  // a position moved: the last segment is committed
};

Status ScanSnapshot(TaskRun& run) { return SnapshotScan(run).Run(); }

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
      const bool stopping = run.Stopping();
      if (run.clock->NowMicros() >= commit_at_us || stopping) {
        state.merged_through = partition;
        TL_RETURN_IF_ERROR(CommitSegment(run, std::move(batch)));
        if (stopping) return Status::OK();  // the next run merges on after it
        batch = NewSegment(run);
        commit_at_us = run.clock->NowMicros() + 2000000;
      }
    }
    state.merging = false;
    return CommitSegment(run, std::move(batch));
  }();
  if (!s.ok()) {
    batch.reset();
    (void)RemoveSegment(run);
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

// Publishes a segment's files, then saves where the delivery stands (with the ranges' positions
// as the scan set them) with the segment's counts and file entries, in one write.
Status CommitSegment(TaskRun& run, std::unique_ptr<BatchWriter> batch) {
  TaskState& state = run.state;
  TL_RETURN_IF_ERROR(batch->Commit());
  ++state.segment;
  AddCounts(batch->counts(), &state.status, &run.stats);
  ClearError(&state.status);  // progress again
  return run.Commit(batch->published());
}

// The manifest: `head`'s members, then "files", each file's key, rows and bytes on a line of its
// own (written as text: a document of 17,520 JSON objects took 50 ms to build and print).
std::string ManifestText(const json& head, const std::vector<FileEntry>& files) {
  std::string text = head.dump(2);
  text.resize(text.size() - 2);  // the closing "\n}"
  text += files.empty() ? ",\n  \"files\": []\n}\n" : ",\n  \"files\": [\n";
  for (size_t i = 0; i < files.size(); ++i) {
    fmt::format_to(std::back_inserter(text), R"(    {{"key": {}, "rows": {}, "bytes": {}}}{})",
                   json(files[i].key).dump(), files[i].rows, files[i].bytes,
                   i + 1 < files.size() ? ",\n" : "\n  ]\n}\n");
  }
  return text;
}

// The manifest and _SUCCESS go last: their presence says every file above is complete.
Status FinishBase(TaskRun& run) {
  TaskState& state = run.state;
  const DeliveryTaskDescription& task = run.task;
  const json head = {{"table", task.table},
                     {"task", task.name},
                     {"type", DeliveryTaskTypeName(task.type)},
                     {"attempt", state.attempt},
                     {"snapshot_sequence", state.snapshot_seq},
                     {"snapshot_time_ms", state.snapshot_ms},
                     {"rows", state.status.rows_delivered},
                     {"dirty_rows", state.status.dirty_rows}};
  TL_ASSIGN_OR_RETURN(auto entries, run.store->ListMetadata(FilesPrefix(task.table, task.name)));
  FileMatcher attempt_files = AttemptFiles(task, state.attempt);
  std::vector<FileEntry> files;
  for (const auto& [key, value] : entries) {
    if (!attempt_files(FileName(key))) continue;  // the entry's key ends with the file's
    TL_ASSIGN_OR_RETURN(FileEntry f, ParseFileEntry(value));
    files.push_back(std::move(f));
  }
  std::string base = run.resolved.prefix.StaticPrefix();
  TL_RETURN_IF_ERROR(run.bucket->PutObject(JoinKey(base, ManifestName(task, state.attempt)),
                                           ManifestText(head, files)));
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
