// Bulk loads: many rows of one table, all or none, in bounded memory.
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <deque>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>

#include "rocksdb/sst_file_writer.h"
#include "store/sorted_run.h"
#include "store/table_store_impl.h"

namespace tablelake {

PutRowRequest RowView::ToPutRow(std::string table) const {
  PutRowRequest r;
  r.table = std::move(table);
  r.primary_key.reserve(primary_key.size());
  for (const ColumnView& c : primary_key) {
    r.primary_key.push_back({std::string(c.name), c.value.ToValue()});
  }
  r.cells.reserve(cells.size());
  for (const ColumnView& c : cells) {
    r.cells.push_back({std::string(c.name), c.value.ToValue(), kNoTimestamp});
  }
  return r;
}

namespace store {

namespace {

constexpr int64_t kIngestFileBytes = 64 << 20;  // merged SST files are cut at about this size

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }

// How many of the first `most` bytes `a` and `b` share.
size_t SharedBytes(std::string_view a, std::string_view b, size_t most) {
  size_t n = std::min({most, a.size(), b.size()});
  return static_cast<size_t>(std::mismatch(a.begin(), a.begin() + n, b.begin()).first - a.begin());
}

// Bytes [at, at + 8) of the key, big-endian (zero-padded): ordered as the key is among keys
// that share their first `at` bytes.
uint64_t PrefixAt(std::string_view key, size_t at) {
  if (at + 8 <= key.size()) {
    uint64_t v;
    std::memcpy(&v, key.data() + at, 8);
    return std::endian::native == std::endian::little ? __builtin_bswap64(v) : v;
  }
  uint64_t v = 0;
  for (size_t i = at; i < at + 8; ++i) {
    v = (v << 8) | (i < key.size() ? static_cast<uint8_t>(key[i]) : 0);
  }
  return v;
}

// Rows in their stored form, in the buffers their prepared batches were encoded into (a row
// costs no allocation of its own, and its bytes are not copied again).
class StagedRows {
 public:
  // Takes the encoded rows of `rows` (their change records are the caller's to copy).
  void Add(BulkLoader::PreparedRows&& rows) {
    buffers_.push_back(std::move(rows.bytes));  // a deque: the bytes never move again
    const std::string& bytes = buffers_.back();
    allocated_ += static_cast<int64_t>(bytes.capacity());
    const char* at = bytes.data();
    for (const auto& row : rows.encoded) {
      const std::string_view key(at, row.key_bytes);
      rows_.push_back({0, 0, at, row.key_bytes, row.value_bytes, rows_.size()});
      if (rows_.size() == 1) first_key_ = key;
      common_ = rows_.size() == 1 ? key.size() : SharedBytes(key, first_key_, common_);
      at += size_t{row.key_bytes} + row.value_bytes + row.change_bytes;
    }
  }
  bool empty() const { return rows_.empty(); }
  // What they hold in memory.
  int64_t footprint() const {
    return allocated_ + static_cast<int64_t>(rows_.capacity() * sizeof(Row));
  }
  // Sorts by key, keeping of equal keys the one added last (a later put replaces an earlier),
  // and calls fn(key, value) for each, in key order.
  template <typename Fn>
  Status ForEachSorted(Fn&& fn) {
    Sort();
    return ForEach(0, rows_.size(), fn);
  }
  void Sort() {
    // The 16 bytes after the prefix every key shares (the table's, and often the high bytes of an
    // integer first key column), as two numbers, settle most comparisons without a memcmp of keys
    // scattered over the blocks; the order added breaks ties between equal keys. Read in the
    // order added: through the blocks in turn. (8 bytes left ties among the rows that share a
    // first key column of a few hundred values: a sort of 2M rows spent 7% of a load in memcmp.)
    for (Row& r : rows_) {
      r.high = PrefixAt(r.Key(), common_);
      r.low = PrefixAt(r.Key(), common_ + 8);
    }
    std::sort(rows_.begin(), rows_.end(), [](const Row& a, const Row& b) {
      if (a.high != b.high) return a.high < b.high;
      if (a.low != b.low) return a.low < b.low;
      int c = a.Key().compare(b.Key());
      return c != 0 ? c < 0 : a.order < b.order;
    });
  }
  // After Sort: fn(key, value) for the sorted rows [from, to), of equal keys the last added.
  template <typename Fn>
  Status ForEach(size_t from, size_t to, Fn&& fn) const {
    for (size_t i = from; i < to; ++i) {
      // Sorted rows lie scattered over the blocks: fetch those a few steps ahead meanwhile.
      if (i + kPrefetchAhead < rows_.size()) __builtin_prefetch(rows_[i + kPrefetchAhead].data);
      if (i + 1 < rows_.size() && SameKey(rows_[i + 1], rows_[i])) continue;
      TL_RETURN_IF_ERROR(fn(rows_[i].Key(), rows_[i].Value()));
    }
    return Status::OK();
  }
  // After Sort: where the sorted rows split in two halves without parting equal keys.
  size_t Middle() const {
    size_t middle = rows_.size() / 2;
    while (middle > 0 && middle < rows_.size() && SameKey(rows_[middle], rows_[middle - 1])) {
      ++middle;
    }
    return middle;
  }
  size_t size() const { return rows_.size(); }
  size_t common() const { return common_; }
  void Clear() {
    rows_ = {};
    buffers_.clear();
    allocated_ = 0;
  }

