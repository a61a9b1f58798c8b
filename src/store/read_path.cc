// The read path: GetRow, BatchGetRow, GetRange and the bulk row iterator.
#include "store/table_store_impl.h"

namespace tablelake::store {

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
      TL_RETURN_IF_ERROR(store::DecodePrimaryKey(schema, store::RowKeyPart(ToView(it->key())),
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
        store::DecodePrimaryKey(schema, store::RowKeyPart(ToView(it->key())), &row.primary_key));
    // The stored size approximates the reply size, as the cap itself is approximate.
    bytes += static_cast<int64_t>(it->key().size() + it->value().size());
    ++n;
  }
  result->rows.resize(n);
  return FromRocks(it->status(), "range read of table '" + r.table + "'");
}

}  // namespace tablelake::store

namespace tablelake {

Result<bool> RowBatch::DecodeRow(size_t i, Row* row) const {
  size_t end = i + 1 < starts_.size() ? starts_[i + 1].key : bytes_.size();
  std::string_view bytes(bytes_);
  return decoder_->Decode(bytes.substr(starts_[i].key, starts_[i].value - starts_[i].key),
                          bytes.substr(starts_[i].value, end - starts_[i].value), row);
}

Result<bool> RowBatch::DecodeRowViews(size_t i, RowViews* row) const {
  size_t end = i + 1 < starts_.size() ? starts_[i + 1].key : bytes_.size();
  std::string_view bytes(bytes_);
  return decoder_->DecodeViews(bytes.substr(starts_[i].key, starts_[i].value - starts_[i].key),
                               bytes.substr(starts_[i].value, end - starts_[i].value), row);
}

Result<bool> RowBatch::Decoder::DecodeViews(std::string_view key, std::string_view value,
                                            RowViews* row) const {
  TL_ASSIGN_OR_RETURN(bool visible, Decode(key, value, &row->whole));
  if (visible) row->ViewWhole();
  return visible;
}

void RowViews::ViewWhole() {
  primary_key.clear();
  for (const auto& c : whole.primary_key) primary_key.push_back({c.name, c.value.view()});
  cells.clear();
  for (const auto& c : whole.cells) cells.push_back({c.name, c.value.view(), c.timestamp});
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

}  // namespace tablelake

namespace tablelake::store {

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
    TL_RETURN_IF_ERROR(store::DecodePrimaryKey(table_->desc.meta.primary_key,
                                               store::RowKeyPart(key), &row->primary_key));
    return true;
  }

  // Views where the stored form is what a read sees (one version per column, no TTL, no escaped
  // key byte), else the row decoded whole.
  Result<bool> DecodeViews(std::string_view key, std::string_view value,
                           RowViews* row) const override {
    uint64_t versions = 0;
    if (store::DecodeCellViews(value, &row->cells, &versions) &&
        !store::RetentionMayDrop(table_->desc.options, versions) &&
        store::DecodePrimaryKeyViews(table_->desc.meta.primary_key, store::RowKeyPart(key),
                                     &row->primary_key)) {
      return true;
    }
    return Decoder::DecodeViews(key, value, row);
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

}  // namespace tablelake::store
