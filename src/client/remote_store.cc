#include "client/remote_store.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "client/wire_caller.h"
#include "client/wire_requests.h"
#include "fmt/format.h"
#include "proto/tablestore_delivery.pb.h"
#include "server/wire_convert.h"
#include "server/wire_delivery.h"

namespace tablelake::remote {
namespace {

Status NotOverTheWire(const char* what) {
  return Status::NotSupported(fmt::format(
      "{} is not available from a server (only the process that owns the data folder does it)",
      what));
}

// About what a row takes in a request.
size_t RequestBytes(const PutRowRequest& row) {
  size_t bytes = row.primary_key.size() * 16;
  for (const auto& c : row.cells) bytes += c.name.size() + c.value.bytes().size() + 24;
  return bytes;
}

// Rows staged in memory, then written in BatchWriteRow requests (at most 200 rows, and 3 MiB
// unless one row is larger: a server takes requests of 4 MB or so) from a few threads: at
// Commit, or as soon as 16 MiB of them are staged, so that a load far larger than memory goes
// through (bad input found later then leaves the rows sent before it written). Each row is
// atomic; the load is not: a refused row stops the requests not yet sent, and the error says
// how many rows were written.
class RemoteBulkLoader : public BulkLoader {
 public:
  RemoteBulkLoader(TableStore* store, std::string table)
      : store_(store), table_(std::move(table)) {}

  // Batches go out in parallel, so of rows with the same key only the last is sent: the
  // outcome of sequential puts. Rows with an AUTO_INCREMENT placeholder are all new rows.
  Status Put(PutRowRequest row) override {
    bytes_ += RequestBytes(row);
    row.table = table_;
    bool placeholder = false;
    for (const auto& k : row.primary_key) {
      placeholder |= k.value.type() == ValueType::kAutoIncrement;
    }
    if (!placeholder) {
      auto [it, inserted] = last_.emplace(server::EncodePrimaryKey(row.primary_key), rows_.size());
      if (!inserted) {
        superseded_[it->second] = true;
        it->second = rows_.size();
      }
    }
    rows_.push_back(std::move(row));
    superseded_.push_back(false);
    return bytes_ >= kSendBytes ? Send() : Status::OK();
  }
  uint64_t rows() const override { return sent_ + rows_.size(); }
  uint64_t staged_bytes() const override { return bytes_; }
  uint64_t rows_written() const override { return written_; }
  Status Commit() override { return Send(); }

 private:
  static constexpr size_t kSendBytes = 16 << 20;

  // Writes the staged rows, then stages anew.
  Status Send() {
    constexpr int kThreads = 4;
    const std::vector<size_t> starts = BatchStarts();
    const size_t batches = starts.size();
    std::atomic<size_t> next{0};
    std::atomic<int64_t> written{0};
    std::mutex mu;
    size_t failed_row = SIZE_MAX;
    Status failure;
    auto work = [&] {
      for (size_t b; (b = next++) < batches;) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!failure.ok()) return;
        }
        std::vector<BatchWriteItem> items;
        std::vector<size_t> sent;
        size_t first = starts[b], last = b + 1 < batches ? starts[b + 1] : rows_.size();
        for (size_t i = first; i < last; ++i) {
          if (superseded_[i]) {
            ++written;
            continue;
          }
          items.emplace_back();
          items.back().put = rows_[i];
          sent.push_back(i);
        }
        auto results = store_->BatchWriteRow(items);
        for (size_t i = 0; i < results.size(); ++i) {
          if (results[i].ok()) {
            ++written;
            continue;
          }
          std::lock_guard<std::mutex> lock(mu);
          if (sent[i] < failed_row) {
            failed_row = sent[i];
            failure = results[i].status();
          }
        }
      }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < std::min<int>(kThreads, static_cast<int>(batches)); ++t) {
      threads.emplace_back(work);
    }
    for (auto& t : threads) t.join();
    written_ += static_cast<uint64_t>(written.load());
    if (failure.ok()) {
      sent_ += rows_.size();
      rows_.clear();
      superseded_.clear();
      last_.clear();
      bytes_ = 0;
      return Status::OK();
    }
    // The caller says how many rows were written (rows_written).
    return Status(failure.code(), fmt::format("row {} of the load was refused: {}",
                                              sent_ + failed_row + 1, failure.message()));
  }

  // Where each request's rows start.
  std::vector<size_t> BatchStarts() const {
    constexpr size_t kBatchRows = 200, kBatchBytes = 3 << 20;
    std::vector<size_t> starts;
    size_t rows = 0, bytes = 0;
    for (size_t i = 0; i < rows_.size(); ++i) {
      const size_t row = superseded_[i] ? 0 : RequestBytes(rows_[i]);
      if (starts.empty() || rows == kBatchRows || (rows > 0 && bytes + row > kBatchBytes)) {
        starts.push_back(i);
        rows = bytes = 0;
      }
      ++rows;
      bytes += row;
    }
    return starts;
  }

  TableStore* store_;
  std::string table_;
  std::vector<PutRowRequest> rows_;
  std::vector<bool> superseded_;
  std::unordered_map<std::string, size_t> last_;  // encoded key -> its last row
  uint64_t bytes_ = 0;
  uint64_t sent_ = 0;     // rows given to requests before the staged ones
  uint64_t written_ = 0;  // of those, rows written (or superseded by a later row)
};