 private:
  static constexpr size_t kPrefetchAhead = 8;
  struct Row {
    uint64_t high, low;  // key bytes past the shared ones (Sort)
    const char* data;
    uint32_t key_size;
    uint32_t value_size;
    size_t order;
    std::string_view Key() const { return {data, key_size}; }
    // Settled by what the row holds in itself where it can: the key bytes are far apart.
    friend bool SameKey(const Row& a, const Row& b) {
      return a.high == b.high && a.low == b.low && a.key_size == b.key_size && a.Key() == b.Key();
    }
    std::string_view Value() const { return {data + key_size, value_size}; }
  };
  std::vector<Row> rows_;
  std::string first_key_;
  size_t common_ = 0;  // bytes every key staged starts with (those of first_key_)
  std::deque<std::string> buffers_;
  int64_t allocated_ = 0;
};

Status FromSst(const rocksdb::Status& s, const std::string& path) {
  return FromRocks(s, "writing " + path);
}

// Change records in Put order, in memory until they outgrow `limit`, then in a file (a sorted
// run's format, its records' keys empty: its marks are where a reader can start). Records are
// numbered from 0 in Put order; ForEach reads any stretch of them, so that two threads can each
// write half of a load's stream.
class ChangeLog {
 public:
  ChangeLog(std::string path, int64_t limit) : path_(std::move(path)), limit_(limit) {}
  void Close() { file_.reset(); }
  Status Add(std::string change) {
    bytes_ += static_cast<int64_t>(change.size());
    pending_.push_back(std::move(change));
    pending_bytes_ += static_cast<int64_t>(pending_.back().size());
    return pending_bytes_ > limit_ ? Spill() : Status::OK();
  }
  bool spilled() const { return file_ != nullptr; }
  int64_t bytes() const { return bytes_; }
  uint64_t count() const { return spilled_ + pending_.size(); }
  // A record number near the middle where a stretch may start (ForEach reads from it without
  // reading what comes before it): a mark's, when the middle lies in the file.
  uint64_t Middle() const {
    const uint64_t half = count() / 2;
    return half >= spilled_ ? half : half / RunWriter::kMarkEvery * RunWriter::kMarkEvery;
  }
  // Records [from, to) in Put order; `from` is 0, Middle() or past the spilled ones. Safe on
  // several threads at once (each reads the file through its own reader).
  Status ForEach(uint64_t from, uint64_t to, const std::function<void(std::string&)>& fn) {
    uint64_t n = from;
    if (const uint64_t end = std::min(to, spilled_); n < end) {
      const auto& marks = file_->marks();
      const uint64_t mark = n / RunWriter::kMarkEvery;
      if (n % RunWriter::kMarkEvery != 0 || mark >= marks.size()) {
        return Status::Internal(fmt::format("bulk load: change record {} is not a mark", n));
      }
      TL_ASSIGN_OR_RETURN(auto reader, RunReader::Open(path_, 1 << 20, marks[mark].offset));
      std::string change;
      for (; reader->Valid() && n < end; reader->Next(), ++n) {
        change.assign(reader->value());
        fn(change);
      }
      TL_RETURN_IF_ERROR(reader->status());
      if (n < end) {
        return Status::Corruption(fmt::format("bulk load: change log '{}' is cut short", path_));
      }
    }
    for (; n < to; ++n) fn(pending_[n - spilled_]);
    return Status::OK();
  }

 private:
  // The pending records to the file, written through: what ForEach reads is in the file.
  Status Spill() {
    if (file_ == nullptr) {
      std::error_code ignored;  // the create below says what is wrong
      std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ignored);
      TL_ASSIGN_OR_RETURN(file_, RunWriter::Create(path_));
    }
    for (const std::string& change : pending_) TL_RETURN_IF_ERROR(file_->Add({}, change));
    TL_RETURN_IF_ERROR(file_->Flush());
    spilled_ += pending_.size();
    pending_.clear();
    pending_bytes_ = 0;
    return Status::OK();
  }

