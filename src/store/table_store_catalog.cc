// Opening the store, and its catalog of tables: create, list, describe, update, delete, change-log
// holds.
#include "store/table_store_impl.h"

namespace tablelake::store {

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
  // Bloom filters spare point reads of missing keys a block read; a read-only open (a
  // delivery's snapshot, a reading command) would load every file's filter for scans and a few
  // lookups: 12 MiB for 10M rows, more than they save.
  if (!options_.read_only) table_opts.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table_opts.block_size = 16 * 1024;

  rocksdb::ColumnFamilyOptions data_opts;
  data_opts.OptimizeLevelStyleCompaction(64 << 20);
  data_opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_opts));
  data_opts.compression = rocksdb::kLZ4Compression;
  data_opts.compaction_filter_factory = store::NewDataCompactionFilterFactory(registry_);
  rocksdb::ColumnFamilyOptions stream_opts = data_opts;
  stream_opts.compaction_filter_factory = store::NewStreamCompactionFilterFactory(registry_);
  // The stream is only scanned, by sequence, never looked up by key: a Bloom filter would cost
  // a hash per record written (a tenth of writing a 2M-row load's records) and memory, and
  // spare no read.
  rocksdb::BlockBasedTableOptions stream_table_opts = table_opts;
  stream_table_opts.filter_policy.reset();
  stream_opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(stream_table_opts));
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
  if (!options_.read_only && !user) {
    std::error_code ignored;  // runs of a bulk load a crash interrupted: never ingested
    std::filesystem::remove_all(std::filesystem::path(dir) / kBulkFolder, ignored);
  }

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
    uint32_t id = static_cast<uint32_t>(
        std::stoul(it->key().ToString().substr(sizeof(kAutoIncrementPrefix) - 1)));
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

}  // namespace tablelake::store
