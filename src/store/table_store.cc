// The embedded table store on RocksDB. See docs/key_format.md for the on-disk layout.
//
// Write protocol: a writer resolves its table and key, locks the row's stripe, reads the stored
// row when the operation needs it (conditions, updates), computes the new row, and then, under
// the commit mutex, assigns stream sequences and applies data, change records and counters in
// one RocksDB WriteBatch. Commit order therefore equals sequence order, which is what lets a
// snapshot taken under the same mutex stand for "every sequence <= S and nothing after".
#include "tablelake/table_store.h"

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

namespace tablelake {
namespace {

using store::TableInfo;
using TablePtr = std::shared_ptr<const TableInfo>;

constexpr char kTableMetaPrefix[] = "table/";
constexpr char kNextTableIdKey[] = "next_table_id";
constexpr char kLastSequenceKey[] = "last_sequence";
constexpr char kAutoIncrementPrefix[] = "autoinc/";
constexpr size_t kRowLockStripes = 1024;

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
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

std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

bool KeepsStream(const TableInfo& t) {
  return t.desc.stream.enabled || !t.desc.change_log_holds.empty();
}

std::string TableMetaKey(const std::string& name) { return kTableMetaPrefix + name; }
std::string AutoIncrementKey(uint32_t id) { return kAutoIncrementPrefix + std::to_string(id); }

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

// ---------------------------------------------------------------------------------------------
// open and catalog

Status TableStoreImpl::Open(const std::string& dir) {
  std::error_code ec;
  if (options_.create_if_missing && !options_.read_only) {
    std::filesystem::create_directories(dir, ec);
  }
  if (!std::filesystem::exists(dir, ec)) {
    return Status::NotFound(fmt::format("data folder '{}' does not exist", dir));
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::InvalidArgument(fmt::format("'{}' is not a folder", dir));
  }
  std::optional<store::FolderUser> user = store::FolderInUse(dir);
  if (user && !options_.read_only) return InUse(dir, *user);
  rocksdb::DBOptions db_opts;
  db_opts.create_if_missing = options_.create_if_missing;
  db_opts.create_missing_column_families = true;
  db_opts.IncreaseParallelism(2);
  db_opts.max_background_jobs = 2;
  db_opts.info_log = store::NewInfoLog(dir);

  rocksdb::BlockBasedTableOptions table_opts;
  table_opts.block_cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  table_opts.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table_opts.block_size = 16 * 1024;

  rocksdb::ColumnFamilyOptions data_opts;
  data_opts.OptimizeLevelStyleCompaction(64 << 20);
  data_opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_opts));
  data_opts.compression = rocksdb::kLZ4Compression;
  data_opts.compaction_filter_factory = store::NewDataCompactionFilterFactory(registry_);
  rocksdb::ColumnFamilyOptions stream_opts = data_opts;
  stream_opts.compaction_filter_factory = store::NewStreamCompactionFilterFactory(registry_);
  rocksdb::ColumnFamilyOptions meta_opts;

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, meta_opts}, {"data", data_opts}, {"stream", stream_opts}};
  rocksdb::DB* raw = nullptr;
  dir_ = dir;
  rocksdb::Status opened = OpenRocks(db_opts, dir, cfs, user.has_value(), &raw);
  if (IsLockError(opened)) {
    // Another process took the folder between the check and the open.
    user = store::FolderInUse(dir);
    if (user && !options_.read_only) return InUse(dir, *user);
    if (user) opened = OpenRocks(db_opts, dir, cfs, true, &raw);
  }
  TL_RETURN_IF_ERROR(FromRocks(opened, "open store '" + dir + "'"));
  db_.reset(raw);
  meta_cf_ = handles_[0];
  data_cf_ = handles_[1];
  stream_cf_ = handles_[2];
  write_options_.sync = options_.sync_writes;

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  for (it->Seek(kTableMetaPrefix); it->Valid() && it->key().starts_with(kTableMetaPrefix);
       it->Next()) {
    auto info = std::make_shared<TableInfo>();
    TL_RETURN_IF_ERROR(store::ParseTableInfo(ToView(it->value()), info.get()));
    tables_[info->desc.meta.name] = info;
  }
  TL_RETURN_IF_ERROR(FromRocks(it->status(), "read catalog"));
  for (it->Seek(kAutoIncrementPrefix); it->Valid() && it->key().starts_with(kAutoIncrementPrefix);
       it->Next()) {
    uint32_t id = static_cast<uint32_t>(std::stoul(it->key().ToString().substr(8)));
    autoinc_[id] = static_cast<int64_t>(DecodeBigEndian64(it->value().data()));
  }
  std::string v;
  if (db_->Get(rocksdb::ReadOptions(), meta_cf_, kNextTableIdKey, &v).ok() && v.size() == 4) {
    next_table_id_ = DecodeBigEndian32(v.data());
  }
  if (db_->Get(rocksdb::ReadOptions(), meta_cf_, kLastSequenceKey, &v).ok() && v.size() == 8) {
    last_seq_ = DecodeBigEndian64(v.data());
  }
  std::unique_lock lock(catalog_mu_);
  // A read-only copy (a checkpoint) must not reclaim anything: compaction does not run there,
  // and its registry stays unpublished so that nothing is filtered.
  if (!options_.read_only) PublishRetention();
  return Status::OK();
}

bool TableStoreImpl::IsLockError(const rocksdb::Status& s) {
  return s.IsIOError() && s.ToString().find("lock file") != std::string::npos;
}

Status TableStoreImpl::InUse(const std::string& dir, const store::FolderUser& user) {
  return Status::Unavailable(
      fmt::format("data folder '{}' is in use by another process ({})", dir, user.Describe()));
}

rocksdb::Status TableStoreImpl::OpenRocks(rocksdb::DBOptions db_opts, const std::string& dir,
                                          const std::vector<rocksdb::ColumnFamilyDescriptor>& cfs,
                                          bool follow_writer, rocksdb::DB** raw) {
  handles_.clear();
  if (follow_writer) {
    // Another process writes the folder: follow it as a RocksDB secondary, which tolerates the
    // files the writer adds and removes meanwhile (a plain read-only open does not).
    if (secondary_dir_.empty()) {
      auto made = store::MakeTempFolder("tablelake-reader");
      if (!made.ok()) return rocksdb::Status::IOError(made.status().message());
      secondary_dir_ = *made;
    }
    db_opts.max_open_files = -1;
    db_opts.info_log = store::NewInfoLog(secondary_dir_);
    return rocksdb::DB::OpenAsSecondary(db_opts, dir, secondary_dir_, cfs, &handles_, raw);
  }
  if (options_.read_only) return rocksdb::DB::OpenForReadOnly(db_opts, dir, cfs, &handles_, raw);
  return rocksdb::DB::Open(db_opts, dir, cfs, &handles_, raw);
}