class RemoteStore : public TableStore {
 public:
  explicit RemoteStore(std::shared_ptr<client::WireCaller> caller)
      : TableStore(StoreOptions()), caller_(std::move(caller)) {}

  std::shared_ptr<client::WireCaller> shared_caller() const { return caller_; }

  Status CreateTable(const TableMeta& meta, const TableOptions& options,
                     const StreamSpecification& stream) override {
    wire::CreateTableRequest w;
    server::ToWire(meta, w.mutable_table_meta());
    w.mutable_reserved_throughput()->mutable_capacity_unit()->set_read(0);
    w.mutable_reserved_throughput()->mutable_capacity_unit()->set_write(0);
    server::ToWire(options, w.mutable_table_options());
    w.mutable_stream_spec()->set_enable_stream(stream.enabled);
    if (stream.enabled) w.mutable_stream_spec()->set_expiration_time(stream.expiration_hours);
    wire::CreateTableResponse reply;
    return caller_->Call("CreateTable", w, &reply).status();
  }

  Result<std::vector<std::string>> ListTable() override {
    wire::ListTableResponse reply;
    TL_RETURN_IF_ERROR(caller_->Call("ListTable", wire::ListTableRequest(), &reply).status());
    return std::vector<std::string>(reply.table_names().begin(), reply.table_names().end());
  }

  Result<TableDescription> DescribeTable(const std::string& table) override {
    wire::DescribeTableRequest w;
    w.set_table_name(table);
    wire::DescribeTableResponse reply;
    TL_RETURN_IF_ERROR(caller_->Call("DescribeTable", w, &reply).status());
    TableDescription d;
    TL_ASSIGN_OR_RETURN(d.meta, server::FromWire(reply.table_meta()));
    d.options = server::FromWire(reply.table_options());
    if (reply.has_stream_details()) {
      d.stream.enabled = reply.stream_details().enable_stream();
      d.stream.expiration_hours = reply.stream_details().expiration_time();
      d.stream_id = reply.stream_details().stream_id();
      d.stream_enable_time_us = reply.stream_details().last_enable_time();
    }
    d.creation_time_us = reply.reserved_throughput_details().last_increase_time() * 1000000;
    return d;
  }

  Status UpdateTable(const std::string& table, const std::optional<TableOptions>& options,
                     const std::optional<StreamSpecification>& stream) override {
    wire::UpdateTableRequest w;
    w.set_table_name(table);
    if (options) server::ToWire(*options, w.mutable_table_options());
    if (stream) {
      w.mutable_stream_spec()->set_enable_stream(stream->enabled);
      if (stream->enabled) w.mutable_stream_spec()->set_expiration_time(stream->expiration_hours);
    }
    wire::UpdateTableResponse reply;
    return caller_->Call("UpdateTable", w, &reply).status();
  }

  Status DeleteTable(const std::string& table) override {
    wire::DeleteTableRequest w;
    w.set_table_name(table);
    wire::DeleteTableResponse reply;
    return caller_->Call("DeleteTable", w, &reply).status();
  }

