// The embedded table store: Tablestore's tables, rows, versions and change stream on RocksDB.
//
// Thread safety: every method may be called from many threads at once. Each row write is
// atomic, and its change record (when the table keeps one) is committed in the same RocksDB
// write, so a crash never leaves a row without its record or a record without its row.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tablelake/options.h"
#include "tablelake/status.h"
#include "tablelake/types.h"

namespace tablelake {

// A consistent view of every table, tied to a stream sequence: it contains exactly the writes
// with sequence <= sequence(). Reading the snapshot and then the stream after sequence() sees
// every write exactly once. Release by destroying it.
class Snapshot {
 public:
  virtual ~Snapshot() = default;
  virtual uint64_t sequence() const = 0;
};

struct PutRowRequest {
  std::string table;
  PrimaryKey primary_key;
  std::vector<Cell> cells;  // one version per cell; kNoTimestamp takes the commit time
  Condition condition;
  ReturnType return_type = ReturnType::kNone;
};

struct UpdateRowRequest {
  std::string table;
  PrimaryKey primary_key;
  std::vector<ColumnUpdate> updates;
  Condition condition;
  ReturnType return_type = ReturnType::kNone;
};

struct DeleteRowRequest {
  std::string table;
  PrimaryKey primary_key;
  Condition condition;
  ReturnType return_type = ReturnType::kNone;
};

struct WriteResult {
  uint64_t sequence = 0;  // the change record's sequence (0 if the table keeps none)
  std::optional<PrimaryKey> primary_key;  // RT_PK / RT_AFTER_MODIFY: the full key written
  std::optional<Row> row;                 // RT_AFTER_MODIFY: the columns changed, as written
};

struct ReadOptions {
  const Snapshot* snapshot = nullptr;  // Default: the latest committed state
};

struct GetRowRequest {
  std::string table;
  PrimaryKey primary_key;
  std::vector<std::string> columns_to_get;  // empty: all columns
  std::optional<TimeRange> time_range;
  int32_t max_versions = 0;  // 0: 1 when no time_range, else all in range
  std::optional<Filter> filter;
  ReadOptions read_options;
};

enum class Direction : uint8_t { kForward = 0, kBackward = 1 };

struct GetRangeRequest {
  std::string table;
  Direction direction = Direction::kForward;
  PrimaryKey inclusive_start;  // may hold INF_MIN/INF_MAX
  PrimaryKey exclusive_end;
  int32_t limit = 0;  // 0: no limit beyond the store's reply caps
  std::vector<std::string> columns_to_get;
  std::optional<TimeRange> time_range;
  int32_t max_versions = 0;
  std::optional<Filter> filter;
  ReadOptions read_options;
};

struct GetRangeResult {
  std::vector<Row> rows;
  // Where the next page starts; empty when the range is exhausted.
  std::optional<PrimaryKey> next_start_primary_key;
};

// One row of a BatchWriteRow: exactly one of the three requests is used, by `type`.
struct BatchWriteItem {
  enum class Type : uint8_t { kPut = 1, kUpdate = 2, kDelete = 3 };
  Type type = Type::kPut;
  PutRowRequest put;
  UpdateRowRequest update;
  DeleteRowRequest del;
};

enum class ChangeOp : uint8_t { kPut = 1, kUpdate = 2, kDelete = 3 };
const char* ChangeOpName(ChangeOp op);

// One committed write as the stream records it.
struct ChangeRecord {
  uint64_t sequence = 0;
  std::string table;
  ChangeOp op = ChangeOp::kPut;
  PrimaryKey primary_key;
  std::vector<ColumnUpdate> columns;  // as written, each with its resolved timestamp
  std::vector<Cell> row_image;        // newest version of every column after the write
  int64_t commit_time_us = 0;
};

struct StreamReadResult {
  std::vector<ChangeRecord> records;
  uint64_t next_sequence = 0;  // pass as `from` to continue
  // The read stopped at kStreamPageBytes before its limit: more records may follow.
  bool truncated = false;
};
// A stream read returns fewer records than asked once they hold this many bytes (at least one
// record), so that a page of rows of megabytes is not a thousand of them in memory.
inline constexpr size_t kStreamPageBytes = 2 << 20;

// A row decoded as views (RowBatch::DecodeRowViews), with Row's order: valid while the batch
// holds the row and until the next decode into the same RowViews.
struct RowViews {
  std::vector<ColumnView> primary_key;
  std::vector<CellView> cells;
  // A row that views of its stored form cannot show as a read sees it (retention to apply, a key
  // string with an escaped zero byte), decoded whole: the views are of it.
  Row whole;
  // Views of `whole`.
  void ViewWhole();
};

// A run of scanned rows kept in their stored form, decoded one at a time where they are used.
// Filling one is a copy of bytes per row, so a scanning thread can hand rows to a converting
// thread without sharing decoded rows, whose scattered heap cells make cores trade cache lines.
class RowBatch {
 public:
  // Turns a stored row into a Row; supplied by the iterator that fills the batch.
  class Decoder {
   public:
    virtual ~Decoder() = default;
    // Decodes into `*row`, reusing its buffers. False: the row is hidden (every cell expired).
    virtual Result<bool> Decode(std::string_view key, std::string_view value, Row* row) const = 0;
    // The same as views, into the stored form where it can (no value copied).
    virtual Result<bool> DecodeViews(std::string_view key, std::string_view value,
                                     RowViews* row) const;
  };