void TableStoreImpl::PublishRetention() {
  store::RetentionRegistry::Map map;
  for (const auto& [name, t] : tables_) {
    store::RetentionPolicy p;
    p.options = t->desc.options;
    p.keeps_stream = KeepsStream(*t);
    p.stream_hours = t->desc.stream.enabled ? t->desc.stream.expiration_hours : 0;
    for (const auto& [consumer, from] : t->desc.change_log_holds)
      p.held_from = std::min(p.held_from, from);
    p.max_hold_hours = options_.max_change_log_hours;
    map[t->id] = p;
  }
  registry_->Publish(std::move(map));
}

Result<TablePtr> TableStoreImpl::FindTable(const std::string& name) const {
  std::shared_lock lock(catalog_mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    return Status::NotFound(fmt::format("table '{}' does not exist", name));
  }
  return it->second;
}

Status TableStoreImpl::PersistTable(const TableInfo& info) {
  return FromRocks(db_->Put(write_options_, meta_cf_, TableMetaKey(info.desc.meta.name),
                            store::SerializeTableInfo(info)),
                   "write table meta");
}

Status TableStoreImpl::CreateTable(const TableMeta& meta, const TableOptions& options,
                                   const StreamSpecification& stream) {
  TL_RETURN_IF_ERROR(CheckWritable());
  TL_RETURN_IF_ERROR(store::ValidateTableMeta(meta));
  TL_RETURN_IF_ERROR(store::ValidateTableOptions(meta.name, options));
  TL_RETURN_IF_ERROR(store::ValidateStream(meta.name, stream));
  std::unique_lock lock(catalog_mu_);
  if (tables_.count(meta.name)) {
    return Status::AlreadyExists(fmt::format("table '{}' already exists", meta.name));
  }
  if (static_cast<int32_t>(tables_.size()) >= options_.max_tables) {
    return Status(StatusCode::kQuotaExhausted,
                  fmt::format("cannot create table '{}': the store holds the maximum of {} tables",
                              meta.name, options_.max_tables));
  }
  auto info = std::make_shared<TableInfo>();
  info->id = next_table_id_;
  info->desc.table_id = info->id;
  info->desc.meta = meta;
  info->desc.options = options;
  info->desc.stream = stream;
  info->desc.creation_time_us = options_.clock->NowMicros();
  if (stream.enabled) {
    info->desc.stream_id = fmt::format("{}_{}", meta.name, info->desc.creation_time_us);
    info->desc.stream_enable_time_us = info->desc.creation_time_us;
  }
  rocksdb::WriteBatch batch;
  std::string next_id;
  PutBigEndian32(&next_id, next_table_id_ + 1);
  batch.Put(meta_cf_, kNextTableIdKey, next_id);
  batch.Put(meta_cf_, TableMetaKey(meta.name), store::SerializeTableInfo(*info));
  TL_RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), "create table"));
  ++next_table_id_;
  tables_[meta.name] = info;
  PublishRetention();
  return Status::OK();
}

Result<std::vector<std::string>> TableStoreImpl::ListTable() {
  std::shared_lock lock(catalog_mu_);
  std::vector<std::string> names;
  for (const auto& [name, t] : tables_) names.push_back(name);
  return names;
}

Result<TableDescription> TableStoreImpl::DescribeTable(const std::string& table) {
  TL_ASSIGN_OR_RETURN(TablePtr t, FindTable(table));
  return t->desc;
}

Status TableStoreImpl::UpdateTable(const std::string& table,
                                   const std::optional<TableOptions>& options,
                                   const std::optional<StreamSpecification>& stream) {
  std::unique_lock lock(catalog_mu_);
  auto it = tables_.find(table);
  if (it == tables_.end()) return Status::NotFound(fmt::format("table '{}' does not exist", table));
  auto info = std::make_shared<TableInfo>(*it->second);
  if (options) {
    TL_RETURN_IF_ERROR(store::ValidateTableOptions(table, *options));
    info->desc.options = *options;
  }
  bool drop_stream = false;
  if (stream) {
    TL_RETURN_IF_ERROR(store::ValidateStream(table, *stream));
    if (stream->enabled && !info->desc.stream.enabled) {
      int64_t now = options_.clock->NowMicros();
      info->desc.stream_id = fmt::format("{}_{}", table, now);
      info->desc.stream_enable_time_us = now;
    }
    // Records a delivery task holds survive the user's stream being switched off.
    drop_stream =
        !stream->enabled && info->desc.stream.enabled && info->desc.change_log_holds.empty();
    info->desc.stream = *stream;
  }
  TL_RETURN_IF_ERROR(PersistTable(*info));
  if (drop_stream) {
    std::string begin = store::TablePrefix(info->id);
    std::string end = store::PrefixSuccessor(begin);
    TL_RETURN_IF_ERROR(
        FromRocks(db_->DeleteRange(write_options_, stream_cf_, begin, end), "drop stream"));
  }
  it->second = info;
  PublishRetention();
  return Status::OK();
}

Status TableStoreImpl::HoldChangeLog(const std::string& table, const std::string& consumer,
                                     uint64_t from_sequence) {
  std::unique_lock lock(catalog_mu_);
  auto it = tables_.find(table);
  if (it == tables_.end()) return Status::NotFound(fmt::format("table '{}' does not exist", table));
  auto info = std::make_shared<TableInfo>(*it->second);
  info->desc.change_log_holds[consumer] = from_sequence;
  TL_RETURN_IF_ERROR(PersistTable(*info));
  it->second = info;
  PublishRetention();
  return Status::OK();
}

Status TableStoreImpl::ReleaseChangeLog(const std::string& table, const std::string& consumer) {
  std::unique_lock lock(catalog_mu_);
  auto it = tables_.find(table);
  if (it == tables_.end()) return Status::OK();  // the table went, and its records with it
  auto info = std::make_shared<TableInfo>(*it->second);
  if (info->desc.change_log_holds.erase(consumer) == 0) return Status::OK();
  TL_RETURN_IF_ERROR(PersistTable(*info));
  it->second = info;
  PublishRetention();
  return Status::OK();
}

Status TableStoreImpl::DeleteTable(const std::string& table) {
  TL_RETURN_IF_ERROR(CheckWritable());
  std::unique_lock lock(catalog_mu_);
  auto it = tables_.find(table);
  if (it == tables_.end()) return Status::NotFound(fmt::format("table '{}' does not exist", table));
  uint32_t id = it->second->id;
  std::string begin = store::TablePrefix(id);
  std::string end = store::PrefixSuccessor(begin);
  rocksdb::WriteBatch batch;
  batch.Delete(meta_cf_, TableMetaKey(table));
  batch.Delete(meta_cf_, AutoIncrementKey(id));
  batch.DeleteRange(data_cf_, begin, end);
  batch.DeleteRange(stream_cf_, begin, end);
  TL_RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), "drop table"));
  tables_.erase(it);
  PublishRetention();
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// writes

