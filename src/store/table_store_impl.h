// The embedded table store's implementation class, shared by the files that implement it:
// table_store_catalog.cc (open, catalog), write_path.cc, read_path.cc, bulk_loader.cc and
// stream_and_metadata.cc. See docs/key_format.md for the on-disk layout.
//
// Write protocol: a writer resolves its table and key, locks the row's stripe, reads the stored
// row when the operation needs it (conditions, updates), computes the new row, and then, under
// the commit mutex, assigns stream sequences and applies data, change records and counters in
// one RocksDB WriteBatch. Commit order therefore equals sequence order, which is what lets a
// snapshot taken under the same mutex stand for "every sequence <= S and nothing after".
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_set>

#include "common/coding.h"
#include "fmt/format.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"
#include "store/catalog.h"
#include "store/cell_rules.h"
#include "store/change_codec.h"
#include "store/compaction.h"
#include "store/condition.h"
#include "store/folder.h"
#include "store/info_log.h"
#include "store/key_codec.h"
#include "store/row_codec.h"
#include "store/split_points.h"
#include "tablelake/table_store.h"

namespace tablelake::store {

using TablePtr = std::shared_ptr<const TableInfo>;

constexpr char kTableMetaPrefix[] = "table/";
constexpr char kNextTableIdKey[] = "next_table_id";
constexpr char kLastSequenceKey[] = "last_sequence";
constexpr char kAutoIncrementPrefix[] = "autoinc/";
// Where bulk loads keep their sorted runs (<store>/bulk/<pid>-<n>/), removed when they end and,
// after a crash, at the next open for writing.
constexpr char kBulkFolder[] = "bulk";
constexpr size_t kRowLockStripes = 1024;

inline Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  if (s.IsNoSpace() || s.ToString().find("No space left") != std::string::npos) {
    // Not retryable: only freeing space helps.
    return Status::IOError(what + ": no space left on device").WithRetryable(false);
  }
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut())
    return Status::Unavailable(what + ": " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

inline std::string_view ToView(const rocksdb::Slice& s) {
  return std::string_view(s.data(), s.size());
}

inline bool KeepsStream(const TableInfo& t) {
  return t.desc.stream.enabled || !t.desc.change_log_holds.empty();
}

inline std::string TableMetaKey(const std::string& name) { return kTableMetaPrefix + name; }
inline std::string AutoIncrementKey(uint32_t id) {
  return kAutoIncrementPrefix + std::to_string(id);
}

class SnapshotImpl : public Snapshot {
 public:
  SnapshotImpl(rocksdb::DB* db, const rocksdb::Snapshot* snap, uint64_t seq)
      : db_(db), snap_(snap), seq_(seq) {}
  ~SnapshotImpl() override { db_->ReleaseSnapshot(snap_); }
  uint64_t sequence() const override { return seq_; }
  const rocksdb::Snapshot* rocks() const { return snap_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
  uint64_t seq_;
};

// A row write between resolution and commit.
struct PendingWrite {
  TablePtr table;
  ChangeOp op = ChangeOp::kPut;
  PrimaryKey pk;  // resolved (auto-increment filled in)
  std::string data_key;
  int64_t auto_increment = 0;            // the value assigned, 0 if none
  bool mutate = true;                    // false: nothing to store (e.g. deletes of absent columns)
  std::optional<std::string> new_value;  // nullopt with mutate: delete the row
  std::vector<ColumnUpdate> columns;     // as they took effect
  std::vector<Cell> image;               // UPDATE: newest version per column after the write
  std::string change_value;              // encoded change record, commit time patched at commit
  ReturnType return_type = ReturnType::kNone;
  Condition condition;
  WriteResult result;
};

// Shared by the write and read paths (write_path.cc).
// Filters and conditions test attribute columns: a row never holds its key columns as
// cells, so a comparison on one would silently match nothing.
Status CheckFilterColumns(const TableInfo& t, const Filter& f);
std::string DataKey(const TableInfo& t, const PrimaryKey& pk);

class RowIteratorImpl;
class BulkLoaderImpl;

class TableStoreImpl : public TableStore {
 public:
  explicit TableStoreImpl(StoreOptions options) : TableStore(std::move(options)) {
    if (!options_.clock) options_.clock = Clock::System();
    registry_ = std::make_shared<store::RetentionRegistry>(options_.clock);
  }
  ~TableStoreImpl() override {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    if (db_) db_->Close();
    db_.reset();
    if (!secondary_dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(secondary_dir_, ec);
    }
  }

  Status Open(const std::string& dir);
  rocksdb::Status OpenRocks(rocksdb::DBOptions db_opts, const std::string& dir,
                            const std::vector<rocksdb::ColumnFamilyDescriptor>& cfs,
                            bool follow_writer, rocksdb::DB** raw);
  static bool IsLockError(const rocksdb::Status& s);
  static Status InUse(const std::string& dir, const store::FolderUser& user);

  Status CreateTable(const TableMeta& meta, const TableOptions& options,
                     const StreamSpecification& stream) override;
  Result<std::vector<std::string>> ListTable() override;
  Result<TableDescription> DescribeTable(const std::string& table) override;
  Status UpdateTable(const std::string& table, const std::optional<TableOptions>& options,
                     const std::optional<StreamSpecification>& stream) override;
  Status DeleteTable(const std::string& table) override;

  Result<WriteResult> PutRow(const PutRowRequest& r) override;
  Result<WriteResult> UpdateRow(const UpdateRowRequest& r) override;
  Result<WriteResult> DeleteRow(const DeleteRowRequest& r) override;
  Result<std::optional<Row>> GetRow(const GetRowRequest& r) override;
  using TableStore::GetRange;
  Status GetRange(const GetRangeRequest& r, GetRangeResult* result) override;
  std::vector<Result<std::optional<Row>>> BatchGetRow(
      const std::vector<GetRowRequest>& requests) override;
  std::vector<Result<WriteResult>> BatchWriteRow(const std::vector<BatchWriteItem>& items) override;
  Result<std::unique_ptr<RowIterator>> NewRowIterator(const std::string& table,
                                                      const PrimaryKey& start,
                                                      const PrimaryKey& end,
                                                      const ReadOptions& options) override;
  Result<std::unique_ptr<BulkLoader>> NewBulkLoader(const std::string& table) override;

  Result<std::unique_ptr<Snapshot>> GetSnapshot() override;
  Result<Checkpoint> CreateCheckpoint(const std::string& name) override;
  Status DropCheckpoint(const std::string& name) override;
  Result<StreamReadResult> ReadStream(const std::string& table, uint64_t from,
                                      int32_t limit) override;
  uint64_t LastSequence() const override { return last_seq_.load(); }
  Status HoldChangeLog(const std::string& table, const std::string& consumer,
                       uint64_t from_sequence) override;
  Status ReleaseChangeLog(const std::string& table, const std::string& consumer) override;
  Status CompactAll() override;
  Result<std::vector<PrimaryKey>> ComputeSplitPoints(const std::string& table, int64_t split_bytes,
                                                     int32_t limit) override {
    TL_ASSIGN_OR_RETURN(TablePtr t, FindTable(table));
    return store::ComputeSplitPoints(db_.get(), data_cf_, t->id, t->desc.meta.primary_key,
                                     split_bytes, limit);
  }
  Result<std::vector<PrimaryKey>> SplitIntoParts(const std::string& table, int32_t parts,
                                                 int64_t min_part_bytes) override {
    TL_ASSIGN_OR_RETURN(TablePtr t, FindTable(table));
    return store::SplitIntoParts(db_.get(), data_cf_, t->id, t->desc.meta.primary_key, parts,
                                 min_part_bytes);
  }
  Status PutMetadata(const std::string& key, const std::string& value) override;
  Status DeleteMetadata(const std::string& key) override;
  Status WriteMetadata(const std::vector<std::pair<std::string, std::string>>& puts,
                       const std::vector<std::string>& deletes) override;
  Result<std::optional<std::string>> GetMetadata(const std::string& key) override;
  Result<std::vector<std::pair<std::string, std::string>>> ListMetadata(
      const std::string& prefix) override;

  // Used by RowIteratorImpl.
  int64_t NowMillis() const { return options_.clock->NowMillis(); }

 private:
  Result<TablePtr> FindTable(const std::string& name) const;
  Status CheckWritable() const {
    return options_.read_only ? Status::NotSupported("the store is open read-only") : Status::OK();
  }
  void PublishRetention();  // requires catalog_mu_ held
  Status PersistTable(const TableInfo& info);

  // ---- writes ----
  Result<PendingWrite> ResolvePut(const PutRowRequest& r);
  // Fills an AUTO_INCREMENT placeholder of `pk`: the value assigned, 0 if none.
  Result<int64_t> FillAutoIncrement(const TableInfo& t, const PutRowRequest& r, PrimaryKey* pk);
  // A blind put (no condition, nothing returned) in its stored form, by PutRow's checks and steps
  // without a read or a PendingWrite: the bulk loader's rows, on its parsing threads.
  // Appends the row's stored form to `*out`; a refused row appends nothing.
  Status EncodeBlindPut(const TableInfo& t, PutRowRequest r, BulkLoader::PreparedRows* out);
  Status EncodeBlindPut(const TableInfo& t, const RowView& r, BulkLoader::PreparedRows* out);
  Result<PendingWrite> ResolveUpdate(const UpdateRowRequest& r);
  Result<PendingWrite> ResolveDelete(const DeleteRowRequest& r);
  Result<PendingWrite> ResolveItem(const BatchWriteItem& item);
  Status Evaluate(PendingWrite* w, const BatchWriteItem& item);
  Status CheckCondition(const PendingWrite& w, const std::optional<std::vector<Cell>>& row);
  Status Commit(const std::vector<PendingWrite*>& writes);
  // Pieces of a commit, under commit_mu_.
  void AppendChange(uint32_t table_id, std::string* change, int64_t commit_us, uint64_t* seq,
                    rocksdb::WriteBatch* batch);
  void AppendAutoIncrement(uint32_t table_id, int64_t value, rocksdb::WriteBatch* batch);
  Status WriteCommit(rocksdb::WriteBatch* batch, uint64_t seq, int64_t commit_us);
  Result<WriteResult> WriteOne(const BatchWriteItem& item);
  std::mutex& StripeFor(const std::string& key) {
    return row_locks_[std::hash<std::string>{}(key) % kRowLockStripes];
  }
  int64_t NextAutoIncrement(uint32_t table_id);

  // ---- reads ----
  // The stored cells of a row with retention applied; nullopt when absent or fully expired.
  Result<std::optional<std::vector<Cell>>> LoadRow(const TableInfo& t, const std::string& key,
                                                   const rocksdb::Snapshot* snap);
  const rocksdb::Snapshot* RocksSnapshot(const ReadOptions& o) const {
    return o.snapshot ? static_cast<const SnapshotImpl*>(o.snapshot)->rocks() : nullptr;
  }

  friend class RowIteratorImpl;
  friend class BulkLoaderImpl;

  std::shared_ptr<store::RetentionRegistry> registry_;
  std::string dir_;
  std::string secondary_dir_;  // a secondary's own folder (its info log), removed at the end
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* data_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* stream_cf_ = nullptr;
  rocksdb::WriteOptions write_options_;

  mutable std::shared_mutex catalog_mu_;
  std::map<std::string, TablePtr> tables_;
  uint32_t next_table_id_ = 1;

  std::array<std::mutex, kRowLockStripes> row_locks_;
  std::mutex commit_mu_;
  std::atomic<uint64_t> last_seq_{0};
  int64_t last_commit_us_ = 0;
  bool needs_resume_ = false;  // under commit_mu_

  std::mutex autoinc_mu_;
  std::map<uint32_t, int64_t> autoinc_;  // last value handed out per table
};

}  // namespace tablelake::store