  size_t size() const { return starts_.size(); }
  size_t bytes() const { return bytes_.size(); }
  // Decodes row `i` into `*row` (see Decoder::Decode).
  Result<bool> DecodeRow(size_t i, Row* row) const;
  // The same as views (see Decoder::DecodeViews).
  Result<bool> DecodeRowViews(size_t i, RowViews* row) const;

  // For iterators: empties the batch for rows that `decoder` decodes, then adds them.
  void Reset(std::shared_ptr<const Decoder> decoder);
  void Add(std::string_view key, std::string_view value);

 private:
  struct Start {
    uint32_t key, value;  // offsets into bytes_; a row ends where the next one starts
  };
  std::shared_ptr<const Decoder> decoder_;
  std::string bytes_;
  std::vector<Start> starts_;
};

// Iterates the rows of a range in key order (forward only), newest version per column.
class RowIterator {
 public:
  virtual ~RowIterator() = default;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual const Row& row() const = 0;
  // Replaces `*batch` with up to `max_rows` rows from the current one on, ending early once it
  // holds `max_bytes` (always at least one row), and moves past them: the bulk path for a scan
  // whose rows are decoded on another thread.
  virtual Status NextBatch(size_t max_rows, size_t max_bytes, RowBatch* batch) = 0;
  virtual Status status() const = 0;
};

// A row to put blind, as views into buffers the caller holds (a parser's): key columns in the
// table's order, then unversioned cells (they take the load's time).
struct RowView {
  std::vector<ColumnView> primary_key;
  std::vector<ColumnView> cells;
  PutRowRequest ToPutRow(std::string table) const;
};

// Loads many rows into one table as one atomic write: all of them or, when anything fails,
// none. Rows are checked as they are staged, by the same code as PutRow (names, sizes, key,
// cell versions, AUTO_INCREMENT), so a row PutRow would refuse is refused here, at its Put (or
// Prepare). Staged rows wait in memory, up to StoreOptions::bulk_load_run_bytes; past it in
// sorted files in the store's folder (sorted and written in the background, half the bound at a
// time), which Commit merges and ingests with the change records in one step. A load that
// stays in memory commits in one RocksDB write when small, else as files sorted at the commit.
// Prepare is thread-safe; the other calls are not.
class BulkLoader {
 public:
  virtual ~BulkLoader() = default;
  // Stages a blind put (row existence IGNORE, no column condition); a later row with the same
  // key replaces an earlier one, as sequential PutRows do. A refused row leaves the loader as
  // it was, so the caller may report it and stop.
  virtual Status Put(PutRowRequest row) = 0;
  // Rows made ready to stage, many in one object (a load hands rows between threads by the
  // thousand, not an allocation per row). Prepare may run on several threads at once, each
  // into its own PreparedRows; Stage takes them in the order they are to apply. Put(row) is
  // Prepare(row, &rows) then Stage(rows).
  struct PreparedRows {
    // Loaders that keep rows as given (over the wire): the rows.
    std::vector<PutRowRequest> requests;
    // Loaders that encode rows (the store's own): each row's stored key, value and change
    // record (empty unless the table keeps a change log), back to back in `bytes`.
    struct Encoded {
      uint32_t key_bytes = 0, value_bytes = 0, change_bytes = 0;
      int64_t auto_increment = 0;
    };
    std::string bytes;
    std::vector<Encoded> encoded;
    // The write time of the rows' unversioned cells, in milliseconds: taken by the first
    // Prepare into them (the clock is read once per batch, not once per row).
    int64_t time_ms = 0;
    size_t size() const { return requests.size() + encoded.size(); }
  };
  // Prepares `row` into `*out`; a refused row leaves `*out` as it was.
  virtual Status Prepare(PutRowRequest row, PreparedRows* out) const {
    out->requests.push_back(std::move(row));
    return Status::OK();
  }
  // The same for a row of views, checked alike: a loader that encodes rows does so without
  // copying its values first. (This one copies it into a request, whose table the loader sets.)
  virtual Status Prepare(const RowView& row, PreparedRows* out) const {
    return Prepare(row.ToPutRow({}), out);
  }
  virtual Status Stage(PreparedRows rows) {
    for (auto& row : rows.requests) TL_RETURN_IF_ERROR(Put(std::move(row)));
    return Status::OK();
  }
  virtual uint64_t rows() const = 0;
  virtual uint64_t staged_bytes() const = 0;
  // Writes every staged row, and its change record when the table keeps a change log, in one
  // atomic commit. Refuses without writing when the folder's file system lacks room for the
  // load's files or the commit's log and manifest records.
  virtual Status Commit() = 0;
  // Rows written before Commit: a loader that cannot hold a whole load (over the wire, where a
  // load is not atomic) sends what it staged once that outgrows its memory. 0 for the store's
  // own, which writes nothing before Commit.
  virtual uint64_t rows_written() const { return 0; }
};

class TableStore {
 public:
  // Opens (and by default creates) the store in folder `dir`. Refuses, naming the process, when
  // another process has the folder open for writing, unless `options.read_only`: then it
  // follows that writer, reading what it has committed when opened.
  static Result<std::unique_ptr<TableStore>> Open(const std::string& dir,
                                                  const StoreOptions& options = {});
  virtual ~TableStore() = default;