int64_t TableStoreImpl::NextAutoIncrement(uint32_t table_id) {
  // Unique and strictly increasing: at least the clock in µs, at least one past the last value.
  std::lock_guard lock(autoinc_mu_);
  int64_t& last = autoinc_[table_id];
  last = std::max(last + 1, options_.clock->NowMicros());
  return last;
}

namespace {

Status ValidateNotPrimaryKeyName(const TableInfo& t, const std::string& column) {
  for (const auto& pk : t.desc.meta.primary_key) {
    if (pk.name == column) {
      return Status::InvalidArgument(fmt::format(
          "table '{}': '{}' is a primary key column and cannot be written as an attribute",
          t.desc.meta.name, column));
    }
  }
  return Status::OK();
}

// Filters and conditions test attribute columns: a row never holds its key columns as
// cells, so a comparison on one would silently match nothing.
Status CheckFilterColumns(const TableInfo& t, const Filter& f) {
  for (const Filter& child : f.children) TL_RETURN_IF_ERROR(CheckFilterColumns(t, child));
  if (f.kind != Filter::Kind::kSingleColumn) return Status::OK();
  for (const auto& pk : t.desc.meta.primary_key) {
    if (pk.name == f.column) {
      return Status::InvalidArgument(fmt::format(
          "'{}' is a primary key column: filters and conditions test attribute columns (bound "
          "the key range, or give the key, instead)",
          f.column));
    }
  }
  return Status::OK();
}

Status ValidateCondition(const TableInfo& t, const Condition& c) {
  if (!c.column_condition) return Status::OK();
  std::string context = fmt::format("table '{}': condition", t.desc.meta.name);
  TL_RETURN_IF_ERROR(store::ValidateFilter(*c.column_condition, false).WithContext(context));
  return CheckFilterColumns(t, *c.column_condition).WithContext(context);
}

std::string DataKey(const TableInfo& t, const PrimaryKey& pk) {
  std::string key = store::TablePrefix(t.id);
  store::AppendPrimaryKey(pk, &key);
  return key;
}

}  // namespace

Result<PendingWrite> TableStoreImpl::ResolvePut(const PutRowRequest& r) {
  PendingWrite w;
  TL_ASSIGN_OR_RETURN(w.table, FindTable(r.table));
  const TableInfo& t = *w.table;
  TL_RETURN_IF_ERROR(store::ValidatePrimaryKey(r.table, t.desc.meta.primary_key, r.primary_key,
                                               store::KeyUse::kInsert));
  int64_t now_ms = options_.clock->NowMillis();
  for (const Cell& c : r.cells) {
    TL_RETURN_IF_ERROR(
        store::ValidateName("column", c.name).WithContext("table '" + r.table + "'"));
    TL_RETURN_IF_ERROR(ValidateNotPrimaryKeyName(t, c.name));
    TL_RETURN_IF_ERROR(store::ValidateAttributeValue(r.table, c.name, c.value));
    if (c.timestamp != kNoTimestamp) {
      TL_RETURN_IF_ERROR(
          store::ValidateCellTimestamp(r.table, c.name, c.timestamp, t.desc.options, now_ms));
    }
  }
  TL_RETURN_IF_ERROR(ValidateCondition(t, r.condition));
  w.pk = r.primary_key;
  for (auto& col : w.pk) {
    if (col.value.type() == ValueType::kAutoIncrement) {
      if (r.condition.row_existence != RowExistence::kIgnore) {
        return Status::InvalidArgument(fmt::format(
            "table '{}': a row with an AUTO_INCREMENT placeholder needs row existence IGNORE",
            r.table));
      }
      w.auto_increment = NextAutoIncrement(t.id);
      col.value = Value::Integer(w.auto_increment);
    }
  }
  w.op = ChangeOp::kPut;
  w.data_key = DataKey(t, w.pk);
  w.return_type = r.return_type;
  w.condition = r.condition;
  return w;
}

Result<PendingWrite> TableStoreImpl::ResolveUpdate(const UpdateRowRequest& r) {
  PendingWrite w;
  TL_ASSIGN_OR_RETURN(w.table, FindTable(r.table));
  const TableInfo& t = *w.table;
  if (!t.desc.options.allow_update) {
    return Status::InvalidArgument(fmt::format("table '{}' does not allow UpdateRow", r.table));
  }
  TL_RETURN_IF_ERROR(store::ValidatePrimaryKey(r.table, t.desc.meta.primary_key, r.primary_key,
                                               store::KeyUse::kRow));
  if (r.updates.empty()) {
    return Status::InvalidArgument(fmt::format("table '{}': UpdateRow has no columns", r.table));
  }
  int64_t now_ms = options_.clock->NowMillis();
  for (const ColumnUpdate& u : r.updates) {
    TL_RETURN_IF_ERROR(
        store::ValidateName("column", u.name).WithContext("table '" + r.table + "'"));
    TL_RETURN_IF_ERROR(ValidateNotPrimaryKeyName(t, u.name));
    switch (u.op) {
      case ColumnUpdate::Op::kPut:
        TL_RETURN_IF_ERROR(store::ValidateAttributeValue(r.table, u.name, u.value));
        if (u.timestamp != kNoTimestamp) {
          TL_RETURN_IF_ERROR(
              store::ValidateCellTimestamp(r.table, u.name, u.timestamp, t.desc.options, now_ms));
        }
        break;
      case ColumnUpdate::Op::kDeleteOneVersion:
        if (u.timestamp == kNoTimestamp) {
          return Status::InvalidArgument(
              fmt::format("table '{}': deleting one version of column '{}' needs its timestamp",
                          r.table, u.name));
        }
        break;
      case ColumnUpdate::Op::kIncrement:
        if (u.value.type() != ValueType::kInteger) {
          return Status::InvalidArgument(
              fmt::format("table '{}': increment of column '{}' needs an INTEGER, got {}", r.table,
                          u.name, u.value.DebugString()));
        }
        break;
      case ColumnUpdate::Op::kDeleteAllVersions:
        break;
    }
  }
  TL_RETURN_IF_ERROR(ValidateCondition(t, r.condition));
  w.op = ChangeOp::kUpdate;
  w.pk = r.primary_key;
  w.data_key = DataKey(t, w.pk);
  w.return_type = r.return_type;
  w.condition = r.condition;
  return w;
}

Result<PendingWrite> TableStoreImpl::ResolveDelete(const DeleteRowRequest& r) {
  PendingWrite w;
  TL_ASSIGN_OR_RETURN(w.table, FindTable(r.table));
  TL_RETURN_IF_ERROR(store::ValidatePrimaryKey(r.table, w.table->desc.meta.primary_key,
                                               r.primary_key, store::KeyUse::kRow));
  TL_RETURN_IF_ERROR(ValidateCondition(*w.table, r.condition));
  w.op = ChangeOp::kDelete;
  w.pk = r.primary_key;
  w.data_key = DataKey(*w.table, w.pk);
  w.return_type = r.return_type;
  w.condition = r.condition;
  return w;
}

