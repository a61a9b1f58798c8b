// Bulk loads: many rows of one table in one atomic write.
#include "store/table_store_impl.h"

namespace tablelake::store {

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

}  // namespace tablelake::store