  std::string path_;
  int64_t limit_;
  std::unique_ptr<RunWriter> file_;
  uint64_t spilled_ = 0;  // records in the file
  std::vector<std::string> pending_;
  int64_t pending_bytes_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace

// Stages rows as the write path resolves and evaluates them (a blind put reads nothing), in
// their stored form. A load that fits in StoreOptions::bulk_load_run_bytes commits in one
// RocksDB write with every row stripe held. A larger one keeps memory to that bound: each time
// the staged rows reach it they are sorted into a run (sorted_run.h) in <store>/bulk/, and
// their change records go to a file beside them; the commit merges the runs into non-overlapping
// SST files (of equal keys the row staged last wins), writes the change records and the store's
// counters (last sequence, AUTO_INCREMENT) as SST files of their column families, and ingests
// them all in one IngestExternalFiles call: all of the load or none of it, without a write-ahead
// log to replay at the next open.
class BulkLoaderImpl : public BulkLoader {
 public:
  BulkLoaderImpl(TableStoreImpl* store, TablePtr table, std::string folder)
      : store_(store),
        table_(std::move(table)),
        folder_(std::move(folder)),
        run_bytes_(std::max<int64_t>(1, store->options_.bulk_load_run_bytes)),
        changes_(folder_ + "/changes", run_bytes_ / 4) {}
  ~BulkLoaderImpl() override {
    (void)WaitForRun();
    changes_.Close();  // before its folder goes
    std::error_code ec;
    std::filesystem::remove_all(folder_, ec);
  }

  // Rows put one at a time are staged a batch at a time (as a parsing thread prepares them).
  Status Put(PutRowRequest row) override {
    TL_RETURN_IF_ERROR(Prepare(std::move(row), &put_));
    return put_.bytes.size() >= kPutBatchBytes ? StagePut() : Status::OK();
  }

  // Only the store's thread-safe write steps (check, merge, encode): no state of the loader. The
  // table as it was when the load began; Commit refuses if it was dropped since.
  Status Prepare(PutRowRequest row, PreparedRows* out) const override {
    if (row.table != table_->desc.meta.name) {
      return Status::InvalidArgument(fmt::format("a bulk load into table '{}' got a row of '{}'",
                                                 table_->desc.meta.name, row.table));
    }
    if (row.condition.row_existence != RowExistence::kIgnore || row.condition.column_condition) {
      return Status::InvalidArgument("a bulk load writes rows blind: no row condition");
    }
    return store_->EncodeBlindPut(*table_, std::move(row), out);
  }
  Status Prepare(const RowView& row, PreparedRows* out) const override {
    return store_->EncodeBlindPut(*table_, row, out);
  }

  Status Stage(PreparedRows rows) override {
    if (!rows.requests.empty()) {
      return Status::InvalidArgument("bulk load: rows prepared by another kind of loader");
    }
    TL_RETURN_IF_ERROR(StagePut());  // rows put before these apply before them
    Status s;
    const char* at = rows.bytes.data();
    for (const auto& row : rows.encoded) {
      at += size_t{row.key_bytes} + row.value_bytes;
      if (s.ok() && row.change_bytes > 0) s = changes_.Add(std::string(at, row.change_bytes));
      at += row.change_bytes;
      auto_increment_ = std::max(auto_increment_, row.auto_increment);
    }
    rows_ += rows.encoded.size();
    staged_.Add(std::move(rows));
    if (s.ok() && staged_.footprint() >= run_bytes_ / 2) s = HandOffRun();
    if (s.ok()) return s;
    return s.WithContext(fmt::format("table '{}': bulk load", table_->desc.meta.name));
  }

  uint64_t rows() const override { return rows_ + put_.encoded.size(); }
  uint64_t staged_bytes() const override {
    return static_cast<uint64_t>(staged_.footprint() + writing_bytes_ + run_file_bytes_ +
                                 changes_.bytes()) +
           put_.bytes.capacity();
  }