  // ---- tables ----
  virtual Status CreateTable(const TableMeta& meta, const TableOptions& options = {},
                             const StreamSpecification& stream = {}) = 0;
  virtual Result<std::vector<std::string>> ListTable() = 0;
  virtual Result<TableDescription> DescribeTable(const std::string& table) = 0;
  // Changes options and/or the stream; absent parts stay as they are.
  virtual Status UpdateTable(const std::string& table, const std::optional<TableOptions>& options,
                             const std::optional<StreamSpecification>& stream) = 0;
  virtual Status DeleteTable(const std::string& table) = 0;

  // ---- rows ----
  virtual Result<WriteResult> PutRow(const PutRowRequest& request) = 0;
  virtual Result<WriteResult> UpdateRow(const UpdateRowRequest& request) = 0;
  virtual Result<WriteResult> DeleteRow(const DeleteRowRequest& request) = 0;
  // Returns std::nullopt when the row does not exist (or the filter rejects it).
  virtual Result<std::optional<Row>> GetRow(const GetRowRequest& request) = 0;
  Result<GetRangeResult> GetRange(const GetRangeRequest& request) {
    GetRangeResult result;
    TL_RETURN_IF_ERROR(GetRange(request, &result));
    return result;
  }
  // The same into `*result`, whose rows' buffers are reused: a paged scan that keeps one result
  // allocates next to nothing per page. On error `*result` holds no meaningful rows.
  virtual Status GetRange(const GetRangeRequest& request, GetRangeResult* result) = 0;
  virtual std::vector<Result<std::optional<Row>>> BatchGetRow(
      const std::vector<GetRowRequest>& requests) = 0;
  // Per-row results, in request order. Rows are atomic one by one, not as a batch. A request
  // that is malformed as a whole (too many rows, one row twice) fails every row.
  virtual std::vector<Result<WriteResult>> BatchWriteRow(
      const std::vector<BatchWriteItem>& items) = 0;

