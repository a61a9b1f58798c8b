// The write path: resolving a write, evaluating it against the stored row, committing it.
#include "common/utf8.h"
#include "store/table_store_impl.h"

namespace tablelake::store {

int64_t TableStoreImpl::NextAutoIncrement(uint32_t table_id) {
  // Unique and strictly increasing: at least the clock in µs, at least one past the last value.
  std::lock_guard lock(autoinc_mu_);
  int64_t& last = autoinc_[table_id];
  last = std::max(last + 1, options_.clock->NowMicros());
  return last;
}

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

namespace {

// A column name checked as a write's cell: the context is built only for an error (a load
// checks millions of cells).
Status ValidateCellName(const std::string& table, const std::string& name) {
  Status s = store::ValidateName("column", name);
  return s.ok() ? s : s.WithContext("table '" + table + "'");
}

// What a put's cells must be, for PutRow and the bulk loader alike.
Status ValidatePutCells(const TableInfo& t, const std::string& table,
                        const std::vector<Cell>& cells, int64_t now_ms) {
  for (const Cell& c : cells) {
    TL_RETURN_IF_ERROR(ValidateCellName(table, c.name));
    TL_RETURN_IF_ERROR(ValidateNotPrimaryKeyName(t, c.name));
    TL_RETURN_IF_ERROR(store::ValidateAttributeValue(table, c.name, c.value));
    if (c.timestamp != kNoTimestamp) {
      TL_RETURN_IF_ERROR(
          store::ValidateCellTimestamp(table, c.name, c.timestamp, t.desc.options, now_ms));
    }
  }
  return Status::OK();
}

// A put's cells as they are stored: unversioned ones take `now_ms`, and of two cells with the
// same column and version the one given last wins, as for sequential puts.
void MergePutCells(int64_t now_ms, std::vector<Cell>* cells) {
  for (Cell& c : *cells) {
    if (c.timestamp == kNoTimestamp) c.timestamp = now_ms;
  }
  std::reverse(cells->begin(), cells->end());
  store::SortCells(cells);
  cells->erase(std::unique(cells->begin(), cells->end(),
                           [](const Cell& a, const Cell& b) {
                             return a.name == b.name && a.timestamp == b.timestamp;
                           }),
               cells->end());
}

// What a put's merged cells record in the change log (before retention drops any).
std::vector<ColumnUpdate> PutColumns(const std::vector<Cell>& cells) {
  std::vector<ColumnUpdate> columns;
  columns.reserve(cells.size());
  for (const Cell& c : cells)
    columns.push_back({ColumnUpdate::Op::kPut, c.name, c.value, c.timestamp});
  return columns;
}

}  // namespace

Result<int64_t> TableStoreImpl::FillAutoIncrement(const TableInfo& t, const PutRowRequest& r,
                                                  PrimaryKey* pk) {
  int64_t assigned = 0;
  for (auto& col : *pk) {
    if (col.value.type() != ValueType::kAutoIncrement) continue;
    if (r.condition.row_existence != RowExistence::kIgnore) {
      return Status::InvalidArgument(fmt::format(
          "table '{}': a row with an AUTO_INCREMENT placeholder needs row existence IGNORE",
          r.table));
    }
    assigned = NextAutoIncrement(t.id);
    col.value = Value::Integer(assigned);
  }
  return assigned;
}

Result<PendingWrite> TableStoreImpl::ResolvePut(const PutRowRequest& r) {
  PendingWrite w;
  TL_ASSIGN_OR_RETURN(w.table, FindTable(r.table));
  const TableInfo& t = *w.table;
  TL_RETURN_IF_ERROR(store::ValidatePrimaryKey(r.table, t.desc.meta.primary_key, r.primary_key,
                                               store::KeyUse::kInsert));
  TL_RETURN_IF_ERROR(ValidatePutCells(t, r.table, r.cells, options_.clock->NowMillis()));
  TL_RETURN_IF_ERROR(ValidateCondition(t, r.condition));
  w.pk = r.primary_key;
  TL_ASSIGN_OR_RETURN(w.auto_increment, FillAutoIncrement(t, r, &w.pk));
  w.op = ChangeOp::kPut;
  w.data_key = DataKey(t, w.pk);
  w.return_type = r.return_type;
  w.condition = r.condition;
  return w;
}

namespace {

// The write time of a batch's unversioned cells: the clock's when its first row is prepared.
int64_t BatchTime(const Clock& clock, BulkLoader::PreparedRows* rows) {
  if (rows->time_ms == 0) rows->time_ms = clock.NowMillis();
  return rows->time_ms;
}

// Records the row whose key, value and change record (`change_bytes` of it) were appended to
// `rows->bytes` from `start` on, the key `key_bytes` long.
void AddEncoded(size_t start, size_t key_bytes, size_t change_bytes, int64_t auto_increment,
                BulkLoader::PreparedRows* rows) {
  const size_t row_bytes = rows->bytes.size() - start;
  rows->encoded.push_back({static_cast<uint32_t>(key_bytes),
                           static_cast<uint32_t>(row_bytes - key_bytes - change_bytes),
                           static_cast<uint32_t>(change_bytes), auto_increment});
}

}  // namespace

Status TableStoreImpl::EncodeBlindPut(const TableInfo& t, PutRowRequest r,
                                      BulkLoader::PreparedRows* out) {
  TL_RETURN_IF_ERROR(CheckWritable());
  TL_RETURN_IF_ERROR(store::ValidatePrimaryKey(r.table, t.desc.meta.primary_key, r.primary_key,
                                               store::KeyUse::kInsert));
  const int64_t now_ms = BatchTime(*options_.clock, out);
  TL_RETURN_IF_ERROR(ValidatePutCells(t, r.table, r.cells, now_ms));
  TL_ASSIGN_OR_RETURN(int64_t auto_increment, FillAutoIncrement(t, r, &r.primary_key));
  const std::string key = DataKey(t, r.primary_key);
  std::vector<Cell>& cells = r.cells;
  MergePutCells(now_ms, &cells);
  std::string change;
  if (KeepsStream(t)) {
    change = store::EncodeChange(0, ChangeOp::kPut, store::RowKeyPart(key), PutColumns(cells), {});
  }
  store::ApplyRetention(t.desc.options, now_ms, &cells);
  const size_t start = out->bytes.size();
  out->bytes.append(key);
  store::EncodeCells(cells, &out->bytes);
  out->bytes.append(change);
  AddEncoded(start, key.size(), change.size(), auto_increment, out);
  return Status::OK();
}

namespace {

// True when a put of `r` stores just what EncodeBlindPut of the same row as a request stores,
// and PutRow would take it: the key's columns and types as the schema has them, valid cell
// names in strictly increasing order (so none given twice) that are not key columns, plain
// values within the limits. Unversioned cells take the write's time, which retention keeps.
bool IsPlainPut(const TableInfo& t, const RowView& r) {
  const auto& schema = t.desc.meta.primary_key;
  if (r.primary_key.size() != schema.size()) return false;
  for (size_t i = 0; i < schema.size(); ++i) {
    const ValueView v = r.primary_key[i].value;
    const bool bytes = v.type() == ValueType::kString || v.type() == ValueType::kBinary;
    const ValueType type = schema[i].type == PrimaryKeyType::kInteger  ? ValueType::kInteger
                           : schema[i].type == PrimaryKeyType::kString ? ValueType::kString
                                                                       : ValueType::kBinary;
    if (r.primary_key[i].name != schema[i].name || v.type() != type ||
        (bytes && v.bytes().size() > store::kMaxPrimaryKeyValueBytes) ||
        (type == ValueType::kString && !IsValidUtf8(v.bytes()))) {
      return false;
    }
  }
  for (size_t i = 0; i < r.cells.size(); ++i) {
    const ColumnView& c = r.cells[i];
    if ((i > 0 && !(r.cells[i - 1].name < c.name)) || !store::IsValidName(c.name) ||
        c.value.type() > ValueType::kBinary ||
        c.value.bytes().size() > store::kMaxAttributeValueBytes ||
        (c.value.type() == ValueType::kString && !IsValidUtf8(c.value.bytes()))) {
      return false;
    }
    for (const auto& sc : schema) {
      if (sc.name == c.name) return false;
    }
  }
  return t.desc.options.max_versions >= 1 && t.desc.options.time_to_live != 0;
}

}  // namespace

Status TableStoreImpl::EncodeBlindPut(const TableInfo& t, const RowView& r,
                                      BulkLoader::PreparedRows* out) {
  TL_RETURN_IF_ERROR(CheckWritable());
  // Anything else - an AUTO_INCREMENT key, cells to merge, a row to refuse - as a request, with
  // that path's checks and messages.
  if (!IsPlainPut(t, r)) return EncodeBlindPut(t, r.ToPutRow(t.desc.meta.name), out);
  const int64_t now_ms = BatchTime(*options_.clock, out);
  const size_t start = out->bytes.size();
  out->bytes.append(store::TablePrefix(t.id));
  store::AppendPrimaryKey(r.primary_key, &out->bytes);
  const size_t key_bytes = out->bytes.size() - start;
  store::EncodeCells(r.cells, now_ms, &out->bytes);
  size_t change_bytes = 0;
  if (KeepsStream(t)) {
    const std::string change = store::EncodePutChange(
        0, store::RowKeyPart(std::string_view(out->bytes).substr(start, key_bytes)), r.cells,
        now_ms);
    out->bytes.append(change);
    change_bytes = change.size();
  }
  AddEncoded(start, key_bytes, change_bytes, 0, out);
  return Status::OK();
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
    TL_RETURN_IF_ERROR(ValidateCellName(r.table, u.name));
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
      MergePutCells(now_ms, &cells);
      // What took effect matters to the change record and the returned row only: a bulk load
      // into a table without a stream copies each cell once, not three times.
      if (KeepsStream(t)) w->columns = PutColumns(cells);
      if (w->return_type == ReturnType::kAfterModify) written = cells;
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
    w->change_value =
        store::EncodeChange(0, w->op, store::RowKeyPart(w->data_key), w->columns, w->image);
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

}  // namespace tablelake::store