  Status Commit() override {
    TL_RETURN_IF_ERROR(StagePut());
    if (rows_ == 0) return Status::OK();
    const bool no_runs = runs_.empty() && !run_thread_.joinable();
    bool ingest = !no_runs || changes_.spilled() || staged_.footprint() > kWriteBatchBytes;
    const std::string context =
        fmt::format("table '{}': bulk load of {} rows", table_->desc.meta.name, rows_);
    std::vector<std::string> data_files;
    if (ingest) {
      Status written = WriteFiles(no_runs, &data_files);
      TL_RETURN_IF_ERROR(written.WithContext(context));
    }
    TL_RETURN_IF_ERROR(CheckRoom(ingest));
    // Every stripe, in order (as BatchWriteRow takes its own): no read-modify-write of another
    // writer straddles the load.
    std::vector<std::unique_lock<std::mutex>> stripes;
    stripes.reserve(kRowLockStripes);
    for (auto& m : store_->row_locks_) stripes.emplace_back(m);
    auto now = store_->FindTable(table_->desc.meta.name);
    if (!now.ok() || (*now)->id != table_->id) return Dropped();
    std::lock_guard lock(store_->commit_mu_);
    int64_t commit_us = std::max(store_->options_.clock->NowMicros(), store_->last_commit_us_);
    Status s = ingest ? Ingest(data_files, commit_us) : WriteBatch(commit_us);
    TL_RETURN_IF_ERROR(s.WithContext(context));
    rows_ = 0;
    return Status::OK();
  }

 private:
  Status StagePut() {
    if (put_.encoded.empty()) return Status::OK();
    return Stage(std::exchange(put_, PreparedRows()));
  }

  // The table's files: the staged rows sorted (`no_runs`), or the runs merged.
  Status WriteFiles(bool no_runs, std::vector<std::string>* data_files) {
    if (no_runs) {
      TL_ASSIGN_OR_RETURN(*data_files, WriteStaged());
      return Status::OK();
    }
    if (!staged_.empty()) TL_RETURN_IF_ERROR(HandOffRun());
    TL_RETURN_IF_ERROR(WaitForRun());
    TL_ASSIGN_OR_RETURN(*data_files, MergeRuns());
    return Status::OK();
  }

  struct Run {  // a sorted run, with its marks
    std::string path;
    std::vector<RunMark> marks;
    size_t common = 0;  // bytes every key of the run shares with its first
  };
  // Bytes every key of `runs` shares.
  static size_t CommonBytes(const std::vector<Run>& runs) {
    size_t common = std::numeric_limits<size_t>::max();
    const RunMark* first = nullptr;
    for (const Run& run : runs) {
      if (run.marks.empty()) continue;  // no keys
      common = std::min(common, run.common);
      if (first == nullptr) first = &run.marks[0];
      common = SharedBytes(run.marks[0].key, first->key, common);
    }
    return first == nullptr ? 0 : common;
  }
  Status Dropped() const {
    return Status::NotFound(
        fmt::format("table '{}' was dropped during the bulk load", table_->desc.meta.name));
  }
  // Whether the commit finds room. Checked, not met: a store whose log cannot be written stops
  // taking writes until it is reopened. An ingestion's files are written by then (a full disk
  // fails their writing, which names them) and it needs room for the manifest only; a load
  // small enough for one write goes through the store's log, rows as they are.
  Status CheckRoom(bool ingest) const {
    const int64_t free = store::FreeBytes(store_->dir_);
    const int64_t logged = ingest ? 0 : static_cast<int64_t>(staged_bytes());
    if (free < 0 || free >= logged + kCommitRoom) return Status::OK();
    const std::string what =
        ingest ? "its files are written, but"
               : fmt::format("its rows take about {} MiB of the store's log, and", logged >> 20);
    return Status::IOError(fmt::format(
        "table '{}': no space left on device for the commit of a bulk load of {} rows: {} '{}' "
        "has {} KiB free",
        table_->desc.meta.name, rows_, what, store_->dir_, free >> 10));
  }

  Status MakeFolder() const {
    std::error_code ec;
    std::filesystem::create_directories(folder_, ec);
    if (!ec) return Status::OK();
    return Status::IOError(fmt::format("bulk load: cannot create '{}': {}", folder_, ec.message()));
  }