  Result<WriteResult> PutRow(const PutRowRequest& r) override {
    return Write<wire::PutRowRequest, wire::PutRowResponse>("PutRow", r);
  }
  Result<WriteResult> UpdateRow(const UpdateRowRequest& r) override {
    return Write<wire::UpdateRowRequest, wire::UpdateRowResponse>("UpdateRow", r);
  }
  Result<WriteResult> DeleteRow(const DeleteRowRequest& r) override {
    return Write<wire::DeleteRowRequest, wire::DeleteRowResponse>("DeleteRow", r);
  }

  Result<std::optional<Row>> GetRow(const GetRowRequest& r) override {
    wire::GetRowRequest w;
    ToWire(r, &w);
    wire::GetRowResponse reply;
    TL_RETURN_IF_ERROR(caller_->Call("GetRow", w, &reply).status());
    return RowFromWire(reply.row());
  }

  Status GetRange(const GetRangeRequest& r, GetRangeResult* result) override {
    wire::GetRangeRequest w;
    ToWire(r, &w);
    wire::GetRangeResponse reply;
    TL_RETURN_IF_ERROR(caller_->Call("GetRange", w, &reply).status());
    TL_ASSIGN_OR_RETURN(*result, FromWire(reply));
    return Status::OK();
  }

  // One request: a table entry per key, so that each keeps its own read options.
  std::vector<Result<std::optional<Row>>> BatchGetRow(
      const std::vector<GetRowRequest>& requests) override {
    wire::BatchGetRowRequest w;
    for (const auto& r : requests) ToWire(r, w.add_tables());
    wire::BatchGetRowResponse reply;
    Status sent = caller_->Call("BatchGetRow", w, &reply).status();
    std::vector<Result<std::optional<Row>>> out;
    for (const auto& table : reply.tables()) {
      for (const auto& row : table.rows()) {
        if (row.is_ok()) {
          out.push_back(RowFromWire(row.row()));
        } else {
          out.push_back(client::FromOtsError(row.error().code(), row.error().message(), 200));
        }
      }
    }
    if (sent.ok() && out.size() != requests.size()) {
      sent = Status::Corruption("BatchGetRow: the reply does not answer every key");
    }
    if (!sent.ok()) out.assign(requests.size(), sent);
    return out;
  }

  std::vector<Result<WriteResult>> BatchWriteRow(
      const std::vector<BatchWriteItem>& items) override {
    wire::BatchWriteRowRequest w;
    for (const auto& item : items) {
      const std::string& table = item.type == BatchWriteItem::Type::kPut      ? item.put.table
                                 : item.type == BatchWriteItem::Type::kUpdate ? item.update.table
                                                                              : item.del.table;
      if (w.tables_size() == 0 || w.tables(w.tables_size() - 1).table_name() != table) {
        w.add_tables()->set_table_name(table);
      }
      ToWire(item, w.mutable_tables(w.tables_size() - 1)->add_rows());
    }
    wire::BatchWriteRowResponse reply;
    Status sent = caller_->Call("BatchWriteRow", w, &reply).status();
    std::vector<Result<WriteResult>> out;
    for (const auto& table : reply.tables()) {
      for (const auto& row : table.rows()) {
        if (!row.is_ok()) {
          out.push_back(client::FromOtsError(row.error().code(), row.error().message(), 200));
        } else {
          out.push_back(WriteResultFromWire(row.row()));
        }
      }
    }
    if (sent.ok() && out.size() != items.size()) {
      sent = Status::Corruption("BatchWriteRow: the reply does not answer every row");
    }
    if (!sent.ok()) out.assign(items.size(), sent);
    return out;
  }

  Result<std::vector<PrimaryKey>> ComputeSplitPoints(const std::string& table, int64_t split_bytes,
                                                     int32_t limit) override {
    wire::ComputeSplitPointsBySizeRequest w;
    w.set_table_name(table);
    w.set_split_size(std::max<int64_t>(1, split_bytes));
    w.set_split_size_unit_in_byte(1);
    if (limit > 0) w.set_split_point_limit(limit);
    wire::ComputeSplitPointsBySizeResponse reply;
    TL_RETURN_IF_ERROR(caller_->Call("ComputeSplitPointsBySize", w, &reply).status());
    std::vector<PrimaryKey> points;
    for (const auto& p : reply.split_points()) {
      TL_ASSIGN_OR_RETURN(auto row, server::DecodeRow(p));
      points.push_back(std::move(row.primary_key));
    }
    return points;
  }
  Result<std::vector<PrimaryKey>> SplitIntoParts(const std::string&, int32_t, int64_t) override {
    return NotOverTheWire("splitting a table into parts of equal size");
  }