Result<PendingWrite> TableStoreImpl::ResolveItem(const BatchWriteItem& item) {
  TL_RETURN_IF_ERROR(CheckWritable());
  switch (item.type) {
    case BatchWriteItem::Type::kPut:
      return ResolvePut(item.put);
    case BatchWriteItem::Type::kUpdate:
      return ResolveUpdate(item.update);
    case BatchWriteItem::Type::kDelete:
      return ResolveDelete(item.del);
  }
  return Status::InvalidArgument("unknown batch write type");
}

Result<std::optional<std::vector<Cell>>> TableStoreImpl::LoadRow(const TableInfo& t,
                                                                 const std::string& key,
                                                                 const rocksdb::Snapshot* snap) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(ro, data_cf_, key, &value);
  if (s.IsNotFound()) return std::optional<std::vector<Cell>>();
  TL_RETURN_IF_ERROR(FromRocks(s, "read row of table '" + t.desc.meta.name + "'"));
  std::vector<Cell> cells;
  TL_RETURN_IF_ERROR(store::DecodeCells(ToView(value), &cells));
  bool had_cells = !cells.empty();
  store::ApplyRetention(t.desc.options, NowMillis(), &cells);
  if (had_cells && cells.empty()) return std::optional<std::vector<Cell>>();
  return std::optional<std::vector<Cell>>(std::move(cells));
}

Status TableStoreImpl::CheckCondition(const PendingWrite& w,
                                      const std::optional<std::vector<Cell>>& row) {
  const Condition& c = w.condition;
  const std::string& table = w.table->desc.meta.name;
  if (c.row_existence == RowExistence::kExpectExist && !row) {
    return Status::ConditionFailed(
        fmt::format("table '{}': condition check failed: the row does not exist", table));
  }
  if (c.row_existence == RowExistence::kExpectNotExist && row) {
    return Status::ConditionFailed(
        fmt::format("table '{}': condition check failed: the row already exists", table));
  }
  if (c.column_condition &&
      !store::RowMatches(*c.column_condition, row ? *row : std::vector<Cell>())) {
    return Status::ConditionFailed(
        fmt::format("table '{}': condition check failed: the column condition is false", table));
  }
  return Status::OK();
}

Status TableStoreImpl::Evaluate(PendingWrite* w, const BatchWriteItem& item) {
  const TableInfo& t = *w->table;
  const std::string& table = t.desc.meta.name;
  int64_t now_ms = NowMillis();
  // A blind PutRow (IGNORE, no column condition) replaces the row without reading it.
  bool needs_read = w->op == ChangeOp::kUpdate ||
                    w->condition.row_existence != RowExistence::kIgnore ||
                    w->condition.column_condition.has_value();
  std::optional<std::vector<Cell>> row;
  if (needs_read) {
    TL_ASSIGN_OR_RETURN(row, LoadRow(t, w->data_key, nullptr));
    TL_RETURN_IF_ERROR(CheckCondition(*w, row));
  }
  std::vector<Cell> written;
  switch (w->op) {
    case ChangeOp::kPut: {
      std::vector<Cell> cells = item.put.cells;
      for (Cell& c : cells) {
        if (c.timestamp == kNoTimestamp) c.timestamp = now_ms;
      }
      // The last of two cells with the same column and version wins, as for sequential puts.
      std::reverse(cells.begin(), cells.end());
      store::SortCells(&cells);
      cells.erase(std::unique(cells.begin(), cells.end(),
                              [](const Cell& a, const Cell& b) {
                                return a.name == b.name && a.timestamp == b.timestamp;
                              }),
                  cells.end());
      for (const Cell& c : cells)
        w->columns.push_back({ColumnUpdate::Op::kPut, c.name, c.value, c.timestamp});
      written = cells;
      store::ApplyRetention(t.desc.options, now_ms, &cells);
      w->new_value.emplace();
      store::EncodeCells(cells, &*w->new_value);
      break;
    }
    case ChangeOp::kUpdate: {
      std::vector<Cell> cells = row ? std::move(*row) : std::vector<Cell>();
      TL_RETURN_IF_ERROR(
          store::ApplyUpdates(table, item.update.updates, now_ms, &cells, &w->columns));
      store::ApplyRetention(t.desc.options, now_ms, &cells);
      for (const auto& c : w->columns) {
        if (c.op == ColumnUpdate::Op::kPut) written.push_back({c.name, c.value, c.timestamp});
      }
      if (!row && cells.empty()) {
        w->mutate = false;  // only deletions on an absent row: nothing to store or record
        break;
      }
      w->image = store::LatestImage(cells);
      w->new_value.emplace();
      store::EncodeCells(cells, &*w->new_value);
      break;
    }
    case ChangeOp::kDelete:
      break;  // new_value stays empty: delete
  }
  if (w->mutate && KeepsStream(t)) {
    w->change_value = store::EncodeChange(0, w->op, std::string_view(w->data_key).substr(4),
                                          w->columns, w->image);
  }
  if (w->return_type != ReturnType::kNone) w->result.primary_key = w->pk;
  if (w->return_type == ReturnType::kAfterModify) w->result.row = Row{w->pk, std::move(written)};
  return Status::OK();
}

void TableStoreImpl::AppendChange(uint32_t table_id, std::string* change, int64_t commit_us,
                                  uint64_t* seq, rocksdb::WriteBatch* batch) {
  std::memcpy(change->data(), &commit_us, 8);  // fixed64 commit time, see the codec
  batch->Put(stream_cf_, store::StreamKey(table_id, ++*seq), *change);
}

void TableStoreImpl::AppendAutoIncrement(uint32_t table_id, int64_t value,
                                         rocksdb::WriteBatch* batch) {
  std::string v;
  PutBigEndian64(&v, static_cast<uint64_t>(value));
  batch->Put(meta_cf_, AutoIncrementKey(table_id), v);
}

Status TableStoreImpl::WriteCommit(rocksdb::WriteBatch* batch, uint64_t seq, int64_t commit_us) {
  // A failed write (a full disk) leaves RocksDB in its background-error state, refusing every
  // later write; once there may be room again, the next write asks it to resume.
  if (needs_resume_) {
    // Busy: RocksDB is recovering by itself (it retries each second); the write then tells.
    rocksdb::Status resumed = db_->Resume();
    if (!resumed.ok() && !resumed.IsBusy()) {
      return FromRocks(resumed, "resume after a write error");
    }
    needs_resume_ = false;
  }
  if (seq != last_seq_.load()) {
    std::string v;
    PutBigEndian64(&v, seq);
    batch->Put(meta_cf_, kLastSequenceKey, v);
  }
  if (batch->Count() == 0) return Status::OK();
  rocksdb::Status written = db_->Write(write_options_, batch);
  if (!written.ok()) {
    needs_resume_ = written.IsIOError();
    return FromRocks(written, "commit");
  }
  last_seq_ = seq;
  last_commit_us_ = commit_us;
  return Status::OK();
}