  // The staged rows become the next run, sorted and written on a thread of their own while the
  // next rows are staged (each half of the memory): the run before it must be whole first.
  Status HandOffRun() {
    TL_RETURN_IF_ERROR(WaitForRun());
    TL_RETURN_IF_ERROR(MakeFolder());
    writing_path_ = fmt::format("{}/run-{:06d}.run", folder_, runs_.size());
    writing_bytes_ = staged_.footprint();
    writing_ = std::make_unique<StagedRows>(std::move(staged_));
    staged_ = StagedRows();
    run_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "tl-run");  // names it in top -H and perf
      writing_status_ = WriteRun(*writing_, writing_path_);
    });
    return Status::OK();
  }

  // Until the run being written is whole; its error, if any.
  Status WaitForRun() {
    if (!run_thread_.joinable()) return Status::OK();
    run_thread_.join();
    writing_.reset();
    writing_bytes_ = 0;
    TL_RETURN_IF_ERROR(writing_status_);
    runs_.push_back({writing_path_, std::move(writing_marks_), writing_common_});
    run_file_bytes_ += writing_file_bytes_;
    return Status::OK();
  }

  // `rows`, sorted, as run `path` (on the run thread).
  Status WriteRun(StagedRows& rows, const std::string& path) {
    TL_ASSIGN_OR_RETURN(auto writer, RunWriter::Create(path));
    TL_RETURN_IF_ERROR(rows.ForEachSorted(
        [&](std::string_view key, std::string_view value) { return writer->Add(key, value); }));
    writing_file_bytes_ = static_cast<int64_t>(writer->file_bytes());
    TL_RETURN_IF_ERROR(writer->Finish());
    writing_marks_ = writer->TakeMarks();
    writing_common_ = rows.common();
    return Status::OK();
  }

  Result<std::unique_ptr<rocksdb::SstFileWriter>> NewWriter(rocksdb::ColumnFamilyHandle* cf,
                                                            const std::string& path) {
    rocksdb::Options options = store_->db_->GetOptions(cf);
    auto writer = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), options, cf);
    TL_RETURN_IF_ERROR(FromSst(writer->Open(path), path));
    return writer;
  }

  // A load that never filled a run, too large for one WriteBatch: its rows sorted straight into
  // the table's files, each half of the keys on a thread.
  Result<std::vector<std::string>> WriteStaged() {
    TL_RETURN_IF_ERROR(MakeFolder());
    staged_.Sort();
    const size_t middle = staged_.Middle();
    std::vector<std::string> low, high;
    Status high_status;
    std::thread second([&] { high_status = WriteSorted(middle, staged_.size(), 1, &high); });
    Status low_status = WriteSorted(0, middle, 0, &low);
    second.join();
    TL_RETURN_IF_ERROR(low_status);
    TL_RETURN_IF_ERROR(high_status);
    staged_.Clear();
    low.insert(low.end(), high.begin(), high.end());
    return low;
  }
  // Rows in key order as the table's SST files of about kIngestFileBytes each, named
  // <folder>/<stem>-NNNNNN.sst and listed in `files`.
  class TableFiles {
   public:
    TableFiles(BulkLoaderImpl* loader, std::string stem, std::vector<std::string>* files)
        : loader_(loader), stem_(std::move(stem)), files_(files) {}
    Status Put(std::string_view key, std::string_view value) {
      if (writer_ != nullptr && static_cast<int64_t>(writer_->FileSize()) >= kIngestFileBytes) {
        TL_RETURN_IF_ERROR(Finish());
      }
      if (writer_ == nullptr) {
        files_->push_back(fmt::format("{}/{}-{:06d}.sst", loader_->folder_, stem_, files_->size()));
        TL_ASSIGN_OR_RETURN(writer_, loader_->NewWriter(loader_->store_->data_cf_, files_->back()));
      }
      return FromSst(writer_->Put(ToSlice(key), ToSlice(value)), files_->back());
    }
    Status Finish() {
      if (writer_ == nullptr) return Status::OK();
      Status s = FromSst(writer_->Finish(), files_->back());
      writer_.reset();
      return s;
    }

   private:
    BulkLoaderImpl* loader_;
    std::string stem_;
    std::vector<std::string>* files_;
    std::unique_ptr<rocksdb::SstFileWriter> writer_;
  };

  // The sorted staged rows [from, to) as the table's files, named part `part`.
  Status WriteSorted(size_t from, size_t to, int part, std::vector<std::string>* files) {
    TableFiles out(this, fmt::format("staged-{}", part), files);
    TL_RETURN_IF_ERROR(staged_.ForEach(from, to, [&](std::string_view key, std::string_view value) {
      return out.Put(key, value);
    }));
    return out.Finish();
  }

  // The runs merged into the table's files: of equal keys the later run's row wins.
  Result<std::vector<std::string>> MergeRuns() {
    TL_RETURN_IF_ERROR(NarrowRuns());
    // Two halves of the key space, split at the middle of the runs' marks, merged at once: the
    // second on a thread of its own. Read-ahead for every run in both halves within the memory
    // bound.
    std::vector<std::string_view> marks;
    for (const Run& run : runs_) {
      for (const RunMark& mark : run.marks) marks.push_back(mark.key);
    }
    std::optional<std::string> split;
    if (marks.size() >= 2) {
      std::nth_element(marks.begin(), marks.begin() + marks.size() / 2, marks.end());
      split = std::string(marks[marks.size() / 2]);
    }
    const int64_t read_ahead = run_bytes_ / (2 * static_cast<int64_t>(runs_.size()));
    std::vector<std::string> low, high;
    Status high_status;
    std::thread second;
    if (split) {
      second = std::thread([&] {
        pthread_setname_np(pthread_self(), "tl-merge");
        high_status = MergeIntoTable(split, std::nullopt, read_ahead, 1, &high);
      });
    }
    Status low_status = MergeIntoTable(std::nullopt, split, read_ahead, 0, &low);
    if (second.joinable()) second.join();
    TL_RETURN_IF_ERROR(low_status);
    TL_RETURN_IF_ERROR(high_status);
    for (const Run& run : runs_) std::filesystem::remove(run.path);
    low.insert(low.end(), high.begin(), high.end());
    return low;
  }

  // The runs' keys in [from, to) as the table's files, named part `part`.
  Status MergeIntoTable(const std::optional<std::string>& from,
                        const std::optional<std::string>& to, int64_t read_ahead, int part,
                        std::vector<std::string>* files) {
    TableFiles out(this, fmt::format("merged-{}", part), files);
    TL_RETURN_IF_ERROR(MergeFiles(
        runs_, from, to, read_ahead,
        [&](std::string_view key, std::string_view value) { return out.Put(key, value); }));
    return out.Finish();
  }

  // Every open run holds its read-ahead: a load far larger than memory makes more runs than
  // the merge can open within the bound, so groups of consecutive runs (a later run still wins)
  // are first merged into one run each - only as many as it takes to leave `width` runs, each
  // row rewritten once (twice only past width * width runs), not every run of the load.
  Status NarrowRuns() {
    const size_t width = MergeWidth();
    size_t next = 0;  // the first run no group has merged yet
    for (int merges = 0; runs_.size() > width; ++merges) {
      const size_t size = std::min(width, runs_.size() - width + 1);
      if (next + size > runs_.size()) next = 0;  // every run merged once: merge merged ones
      const auto first = runs_.begin() + static_cast<std::ptrdiff_t>(next);
      const auto last = first + static_cast<std::ptrdiff_t>(size);
      std::vector<Run> group(std::make_move_iterator(first), std::make_move_iterator(last));
      Run merged{fmt::format("{}/merged-run-{:06d}.run", folder_, merges), {}, CommonBytes(group)};
      TL_ASSIGN_OR_RETURN(auto writer, RunWriter::Create(merged.path));
      TL_RETURN_IF_ERROR(MergeFiles(
          group, std::nullopt, std::nullopt, run_bytes_ / static_cast<int64_t>(size),
          [&](std::string_view key, std::string_view value) { return writer->Add(key, value); }));
      TL_RETURN_IF_ERROR(writer->Finish());
      merged.marks = writer->TakeMarks();
      for (const Run& run : group) std::filesystem::remove(run.path);
      runs_.erase(first, last);
      runs_.insert(runs_.begin() + static_cast<std::ptrdiff_t>(next), std::move(merged));
      ++next;
    }
    return Status::OK();
  }

  // Calls put(key, value) for the keys in [from, to) (absent: unbounded) of `inputs` in key
  // order; of equal keys the later input's row wins.
  Status MergeFiles(const std::vector<Run>& inputs, const std::optional<std::string>& from,
                    const std::optional<std::string>& to, int64_t read_ahead,
                    const std::function<Status(std::string_view, std::string_view)>& put) {
    const size_t buffer = static_cast<size_t>(std::clamp<int64_t>(read_ahead, 64 << 10, 1 << 20));
    std::vector<std::unique_ptr<RunReader>> its;
    for (const Run& run : inputs) {
      uint64_t offset = 0;  // of the last mark at or below `from`
      for (size_t m = 0; from && m < run.marks.size() && run.marks[m].key <= *from; ++m) {
        offset = run.marks[m].offset;
      }
      TL_ASSIGN_OR_RETURN(auto reader, RunReader::Open(run.path, buffer, offset));
      if (from) reader->SkipBelow(*from);
      TL_RETURN_IF_ERROR(reader->status());
      its.push_back(std::move(reader));
    }
    // Each run's next key by the 16 bytes after those all keys share, as two numbers: most
    // comparisons end there, without a memcmp of keys that share a long prefix.
    const size_t common = CommonBytes(inputs);
    struct Head {
      uint64_t high = 0, low = 0;
    };
    std::vector<Head> heads(its.size());
    auto read_head = [&](size_t i) {
      heads[i] = {PrefixAt(its[i]->key(), common), PrefixAt(its[i]->key(), common + 8)};
    };
    for (size_t i = 0; i < its.size(); ++i) {
      if (its[i]->Valid()) read_head(i);
    }
    // The runs by their next key, smallest first; of equal keys the latest run (it wins).
    auto after = [&](size_t a, size_t b) {
      if (heads[a].high != heads[b].high) return heads[a].high > heads[b].high;
      if (heads[a].low != heads[b].low) return heads[a].low > heads[b].low;
      int c = its[a]->key().compare(its[b]->key());
      return c != 0 ? c > 0 : a < b;
    };
    std::vector<size_t> heap;
    for (size_t i = 0; i < its.size(); ++i) {
      if (its[i]->Valid()) heap.push_back(i);
    }
    std::make_heap(heap.begin(), heap.end(), after);
    auto advance = [&](size_t i) {
      its[i]->Next();
      if (!its[i]->Valid()) return;
      read_head(i);
      heap.push_back(i);
      std::push_heap(heap.begin(), heap.end(), after);
    };
    std::string key;
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), after);
      const size_t best = heap.back();
      heap.pop_back();
      if (to && its[best]->key() >= *to) break;
      key.assign(its[best]->key());
      TL_RETURN_IF_ERROR(put(key, its[best]->value()));
      advance(best);
      // The same key in earlier runs: replaced.
      while (!heap.empty() && its[heap.front()]->key() == key) {
        std::pop_heap(heap.begin(), heap.end(), after);
        const size_t older = heap.back();
        heap.pop_back();
        advance(older);
      }
    }
    for (const auto& it : its) TL_RETURN_IF_ERROR(it->status());
    return Status::OK();
  }

  // A load that never filled a run: one write, then a flush, so that the next open need not
  // replay a load-sized log (a failed flush loses nothing: RocksDB flushes later).
  Status WriteBatch(int64_t commit_us) {
    rocksdb::WriteBatch batch;
    TL_RETURN_IF_ERROR(staged_.ForEachSorted([&](std::string_view key, std::string_view value) {
      batch.Put(store_->data_cf_, ToSlice(key), ToSlice(value));
      return Status::OK();
    }));
    uint64_t seq = store_->last_seq_.load();
    TL_RETURN_IF_ERROR(changes_.ForEach(0, changes_.count(), [&](std::string& change) {
      store_->AppendChange(table_->id, &change, commit_us, &seq, &batch);
    }));
    if (auto_increment_ != 0) store_->AppendAutoIncrement(table_->id, auto_increment_, &batch);
    TL_RETURN_IF_ERROR(store_->WriteCommit(&batch, seq, commit_us));
    staged_.Clear();
    rocksdb::Status flushed = store_->db_->Flush(
        rocksdb::FlushOptions(), {store_->data_cf_, store_->stream_cf_, store_->meta_cf_});
    if (!flushed.ok()) {
      rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, store_->db_->GetOptions().info_log,
                   "flush after bulk load: %s", flushed.ToString().c_str());
    }
    return Status::OK();
  }

  // The change records as stream files, taking the sequences after `seq`: two halves written
  // at once (this runs under commit_mu_, where every other writer waits), each a file.
  Result<std::vector<std::string>> WriteStream(uint64_t seq, int64_t commit_us) {
    const uint64_t middle = changes_.Middle(), count = changes_.count();
    std::vector<std::pair<uint64_t, uint64_t>> halves = {{0, middle}, {middle, count}};
    if (middle == 0 || middle == count) halves = {{0, count}};
    std::vector<std::string> files;
    std::vector<Status> written(halves.size());
    auto write = [&](size_t h) -> Status {
      const std::string& path = files[h];
      TL_ASSIGN_OR_RETURN(auto writer, NewWriter(store_->stream_cf_, path));
      uint64_t next = seq + halves[h].first;
      Status put;
      TL_RETURN_IF_ERROR(
          changes_.ForEach(halves[h].first, halves[h].second, [&](std::string& change) {
            std::memcpy(change.data(), &commit_us, 8);  // fixed64 commit time, see the codec
            if (put.ok()) {
              put = FromSst(writer->Put(store::StreamKey(table_->id, ++next), change), path);
            }
          }));
      TL_RETURN_IF_ERROR(put);
      return FromSst(writer->Finish(), path);
    };
    for (size_t h = 0; h < halves.size(); ++h) {
      files.push_back(fmt::format("{}/stream-{}.sst", folder_, h));
    }
    std::thread second;
    if (halves.size() > 1) second = std::thread([&] { written[1] = write(1); });
    written[0] = write(0);
    if (second.joinable()) second.join();
    for (const Status& s : written) TL_RETURN_IF_ERROR(s);
    return files;
  }

  // Under commit_mu_: the change records take the next sequences; they, the counters and the
  // rows go in as one ingestion.
  Status Ingest(const std::vector<std::string>& data_files, int64_t commit_us) {
    uint64_t seq = store_->last_seq_.load();
    std::vector<rocksdb::IngestExternalFileArg> args(1);
    args[0].column_family = store_->data_cf_;
    args[0].external_files = data_files;
    if (changes_.count() > 0) {
      TL_ASSIGN_OR_RETURN(auto files, WriteStream(seq, commit_us));
      args.push_back({store_->stream_cf_, std::move(files), {}});
      seq += changes_.count();
    }
    std::map<std::string, std::string> counters;  // an SST's keys go in order
    if (seq != store_->last_seq_.load()) PutBigEndian64(&counters[kLastSequenceKey], seq);
    if (auto_increment_ != 0) {
      PutBigEndian64(&counters[AutoIncrementKey(table_->id)],
                     static_cast<uint64_t>(auto_increment_));
    }
    if (!counters.empty()) {
      std::string path = folder_ + "/meta.sst";
      TL_ASSIGN_OR_RETURN(auto writer, NewWriter(store_->meta_cf_, path));
      for (const auto& [key, value] : counters) {
        TL_RETURN_IF_ERROR(FromSst(writer->Put(key, value), path));
      }
      TL_RETURN_IF_ERROR(FromSst(writer->Finish(), path));
      args.push_back({store_->meta_cf_, {path}, {}});
    }
    for (auto& arg : args) {
      arg.options.move_files = true;
      arg.options.allow_blocking_flush = true;  // rows of the memtable under the same keys
    }
    TL_RETURN_IF_ERROR(FromRocks(store_->db_->IngestExternalFiles(args), "ingest"));
    store_->last_seq_ = seq;
    store_->last_commit_us_ = commit_us;
    return Status::OK();
  }

  TableStoreImpl* store_;
  TablePtr table_;
  const std::string folder_;
  static constexpr int64_t kCommitRoom = 1 << 20;
  const int64_t run_bytes_;
  StagedRows staged_;
  // The run being written, on run_thread_: what it touches below is the main thread's again once
  // WaitForRun has joined it.
  std::unique_ptr<StagedRows> writing_;
  int64_t writing_bytes_ = 0;
  std::string writing_path_;
  Status writing_status_;
  int64_t writing_file_bytes_ = 0;
  std::vector<RunMark> writing_marks_;
  size_t writing_common_ = 0;
  std::thread run_thread_;
  // Runs merged at once: one per 256 KiB of the memory bound, from 16 to 256 (each open run
  // holds 64 KiB to 1 MiB of read-ahead, in each of the merge's two halves). A narrower merge
  // of many runs takes a pass more, writing every row once more.
  size_t MergeWidth() const {
    return static_cast<size_t>(std::clamp<int64_t>(run_bytes_ / (256 << 10), 16, 256));
  }
  // Staged rows past this go in as files rather than one WriteBatch: RocksDB took 9.2 s to apply
  // and flush a batch of 2M rows (230 MB), where writing and ingesting their files takes half.
  static constexpr int64_t kWriteBatchBytes = 16 << 20;
  std::vector<Run> runs_;
  int64_t run_file_bytes_ = 0;
  ChangeLog changes_;
  static constexpr size_t kPutBatchBytes = 256 << 10;
  PreparedRows put_;  // rows Put and not yet staged
  int64_t auto_increment_ = 0;
  uint64_t rows_ = 0;
};

Result<std::unique_ptr<BulkLoader>> TableStoreImpl::NewBulkLoader(const std::string& table) {
  TL_RETURN_IF_ERROR(CheckWritable());
  TL_ASSIGN_OR_RETURN(TablePtr t, FindTable(table));
  static std::atomic<uint64_t> loads{0};
  std::string folder = fmt::format("{}/{}/{}-{}", dir_, kBulkFolder, ::getpid(), ++loads);
  return std::unique_ptr<BulkLoader>(
      std::make_unique<BulkLoaderImpl>(this, std::move(t), std::move(folder)));
}

}  // namespace store
}  // namespace tablelake