  Result<std::unique_ptr<BulkLoader>> NewBulkLoader(const std::string& table) override {
    TL_RETURN_IF_ERROR(DescribeTable(table).status());
    return std::unique_ptr<BulkLoader>(std::make_unique<RemoteBulkLoader>(this, table));
  }

  Result<StreamReadResult> ReadStream(const std::string& table, uint64_t from,
                                      int32_t limit) override;

  Result<std::unique_ptr<RowIterator>> NewRowIterator(const std::string&, const PrimaryKey&,
                                                      const PrimaryKey&,
                                                      const ReadOptions&) override {
    return NotOverTheWire("a row iterator");
  }
  Result<std::unique_ptr<Snapshot>> GetSnapshot() override { return NotOverTheWire("a snapshot"); }
  Result<Checkpoint> CreateCheckpoint(const std::string&) override {
    return NotOverTheWire("a checkpoint");
  }
  Status DropCheckpoint(const std::string&) override { return NotOverTheWire("a checkpoint"); }
  uint64_t LastSequence() const override { return 0; }  // not known here
  Status HoldChangeLog(const std::string&, const std::string&, uint64_t) override {
    return NotOverTheWire("holding a change log");
  }
  Status ReleaseChangeLog(const std::string&, const std::string&) override {
    return NotOverTheWire("releasing a change log");
  }
  Status CompactAll() override { return NotOverTheWire("compaction"); }
  Status PutMetadata(const std::string&, const std::string&) override {
    return NotOverTheWire("metadata");
  }
  Status DeleteMetadata(const std::string&) override { return NotOverTheWire("metadata"); }
  Status WriteMetadata(const std::vector<std::pair<std::string, std::string>>&,
                       const std::vector<std::string>&) override {
    return NotOverTheWire("metadata");
  }
  Result<std::optional<std::string>> GetMetadata(const std::string&) override {
    return NotOverTheWire("metadata");
  }
  Result<std::vector<std::pair<std::string, std::string>>> ListMetadata(
      const std::string&) override {
    return NotOverTheWire("metadata");
  }

 private:
  template <typename WireRequest, typename Reply, typename Request>
  Result<WriteResult> Write(const char* op, const Request& r) {
    WireRequest w;
    ToWire(r, &w);
    Reply reply;
    TL_RETURN_IF_ERROR(caller_->Call(op, w, &reply).status());
    return WriteResultFromWire(reply.row());
  }

  Result<std::string> FirstShardIterator(const std::string& table);

  std::shared_ptr<client::WireCaller> caller_;
  // Where the last ReadStream of a table stopped (next sequence, iterator), so that reading on
  // from there does not start again from the oldest record.
  std::mutex mu_;
  std::map<std::string, std::pair<uint64_t, std::string>> resume_;
};

Result<std::string> RemoteStore::FirstShardIterator(const std::string& table) {
  TL_ASSIGN_OR_RETURN(TableDescription d, DescribeTable(table));
  if (!d.stream.enabled) {
    return Status::InvalidArgument(fmt::format(
        "table '{}' has no stream enabled (`table update {} --stream-hours H` enables it)", table,
        table));
  }
  wire::DescribeStreamRequest describe;
  describe.set_stream_id(d.stream_id);
  wire::DescribeStreamResponse stream;
  TL_RETURN_IF_ERROR(caller_->Call("DescribeStream", describe, &stream).status());
  if (stream.shards_size() == 0) return Status::NotFound("the stream has no shard");
  wire::GetShardIteratorRequest w;
  w.set_stream_id(d.stream_id);
  w.set_shard_id(stream.shards(0).shard_id());
  wire::GetShardIteratorResponse reply;
  TL_RETURN_IF_ERROR(caller_->Call("GetShardIterator", w, &reply).status());
  return reply.shard_iterator();
}