Status TableStoreImpl::Commit(const std::vector<PendingWrite*>& writes) {
  rocksdb::WriteBatch batch;
  std::lock_guard lock(commit_mu_);
  int64_t commit_us = std::max(options_.clock->NowMicros(), last_commit_us_);
  uint64_t seq = last_seq_.load();
  for (PendingWrite* w : writes) {
    if (!w->mutate) continue;
    if (w->new_value) {
      batch.Put(data_cf_, w->data_key, *w->new_value);
    } else {
      batch.Delete(data_cf_, w->data_key);
    }
    if (!w->change_value.empty()) {
      AppendChange(w->table->id, &w->change_value, commit_us, &seq, &batch);
      w->result.sequence = seq;
    }
    if (w->auto_increment != 0) AppendAutoIncrement(w->table->id, w->auto_increment, &batch);
  }
  return WriteCommit(&batch, seq, commit_us);
}

Result<WriteResult> TableStoreImpl::WriteOne(const BatchWriteItem& item) {
  TL_ASSIGN_OR_RETURN(PendingWrite w, ResolveItem(item));
  std::lock_guard row_lock(StripeFor(w.data_key));
  TL_RETURN_IF_ERROR(Evaluate(&w, item));
  TL_RETURN_IF_ERROR(Commit({&w}));
  return std::move(w.result);
}

Result<WriteResult> TableStoreImpl::PutRow(const PutRowRequest& r) {
  BatchWriteItem item;
  item.type = BatchWriteItem::Type::kPut;
  item.put = r;
  return WriteOne(item);
}

Result<WriteResult> TableStoreImpl::UpdateRow(const UpdateRowRequest& r) {
  BatchWriteItem item;
  item.type = BatchWriteItem::Type::kUpdate;
  item.update = r;
  return WriteOne(item);
}

Result<WriteResult> TableStoreImpl::DeleteRow(const DeleteRowRequest& r) {
  BatchWriteItem item;
  item.type = BatchWriteItem::Type::kDelete;
  item.del = r;
  return WriteOne(item);
}

std::vector<Result<WriteResult>> TableStoreImpl::BatchWriteRow(
    const std::vector<BatchWriteItem>& items) {
  auto fail_all = [&](const Status& s) {
    return std::vector<Result<WriteResult>>(items.size(), Result<WriteResult>(s));
  };
  if (static_cast<int32_t>(items.size()) > options_.max_batch_write_rows) {
    return fail_all(
        Status::InvalidArgument(fmt::format("BatchWriteRow: {} rows exceed the limit of {}",
                                            items.size(), options_.max_batch_write_rows)));
  }
  std::vector<Result<PendingWrite>> pending;
  pending.reserve(items.size());
  std::unordered_set<std::string> keys;
  std::set<size_t> stripes;
  for (const auto& item : items) {
    pending.push_back(ResolveItem(item));
    if (!pending.back().ok()) continue;
    const std::string& key = pending.back()->data_key;
    if (!keys.insert(key).second) {
      return fail_all(Status::InvalidArgument(
          fmt::format("BatchWriteRow: table '{}' has the same row twice in one batch",
                      pending.back()->table->desc.meta.name)));
    }
    stripes.insert(std::hash<std::string>{}(key) % kRowLockStripes);
  }
  // Stripes are locked in ascending order so that concurrent batches cannot deadlock.
  std::vector<std::unique_lock<std::mutex>> locks;
  for (size_t s : stripes) locks.emplace_back(row_locks_[s]);
  std::vector<Status> errors(items.size());
  std::vector<PendingWrite*> to_commit;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!pending[i].ok()) continue;
    errors[i] = Evaluate(&*pending[i], items[i]);
    if (errors[i].ok()) to_commit.push_back(&*pending[i]);
  }
  Status commit = Commit(to_commit);
  std::vector<Result<WriteResult>> results;
  results.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (!pending[i].ok()) {
      results.emplace_back(pending[i].status());
    } else if (!errors[i].ok()) {
      results.emplace_back(errors[i]);
    } else if (!commit.ok()) {
      results.emplace_back(commit);
    } else {
      results.emplace_back(std::move(pending[i]->result));
    }
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// reads

namespace {

struct ReadShape {
  const std::vector<std::string>* columns_to_get;
  const std::optional<TimeRange>* time_range;
  int32_t max_versions;
  const std::optional<Filter>* filter;
};

// Applies filter and projection to a visible row; false when the row is not returned.
// `versions`: the most versions any column has, when known.
bool ShapeRow(const ReadShape& shape, std::vector<Cell>* cells, uint64_t versions = UINT64_MAX) {
  // A whole-row read of single-version columns keeps everything: the common scan.
  if (versions <= 1 && !*shape.filter && shape.columns_to_get->empty() && !*shape.time_range) {
    return true;
  }
  if (*shape.filter && !store::RowMatches(**shape.filter, *cells)) return false;
  store::SelectForRead(*shape.columns_to_get, *shape.time_range, shape.max_versions, cells);
  if (*shape.filter) store::ApplyColumnPagination(**shape.filter, cells);
  return true;
}

Status ValidateRead(const TableInfo& t, int32_t max_versions,
                    const std::optional<TimeRange>& time_range,
                    const std::optional<Filter>& filter) {
  const std::string& table = t.desc.meta.name;
  if (max_versions < 0) {
    return Status::InvalidArgument(
        fmt::format("table '{}': max_versions must be positive, got {}", table, max_versions));
  }
  if (time_range && (time_range->start_ms < 0 || time_range->start_ms >= time_range->end_ms)) {
    return Status::InvalidArgument(
        fmt::format("table '{}': time range [{}, {}) is empty or negative", table,
                    time_range->start_ms, time_range->end_ms));
  }
  if (filter) {
    TL_RETURN_IF_ERROR(store::ValidateFilter(*filter, true).WithContext("table '" + table + "'"));
    TL_RETURN_IF_ERROR(CheckFilterColumns(t, *filter).WithContext("table '" + table + "'"));
  }
  return Status::OK();
}

}  // namespace

Result<std::optional<Row>> TableStoreImpl::GetRow(const GetRowRequest& r) {
  TL_ASSIGN_OR_RETURN(TablePtr t, FindTable(r.table));
  TL_RETURN_IF_ERROR(store::ValidatePrimaryKey(r.table, t->desc.meta.primary_key, r.primary_key,
                                               store::KeyUse::kRow));
  TL_RETURN_IF_ERROR(ValidateRead(*t, r.max_versions, r.time_range, r.filter));
  TL_ASSIGN_OR_RETURN(auto cells,
                      LoadRow(*t, DataKey(*t, r.primary_key), RocksSnapshot(r.read_options)));
  if (!cells) return std::optional<Row>();
  if (!ShapeRow({&r.columns_to_get, &r.time_range, r.max_versions, &r.filter}, &*cells)) {
    return std::optional<Row>();
  }
  return std::optional<Row>(Row{r.primary_key, std::move(*cells)});
}

