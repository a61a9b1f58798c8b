// The change stream, snapshots and checkpoints, compaction, and the metadata of components built on
// the store.
#include "store/table_store_impl.h"

namespace tablelake::store {

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
  rocksdb::ReadOptions ro;
  // Readers go through the stream once, in order: its blocks would only evict the point-read
  // working set from the block cache (an incremental delivery of a 2M-record backlog filled all
  // 256 MiB of it).
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, stream_cf_));
  size_t bytes = 0;  // of the records returned, as stored
  for (it->Seek(store::StreamKey(t->id, from)); it->Valid() && it->key().starts_with(prefix) &&
                                                static_cast<int32_t>(result.records.size()) < limit;
       it->Next()) {
    // Counted of the records returned only: a read that skips expired records is never empty
    // before the stream's end.
    if (bytes >= kStreamPageBytes) {
      result.truncated = true;
      break;
    }
    ChangeRecord rec;
    if (!store::StreamKeySequence(ToView(it->key()), &rec.sequence)) {
      return Status::Corruption(
          fmt::format("table '{}': a stream key of {} bytes", table, it->key().size()));
    }
    result.next_sequence = rec.sequence + 1;
    TL_RETURN_IF_ERROR(store::DecodeChange(t->desc.meta.primary_key, ToView(it->value()), &rec));
    if (rec.commit_time_us < oldest_us) continue;  // expired, not yet compacted away
    bytes += it->value().size();
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

}  // namespace tablelake::store