// From where the last read of the table stopped, or else from the oldest record the server
// keeps, skipping those before `from`: the wire positions iterators by time, not by sequence.
Result<StreamReadResult> RemoteStore::ReadStream(const std::string& table, uint64_t from,
                                                 int32_t limit) {
  size_t want = limit > 0 ? static_cast<size_t>(limit) : 1000;
  std::string iterator;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto resume = resume_.find(table);
    if (resume != resume_.end() && resume->second.first == from) iterator = resume->second.second;
  }
  if (iterator.empty()) {
    TL_ASSIGN_OR_RETURN(iterator, FirstShardIterator(table));
  }
  StreamReadResult out;
  out.next_sequence = from;
  size_t bytes = 0;  // of the records' values
  while (out.records.size() < want && !iterator.empty()) {
    if (bytes >= kStreamPageBytes) {
      out.truncated = true;
      break;
    }
    wire::GetStreamRecordRequest w;
    w.set_shard_iterator(iterator);
    w.set_limit(static_cast<int32_t>(std::min<size_t>(1000, want - out.records.size())));
    wire::GetStreamRecordResponse reply;
    TL_RETURN_IF_ERROR(caller_->Call("GetStreamRecord", w, &reply).status());
    if (reply.stream_records_size() == 0) break;
    // Asked for at most what is still wanted, so a page never runs past the last record kept.
    for (const auto& rec : reply.stream_records()) {
      TL_ASSIGN_OR_RETURN(ChangeRecord change, ChangeFromWire(table, rec));
      if (change.sequence < from) continue;
      for (const auto& c : change.columns) bytes += c.name.size() + c.value.bytes().size();
      out.next_sequence = change.sequence + 1;
      out.records.push_back(std::move(change));
    }
    iterator = reply.next_shard_iterator();
  }
  std::lock_guard<std::mutex> lock(mu_);
  resume_[table] = {out.next_sequence, iterator};
  return out;
}

class RemoteDelivery : public DeliveryService {
 public:
  explicit RemoteDelivery(std::shared_ptr<client::WireCaller> caller, TableStore* store)
      : caller_(std::move(caller)), store_(store) {}

  Status CreateDeliveryTask(const std::string& table, const std::string& name,
                            const DeliveryTaskConfig& config, DeliveryTaskType type) override {
    wire::CreateDeliveryTaskRequest w;
    w.set_tablename(table);
    w.set_taskname(name);
    w.set_tasktype(static_cast<wire::DeliveryTaskType>(type));
    server::ToWire(config, w.mutable_taskconfig());
    wire::CreateDeliveryTaskResponse reply;
    return caller_->Call("CreateDeliveryTask", w, &reply).status();
  }

  Status UpdateDeliveryTask(const std::string& table, const std::string& name,
                            const DeliveryTaskConfig& config) override {
    wire::UpdateDeliveryTaskRequest w;
    w.set_table(table);
    w.set_taskname(name);
    server::ToWire(config, w.mutable_taskconfig());
    wire::UpdateDeliveryTaskResponse reply;
    return caller_->Call("UpdateDeliveryTask", w, &reply).status();
  }

  Result<DeliveryTaskDescription> DescribeDeliveryTask(const std::string& table,
                                                       const std::string& name) override {
    wire::DescribeDeliveryTaskRequest w;
    w.set_tablename(table);
    w.set_taskname(name);
    wire::DescribeDeliveryTaskResponse reply;
    TL_RETURN_IF_ERROR(caller_->Call("DescribeDeliveryTask", w, &reply).status());
    DeliveryTaskDescription d;
    d.table = table;
    d.name = name;
    d.type = static_cast<DeliveryTaskType>(reply.tasktype());
    d.config = server::FromWire(reply.taskconfig());
    d.status = server::FromWire(reply.task_sync_stat());
    d.create_time_us = reply.create_time_us();
    return d;
  }