  // Primary keys that cut `table` into ranges of about `split_bytes` of stored data each, in
  // key order, at most `limit` of them (0: no limit); none for a table smaller than that. By
  // the sizes of the table's files on disk, so approximate (ComputeSplitPointsBySize).
  virtual Result<std::vector<PrimaryKey>> ComputeSplitPoints(const std::string& table,
                                                             int64_t split_bytes,
                                                             int32_t limit = 0) = 0;
  // At most `parts - 1` primary keys that cut `table` into ranges of about equal stored size,
  // none smaller than `min_part_bytes` (so fewer for a small table): how a full delivery splits
  // its scan. A remote store cannot: the protocol does not tell a table's size.
  virtual Result<std::vector<PrimaryKey>> SplitIntoParts(const std::string& table, int32_t parts,
                                                         int64_t min_part_bytes) = 0;

  // A loader that writes rows into `table` all at once (see BulkLoader).
  virtual Result<std::unique_ptr<BulkLoader>> NewBulkLoader(const std::string& table) = 0;

  // Rows of [start, end) as of `options.snapshot`, newest version per column, for bulk reads.
  virtual Result<std::unique_ptr<RowIterator>> NewRowIterator(const std::string& table,
                                                              const PrimaryKey& inclusive_start,
                                                              const PrimaryKey& exclusive_end,
                                                              const ReadOptions& options) = 0;

  // ---- stream ----
  virtual Result<std::unique_ptr<Snapshot>> GetSnapshot() = 0;
  // A snapshot that outlives the process: a consistent copy of the whole store (hard links,
  // so cheap) in `<store dir>/checkpoints/<name>`, holding exactly the writes with sequence <=
  // the one returned. Writers wait while it is taken. Open it with StoreOptions::read_only.
  struct Checkpoint {
    std::string path;
    uint64_t sequence = 0;
  };
  virtual Result<Checkpoint> CreateCheckpoint(const std::string& name) = 0;
  virtual Status DropCheckpoint(const std::string& name) = 0;
  // Records of `table` with sequence >= from, oldest first, at most `limit` (0: 1000) and fewer
  // past kStreamPageBytes (then `truncated`). Needs the stream enabled or a change-log hold.
  virtual Result<StreamReadResult> ReadStream(const std::string& table, uint64_t from,
                                              int32_t limit = 0) = 0;
  // The sequence of the newest committed change record.
  virtual uint64_t LastSequence() const = 0;
  // Keeps `table`'s change records from `from_sequence` on for `consumer` (a delivery task),
  // whether or not the table's stream is enabled; records are written from this call on.
  // Calling it again moves the hold forward as the consumer advances.
  virtual Status HoldChangeLog(const std::string& table, const std::string& consumer,
                               uint64_t from_sequence) = 0;
  virtual Status ReleaseChangeLog(const std::string& table, const std::string& consumer) = 0;

  const StoreOptions& options() const { return options_; }

  // Runs a full compaction now (TTL, max_versions and stream expiry are reclaimed by it).
  virtual Status CompactAll() = 0;

  // ---- metadata of components built on the store (delivery tasks, their checkpoints) ----
  // Durable like row writes; each call is atomic. Keys are free-form.
  virtual Status PutMetadata(const std::string& key, const std::string& value) = 0;
  virtual Status DeleteMetadata(const std::string& key) = 0;
  // Puts and deletes in one atomic write: a crash leaves all of them or none.
  virtual Status WriteMetadata(const std::vector<std::pair<std::string, std::string>>& puts,
                               const std::vector<std::string>& deletes) = 0;
  virtual Result<std::optional<std::string>> GetMetadata(const std::string& key) = 0;
  // Every (key, value) whose key starts with `prefix`, in key order.
  virtual Result<std::vector<std::pair<std::string, std::string>>> ListMetadata(
      const std::string& prefix) = 0;

 protected:
  explicit TableStore(StoreOptions options) : options_(std::move(options)) {}
  StoreOptions options_;
};

}  // namespace tablelake