std::vector<Result<std::optional<Row>>> TableStoreImpl::BatchGetRow(
    const std::vector<GetRowRequest>& requests) {
  if (static_cast<int32_t>(requests.size()) > options_.max_batch_get_rows) {
    Status s = Status::InvalidArgument(fmt::format("BatchGetRow: {} rows exceed the limit of {}",
                                                   requests.size(), options_.max_batch_get_rows));
    return std::vector<Result<std::optional<Row>>>(requests.size(), s);
  }
  std::vector<Result<std::optional<Row>>> results;
  results.reserve(requests.size());
  for (const auto& r : requests) results.push_back(GetRow(r));
  return results;
}

Status TableStoreImpl::GetRange(const GetRangeRequest& r, GetRangeResult* result) {
  TL_ASSIGN_OR_RETURN(TablePtr t, FindTable(r.table));
  const auto& schema = t->desc.meta.primary_key;
  TL_RETURN_IF_ERROR(
      store::ValidatePrimaryKey(r.table, schema, r.inclusive_start, store::KeyUse::kBound)
          .WithContext("inclusive start"));
  TL_RETURN_IF_ERROR(
      store::ValidatePrimaryKey(r.table, schema, r.exclusive_end, store::KeyUse::kBound)
          .WithContext("exclusive end"));
  TL_RETURN_IF_ERROR(ValidateRead(*t, r.max_versions, r.time_range, r.filter));
  if (r.limit < 0) {
    return Status::InvalidArgument(fmt::format("table '{}': limit must be >= 0", r.table));
  }
  std::string start = DataKey(*t, r.inclusive_start);
  std::string end = DataKey(*t, r.exclusive_end);
  bool forward = r.direction == Direction::kForward;
  if (forward ? start > end : start < end) {
    return Status::InvalidArgument(
        fmt::format("table '{}': the start key must be {} the end key for a {} range", r.table,
                    forward ? "less than" : "greater than", forward ? "FORWARD" : "BACKWARD"));
  }
  rocksdb::ReadOptions ro;
  ro.snapshot = RocksSnapshot(r.read_options);
  // Forward, RocksDB stops at the bound itself; backward, the loop compares.
  rocksdb::Slice upper_bound(end);
  if (forward) ro.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, data_cf_));
  auto in_range = [&] {
    if (!it->Valid()) return false;
    return forward || ToView(it->key()) > std::string_view(end);
  };
  if (forward) {
    it->Seek(start);
  } else {
    it->SeekForPrev(start);
  }
  int32_t max_rows =
      r.limit > 0 ? std::min(r.limit, options_.max_range_rows) : options_.max_range_rows;
  int64_t now_ms = NowMillis();
  ReadShape shape{&r.columns_to_get, &r.time_range, r.max_versions, &r.filter};
  // Rows decode over the result's earlier rows, reusing their buffers; `n` of them are filled.
  result->next_start_primary_key.reset();
  size_t n = 0;
  int64_t bytes = 0;
  for (; in_range(); forward ? it->Next() : it->Prev()) {
    if (static_cast<int32_t>(n) >= max_rows || bytes >= options_.max_range_bytes) {
      TL_RETURN_IF_ERROR(store::DecodePrimaryKey(schema, ToView(it->key()).substr(4),
                                                 &result->next_start_primary_key.emplace()));
      break;
    }
    if (n == result->rows.size()) result->rows.emplace_back();
    Row& row = result->rows[n];
    uint64_t versions = 0;
    TL_RETURN_IF_ERROR(store::DecodeCells(ToView(it->value()), &row.cells, &versions));
    if (store::RetentionMayDrop(t->desc.options, versions)) {
      bool had_cells = !row.cells.empty();
      store::ApplyRetention(t->desc.options, now_ms, &row.cells);
      if (had_cells && row.cells.empty()) continue;
    }
    if (!ShapeRow(shape, &row.cells, versions)) continue;
    TL_RETURN_IF_ERROR(
        store::DecodePrimaryKey(schema, ToView(it->key()).substr(4), &row.primary_key));
    // The stored size approximates the reply size, as the cap itself is approximate.
    bytes += static_cast<int64_t>(it->key().size() + it->value().size());
    ++n;
  }
  result->rows.resize(n);
  return FromRocks(it->status(), "range read of table '" + r.table + "'");
}

}  // namespace

Result<bool> RowBatch::DecodeRow(size_t i, Row* row) const {
  size_t end = i + 1 < starts_.size() ? starts_[i + 1].key : bytes_.size();
  std::string_view bytes(bytes_);
  return decoder_->Decode(bytes.substr(starts_[i].key, starts_[i].value - starts_[i].key),
                          bytes.substr(starts_[i].value, end - starts_[i].value), row);
}

void RowBatch::Reset(std::shared_ptr<const Decoder> decoder) {
  decoder_ = std::move(decoder);
  bytes_.clear();
  starts_.clear();
}

void RowBatch::Add(std::string_view key, std::string_view value) {
  uint32_t key_start = static_cast<uint32_t>(bytes_.size());
  bytes_.append(key);
  starts_.push_back({key_start, static_cast<uint32_t>(bytes_.size())});
  bytes_.append(value);
}

namespace {

// Decodes a table's stored rows as reads see them: newest live version per column.
class TableRowDecoder : public RowBatch::Decoder {
 public:
  TableRowDecoder(TablePtr table, int64_t now_ms) : table_(std::move(table)), now_ms_(now_ms) {}

  Result<bool> Decode(std::string_view key, std::string_view value, Row* row) const override {
    uint64_t versions = 0;
    TL_RETURN_IF_ERROR(store::DecodeCells(value, &row->cells, &versions));
    if (store::RetentionMayDrop(table_->desc.options, versions)) {
      bool had_cells = !row->cells.empty();
      store::KeepNewestLiveVersion(table_->desc.options, now_ms_, &row->cells);
      if (had_cells && row->cells.empty()) return false;
    }
    TL_RETURN_IF_ERROR(
        store::DecodePrimaryKey(table_->desc.meta.primary_key, key.substr(4), &row->primary_key));
    return true;
  }

 private:
  TablePtr table_;
  int64_t now_ms_;
};

class RowIteratorImpl : public RowIterator {
 public:
  static constexpr size_t kMaxBatchBytes = 8 << 20;

  RowIteratorImpl(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, rocksdb::ReadOptions ro,
                  TablePtr table, const std::string& start, std::string end, int64_t now_ms)
      : decoder_(std::make_shared<TableRowDecoder>(std::move(table), now_ms)),
        end_(std::move(end)) {
    // RocksDB stops at the bound itself, which spares a key comparison per row here.
    upper_bound_ = rocksdb::Slice(end_);
    ro.iterate_upper_bound = &upper_bound_;
    it_.reset(db->NewIterator(ro, cf));
    it_->Seek(start);
    Settle();
  }
  bool Valid() const override { return valid_; }
  void Next() override {
    it_->Next();
    Settle();
  }
  const Row& row() const override { return row_; }
  Status status() const override { return status_; }