  Result<std::vector<DeliveryTaskInfo>> ListDeliveryTask(const std::string& table) override {
    wire::ListDeliveryTaskRequest w;
    if (!table.empty()) w.set_tablename(table);
    wire::ListDeliveryTaskResponse reply;
    TL_RETURN_IF_ERROR(caller_->Call("ListDeliveryTask", w, &reply).status());
    std::vector<DeliveryTaskInfo> out;
    for (const auto& t : reply.tasks()) {
      out.push_back({t.tablename(), t.taskname(), static_cast<DeliveryTaskType>(t.tasktype())});
    }
    return out;
  }

  Status DeleteDeliveryTask(const std::string& table, const std::string& name) override {
    wire::DeleteDeliveryTaskRequest w;
    w.set_tablename(table);
    w.set_taskname(name);
    wire::DeleteDeliveryTaskResponse reply;
    return caller_->Call("DeleteDeliveryTask", w, &reply).status();
  }

  Result<std::vector<DeliveredFile>> ListDeliveredFiles(const std::string& table,
                                                        const std::string& name) override {
    wire::ListDeliveredFilesRequest w;
    w.set_tablename(table);
    w.set_taskname(name);
    wire::ListDeliveredFilesResponse reply;
    TL_RETURN_IF_ERROR(caller_->Call("ListDeliveredFiles", w, &reply).status());
    std::vector<DeliveredFile> out;
    for (const auto& f : reply.files()) out.push_back({f.key(), f.rows(), f.bytes(), f.time_ms()});
    return out;
  }

  // The server's DeleteTable takes the table's tasks with it.
  Result<std::vector<std::string>> DropTable(const std::string& table) override {
    TL_ASSIGN_OR_RETURN(auto tasks, ListDeliveryTask(table));
    TL_RETURN_IF_ERROR(store_->DeleteTable(table));
    std::vector<std::string> names;
    for (const auto& t : tasks) names.push_back(t.name);
    return names;
  }

  Status PutCredentialSet(const std::string& role, const CredentialSet& keys) override {
    wire::PutCredentialSetRequest w;
    w.set_role(role);
    w.set_access_key_id(keys.access_key_id);
    w.set_access_key_secret(keys.access_key_secret);
    if (!keys.security_token.empty()) w.set_security_token(keys.security_token);
    if (!keys.region.empty()) w.set_region(keys.region);
    if (!keys.oss_signature.empty()) w.set_oss_signature(keys.oss_signature);
    wire::PutCredentialSetResponse reply;
    return caller_->Call("PutCredentialSet", w, &reply).status();
  }

  Result<std::vector<std::pair<std::string, std::string>>> ListCredentialSets() override {
    wire::ListCredentialSetResponse reply;
    TL_RETURN_IF_ERROR(
        caller_->Call("ListCredentialSet", wire::ListCredentialSetRequest(), &reply).status());
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& s : reply.sets()) out.emplace_back(s.role(), s.access_key_id());
    return out;
  }

  Status DeleteCredentialSet(const std::string& role) override {
    wire::DeleteCredentialSetRequest w;
    w.set_role(role);
    wire::DeleteCredentialSetResponse reply;
    return caller_->Call("DeleteCredentialSet", w, &reply).status();
  }

  Status RunTask(const std::string&, const std::string&, const std::atomic<bool>*,
                 DeliveryRunStats*) override {
    return Status::NotSupported(
        "a server runs its own delivery tasks: `delivery list` and `delivery describe` show how "
        "they do");
  }

 private:
  std::shared_ptr<client::WireCaller> caller_;
  TableStore* store_;
};

}  // namespace

std::unique_ptr<TableStore> NewRemoteStore(std::shared_ptr<client::WireCaller> caller) {
  return std::make_unique<RemoteStore>(std::move(caller));
}

Result<std::unique_ptr<DeliveryService>> OpenRemoteDelivery(TableStore* store) {
  auto* remote = dynamic_cast<RemoteStore*>(store);
  if (remote == nullptr) return Status::InvalidArgument("the store is not a remote one");
  return std::unique_ptr<DeliveryService>(
      std::make_unique<RemoteDelivery>(remote->shared_caller(), store));
}

std::unique_ptr<TableStore> OpenRemoteStore(const RemoteOptions& o) {
  return NewRemoteStore(std::make_shared<client::WireCaller>(
      o.endpoint, o.instance, o.access_key_id, o.access_key_secret, o.client));
}

}  // namespace tablelake::remote