  Status NextBatch(size_t max_rows, size_t max_bytes, RowBatch* batch) override {
    // Rows hidden by retention are copied too: the batch's decoder skips them.
    batch->Reset(decoder_);
    if (!valid_) return status_;
    // Offsets are 32-bit: a batch never grows past kMaxBatchBytes whatever the caller asks.
    max_bytes = std::min(max_bytes, kMaxBatchBytes);
    for (; it_->Valid() && batch->size() < max_rows && batch->bytes() < max_bytes; it_->Next()) {
      batch->Add(ToView(it_->key()), ToView(it_->value()));
    }
    Settle();
    return status_;
  }

 private:
  // Moves to the first visible row at or after the iterator, decoding it.
  void Settle() {
    valid_ = false;
    for (; it_->Valid(); it_->Next()) {
      auto visible = decoder_->Decode(ToView(it_->key()), ToView(it_->value()), &row_);
      if (!visible.ok()) {
        status_ = visible.status();
        return;
      }
      if (*visible) {
        valid_ = true;
        return;
      }
    }
    if (!it_->status().ok()) status_ = FromRocks(it_->status(), "scan");
  }

  std::shared_ptr<const TableRowDecoder> decoder_;
  std::string end_;
  rocksdb::Slice upper_bound_;
  std::unique_ptr<rocksdb::Iterator> it_;
  Row row_;
  bool valid_ = false;
  Status status_;
};

Result<std::unique_ptr<RowIterator>> TableStoreImpl::NewRowIterator(const std::string& table,
                                                                    const PrimaryKey& start,
                                                                    const PrimaryKey& end,
                                                                    const ReadOptions& options) {
  TL_ASSIGN_OR_RETURN(TablePtr t, FindTable(table));
  const auto& schema = t->desc.meta.primary_key;
  TL_RETURN_IF_ERROR(store::ValidatePrimaryKey(table, schema, start, store::KeyUse::kBound));
  TL_RETURN_IF_ERROR(store::ValidatePrimaryKey(table, schema, end, store::KeyUse::kBound));
  rocksdb::ReadOptions ro;
  ro.snapshot = RocksSnapshot(options);
  ro.readahead_size = 2 << 20;
  ro.fill_cache = false;  // bulk scans should not evict the point-read working set
  std::string start_key = DataKey(*t, start);
  std::string end_key = DataKey(*t, end);
  return std::unique_ptr<RowIterator>(std::make_unique<RowIteratorImpl>(
      db_.get(), data_cf_, ro, t, start_key, std::move(end_key), NowMillis()));
}

// ---------------------------------------------------------------------------------------------
// bulk loads

// Stages rows as the write path resolves and evaluates them (a blind put reads nothing), in
// their stored form, and commits them in one RocksDB write with every row stripe held.
class BulkLoaderImpl : public BulkLoader {
 public:
  BulkLoaderImpl(TableStoreImpl* store, TablePtr table) : store_(store), table_(std::move(table)) {}

  Status Put(PutRowRequest row) override {
    if (row.table != table_->desc.meta.name) {
      return Status::InvalidArgument(fmt::format("a bulk load into table '{}' got a row of '{}'",
                                                 table_->desc.meta.name, row.table));
    }
    if (row.condition.row_existence != RowExistence::kIgnore || row.condition.column_condition) {
      return Status::InvalidArgument("a bulk load writes rows blind: no row condition");
    }
    BatchWriteItem item;
    item.type = BatchWriteItem::Type::kPut;
    item.put = std::move(row);
    TL_ASSIGN_OR_RETURN(PendingWrite w, store_->ResolveItem(item));
    if (w.table->id != table_->id) return Dropped();
    TL_RETURN_IF_ERROR(store_->Evaluate(&w, item));
    data_.Put(store_->data_cf_, w.data_key, *w.new_value);
    if (!w.change_value.empty()) {
      change_bytes_ += w.change_value.size();
      changes_.push_back(std::move(w.change_value));
    }
    auto_increment_ = std::max(auto_increment_, w.auto_increment);
    ++rows_;
    return Status::OK();
  }

  uint64_t rows() const override { return rows_; }
  uint64_t staged_bytes() const override { return data_.GetDataSize() + change_bytes_; }

  Status Commit() override {
    if (rows_ == 0) return Status::OK();
    TL_RETURN_IF_ERROR(CheckRoom());
    // Every stripe, in order (as BatchWriteRow takes its own): no read-modify-write of another
    // writer straddles the load.
    std::vector<std::unique_lock<std::mutex>> stripes;
    stripes.reserve(kRowLockStripes);
    for (auto& m : store_->row_locks_) stripes.emplace_back(m);
    auto now = store_->FindTable(table_->desc.meta.name);
    if (!now.ok() || (*now)->id != table_->id) return Dropped();
    std::lock_guard lock(store_->commit_mu_);
    int64_t commit_us = std::max(store_->options_.clock->NowMicros(), store_->last_commit_us_);
    uint64_t seq = store_->last_seq_.load();
    for (std::string& change : changes_) {
      store_->AppendChange(table_->id, &change, commit_us, &seq, &data_);
    }
    if (auto_increment_ != 0) store_->AppendAutoIncrement(table_->id, auto_increment_, &data_);
    TL_RETURN_IF_ERROR(store_->WriteCommit(&data_, seq, commit_us)
                           .WithContext(fmt::format("table '{}': bulk load of {} rows",
                                                    table_->desc.meta.name, rows_)));
    data_.Clear();
    changes_.clear();
    rows_ = 0;
    // The next open need not replay a load-sized log. A failed flush loses nothing: the rows
    // are in the log, and RocksDB flushes them later.
    rocksdb::Status flushed = store_->db_->Flush(
        rocksdb::FlushOptions(), {store_->data_cf_, store_->stream_cf_, store_->meta_cf_});
    if (!flushed.ok()) {
      rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, store_->db_->GetOptions().info_log,
                   "flush after bulk load: %s", flushed.ToString().c_str());
    }
    return Status::OK();
  }

 private:
  Status Dropped() const {
    return Status::NotFound(
        fmt::format("table '{}' was dropped during the bulk load", table_->desc.meta.name));
  }
  Status CheckRoom() const {
    int64_t free = store::FreeBytes(store_->dir_);
    int64_t needed = static_cast<int64_t>(staged_bytes()) + (1 << 20);
    if (free < 0 || free >= needed) return Status::OK();
    return Status::IOError(fmt::format(
        "table '{}': no space left on device for a bulk load of {} rows: it needs about {} MiB "
        "in '{}', which has {} MiB free; nothing was written",
        table_->desc.meta.name, rows_, needed >> 20, store_->dir_, free >> 20));
  }

  TableStoreImpl* store_;
  TablePtr table_;
  rocksdb::WriteBatch data_;
  std::vector<std::string> changes_;
  uint64_t change_bytes_ = 0;
  int64_t auto_increment_ = 0;
  uint64_t rows_ = 0;
};

Result<std::unique_ptr<BulkLoader>> TableStoreImpl::NewBulkLoader(const std::string& table) {
  TL_RETURN_IF_ERROR(CheckWritable());
  TL_ASSIGN_OR_RETURN(TablePtr t, FindTable(table));
  return std::unique_ptr<BulkLoader>(std::make_unique<BulkLoaderImpl>(this, std::move(t)));
}

// ---------------------------------------------------------------------------------------------
// stream

Result<std::unique_ptr<Snapshot>> TableStoreImpl::GetSnapshot() {
  std::lock_guard lock(commit_mu_);
  return std::unique_ptr<Snapshot>(
      std::make_unique<SnapshotImpl>(db_.get(), db_->GetSnapshot(), last_seq_.load()));
}

Result<TableStore::Checkpoint> TableStoreImpl::CreateCheckpoint(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name.find("..") != std::string::npos) {
    return Status::InvalidArgument(fmt::format("checkpoint name '{}' is invalid", name));
  }
  if (dir_.empty()) return Status::Internal("the store has no folder for checkpoints");
  std::string path = dir_ + "/checkpoints/" + name;
  std::error_code ec;
  // A half-made one from a crash: RocksDB builds it in "<path>.tmp" and renames it at the end.
  std::filesystem::remove_all(path, ec);
  std::filesystem::remove_all(path + ".tmp", ec);
  std::filesystem::create_directories(dir_ + "/checkpoints", ec);
  rocksdb::Checkpoint* raw = nullptr;
  TL_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // Under the commit mutex: the copy holds exactly the writes up to last_seq_.
  std::lock_guard lock(commit_mu_);
  TL_RETURN_IF_ERROR(FromRocks(checkpoint->CreateCheckpoint(path, /*log_size_for_flush=*/0),
                               "create checkpoint '" + path + "'"));
  return Checkpoint{path, last_seq_.load()};
}

Status TableStoreImpl::DropCheckpoint(const std::string& name) {
  std::error_code ec;
  std::filesystem::remove_all(dir_ + "/checkpoints/" + name + ".tmp", ec);
  std::filesystem::remove_all(dir_ + "/checkpoints/" + name, ec);
  if (ec) return Status::IOError(fmt::format("drop checkpoint '{}': {}", name, ec.message()));
  return Status::OK();
}

Result<StreamReadResult> TableStoreImpl::ReadStream(const std::string& table, uint64_t from,
                                                    int32_t limit) {
  TL_ASSIGN_OR_RETURN(TablePtr t, FindTable(table));
  if (!KeepsStream(*t)) {
    return Status::InvalidArgument(fmt::format("table '{}' has no stream enabled", table));
  }
  if (limit <= 0) limit = 1000;
  std::string prefix = store::TablePrefix(t->id);
  // Held records live up to the maximum hold; others as long as the user's stream keeps them.
  int32_t user_hours = t->desc.stream.enabled ? t->desc.stream.expiration_hours : 0;
  int32_t hours = t->desc.change_log_holds.empty()
                      ? user_hours
                      : std::max(options_.max_change_log_hours, user_hours);
  int64_t oldest_us = options_.clock->NowMicros() - int64_t{hours} * 3600 * 1000000;
  StreamReadResult result;
  result.next_sequence = from;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), stream_cf_));
  for (it->Seek(store::StreamKey(t->id, from)); it->Valid() && it->key().starts_with(prefix) &&
                                                static_cast<int32_t>(result.records.size()) < limit;
       it->Next()) {
    ChangeRecord rec;
    rec.sequence = DecodeBigEndian64(it->key().data() + 4);
    result.next_sequence = rec.sequence + 1;
    TL_RETURN_IF_ERROR(store::DecodeChange(t->desc.meta.primary_key, ToView(it->value()), &rec));
    if (rec.commit_time_us < oldest_us) continue;  // expired, not yet compacted away
    rec.table = table;
    result.records.push_back(std::move(rec));
  }
  TL_RETURN_IF_ERROR(FromRocks(it->status(), "read stream of table '" + table + "'"));
  return result;
}

Status TableStoreImpl::CompactAll() {
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* cf : {data_cf_, stream_cf_}) {
    TL_RETURN_IF_ERROR(FromRocks(db_->CompactRange(o, cf, nullptr, nullptr), "compact"));
  }
  return Status::OK();
}

// Component metadata lives in the meta column family under its own prefix, apart from the
// catalog's keys.
constexpr char kExtensionPrefix[] = "ext/";

Status TableStoreImpl::PutMetadata(const std::string& key, const std::string& value) {
  TL_RETURN_IF_ERROR(CheckWritable());
  return FromRocks(db_->Put(write_options_, meta_cf_, kExtensionPrefix + key, value),
                   "write metadata '" + key + "'");
}

Status TableStoreImpl::DeleteMetadata(const std::string& key) {
  return FromRocks(db_->Delete(write_options_, meta_cf_, kExtensionPrefix + key),
                   "delete metadata '" + key + "'");
}

Status TableStoreImpl::WriteMetadata(const std::vector<std::pair<std::string, std::string>>& puts,
                                     const std::vector<std::string>& deletes) {
  TL_RETURN_IF_ERROR(CheckWritable());
  rocksdb::WriteBatch batch;
  for (const auto& key : deletes) batch.Delete(meta_cf_, kExtensionPrefix + key);
  for (const auto& [key, value] : puts) batch.Put(meta_cf_, kExtensionPrefix + key, value);
  return FromRocks(db_->Write(write_options_, &batch), "write metadata");
}

Result<std::optional<std::string>> TableStoreImpl::GetMetadata(const std::string& key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kExtensionPrefix + key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  TL_RETURN_IF_ERROR(FromRocks(s, "read metadata '" + key + "'"));
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<std::pair<std::string, std::string>>> TableStoreImpl::ListMetadata(
    const std::string& prefix) {
  std::string full = kExtensionPrefix + prefix;
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  for (it->Seek(full); it->Valid() && it->key().starts_with(full); it->Next()) {
    out.emplace_back(it->key().ToString().substr(sizeof(kExtensionPrefix) - 1),
                     it->value().ToString());
  }
  TL_RETURN_IF_ERROR(FromRocks(it->status(), "list metadata '" + prefix + "'"));
  return out;
}

}  // namespace

Result<std::unique_ptr<TableStore>> TableStore::Open(const std::string& dir,
                                                     const StoreOptions& options) {
  auto store = std::make_unique<TableStoreImpl>(options);
  TL_RETURN_IF_ERROR(store->Open(dir));
  return std::unique_ptr<TableStore>(std::move(store));
}

}  // namespace tablelake
