#include "server/wire_stream.h"

#include <algorithm>

#include "common/base64.h"
#include "fmt/format.h"
#include "server/plain_buffer.h"
#include "server/wire_convert.h"

namespace tablelake::server {
namespace {

constexpr char kShardId[] = "shard-0";  // each stream's only shard
constexpr int32_t kDefaultLimit = 100, kMaxLimit = 1000;

// The table whose stream is `stream_id`, enabled. A stream id is "<table>_<enable time µs>"
// (TableStore::UpdateTable), so the table is found by name, not by describing every table.
Result<TableDescription> FindStream(TableStore& store, const std::string& stream_id) {
  size_t underscore = stream_id.rfind('_');
  if (underscore != std::string::npos && underscore > 0) {
    auto d = store.DescribeTable(stream_id.substr(0, underscore));
    if (d.ok() && d->stream.enabled && d->stream_id == stream_id) return *d;
  }
  return Status::NotFound(
      fmt::format("stream '{}' does not exist (or its table's stream was "
                  "disabled)",
                  stream_id.substr(0, 200)));
}

Status CheckShard(const std::string& shard_id) {
  if (shard_id != kShardId) {
    return Status::NotFound(
        fmt::format("shard '{}' does not exist: the stream has one, '{}'", shard_id, kShardId));
  }
  return Status::OK();
}

// "tl1 <stream id> <sequence> <issued µs>", base64: opaque to clients.
struct Position {
  std::string stream_id;
  uint64_t sequence = 0;
  int64_t issued_us = 0;
};

std::string EncodeIterator(const Position& p) {
  return Base64Encode(fmt::format("tl1 {} {} {}", p.stream_id, p.sequence, p.issued_us));
}

Result<Position> DecodeIterator(const std::string& iterator) {
  std::optional<std::string> text = Base64Decode(iterator);
  char stream_id[257];
  unsigned long long sequence;
  long long issued;
  int end = 0;
  if (text && text->find('\0') == std::string::npos &&
      std::sscanf(text->c_str(), "tl1 %256s %llu %lld%n", stream_id, &sequence, &issued, &end) ==
          3 &&
      static_cast<size_t>(end) == text->size()) {
    return Position{stream_id, sequence, issued};
  }
  return Status::InvalidArgument(
      "the shard iterator is not one that GetShardIterator or GetStreamRecord gave out");
}

// A change record as Tablestore's readers take it: the written cells (a put with its value and
// version, a deleted version, all versions deleted) and the extension ordering it in the shard.
std::string RecordRow(const ChangeRecord& record) {
  WireRow row;
  row.primary_key = record.primary_key;
  for (const auto& c : record.columns) {
    WireCell cell;
    cell.name = c.name;
    cell.timestamp = c.timestamp;
    switch (c.op) {
      case ColumnUpdate::Op::kPut:
        cell.value = c.value;
        break;
      case ColumnUpdate::Op::kDeleteOneVersion:
        cell.op = CellOp::kDeleteOneVersion;
        break;
      case ColumnUpdate::Op::kDeleteAllVersions:
        cell.op = CellOp::kDeleteAllVersions;
        cell.timestamp = kNoTimestamp;
        break;
      case ColumnUpdate::Op::kIncrement: {
        // Readers see the value the increment produced.
        auto it = std::find_if(record.row_image.begin(), record.row_image.end(),
                               [&](const Cell& i) { return i.name == c.name; });
        if (it == record.row_image.end()) continue;
        cell.value = it->value;
        cell.timestamp = it->timestamp;
        break;
      }
    }
    row.cells.push_back(std::move(cell));
  }
  // The epoch holds the high half of the sequence, so that (epoch, row index) is all of it.
  SequenceInfo seq{static_cast<uint32_t>(record.sequence >> 32), record.commit_time_us,
                   static_cast<uint32_t>(record.sequence)};
  std::string out;
  AppendHeader(&out);
  AppendWireRow(&out, row, &seq);
  return out;
}

}  // namespace

Status ListStream(const StreamContext& c, const wire::ListStreamRequest& r,
                  wire::ListStreamResponse* out) {
  std::vector<std::string> tables;
  if (r.has_table_name()) {
    tables.push_back(r.table_name());
  } else {
    TL_ASSIGN_OR_RETURN(tables, c.store.ListTable());
  }
  for (const auto& name : tables) {
    TL_ASSIGN_OR_RETURN(TableDescription d, c.store.DescribeTable(name));
    if (!d.stream.enabled) continue;
    wire::Stream* s = out->add_streams();
    s->set_stream_id(d.stream_id);
    s->set_table_name(d.meta.name);
    s->set_creation_time(d.stream_enable_time_us);
  }
  return Status::OK();
}

Status DescribeStream(const StreamContext& c, const wire::DescribeStreamRequest& r,
                      wire::DescribeStreamResponse* out) {
  TL_ASSIGN_OR_RETURN(TableDescription d, FindStream(c.store, r.stream_id()));
  out->set_stream_id(d.stream_id);
  out->set_expiration_time(d.stream.expiration_hours);
  out->set_table_name(d.meta.name);
  out->set_creation_time(d.stream_enable_time_us);
  out->set_stream_status(wire::STREAM_ACTIVE);
  // One shard; a start past it (or a limit of 0 shards) lists none.
  if ((!r.has_inclusive_start_shard_id() || r.inclusive_start_shard_id() <= kShardId) &&
      (!r.has_shard_limit() || r.shard_limit() > 0)) {
    out->add_shards()->set_shard_id(kShardId);
  }
  return Status::OK();
}

Status GetShardIterator(const StreamContext& c, const wire::GetShardIteratorRequest& r,
                        wire::GetShardIteratorResponse* out) {
  TL_ASSIGN_OR_RETURN(TableDescription d, FindStream(c.store, r.stream_id()));
  TL_RETURN_IF_ERROR(CheckShard(r.shard_id()));
  Position p{d.stream_id, 0, c.clock.NowMicros()};
  if (r.has_timestamp()) {
    // The first record committed at or after the time (µs), read forward from the oldest.
    while (true) {
      TL_ASSIGN_OR_RETURN(auto page, c.store.ReadStream(d.meta.name, p.sequence, kMaxLimit));
      auto it = std::find_if(page.records.begin(), page.records.end(),
                             [&](const auto& rec) { return rec.commit_time_us >= r.timestamp(); });
      if (it != page.records.end()) {
        p.sequence = it->sequence;
        break;
      }
      p.sequence = page.next_sequence;
      if (page.records.size() < static_cast<size_t>(kMaxLimit) && !page.truncated) break;
    }
  }
  out->set_shard_iterator(EncodeIterator(p));
  return Status::OK();
}

Status GetStreamRecord(const StreamContext& c, const wire::GetStreamRecordRequest& r,
                       wire::GetStreamRecordResponse* out) {
  TL_ASSIGN_OR_RETURN(Position p, DecodeIterator(r.shard_iterator()));
  int64_t now = c.clock.NowMicros();
  int64_t age_ms = (now - p.issued_us) / 1000;
  if (age_ms > c.iterator_lifetime_ms) {
    return Status::TrimmedData(
        fmt::format("the shard iterator expired {} s ago (iterators live {} s): get a new one with "
                    "GetShardIterator",
                    (age_ms - c.iterator_lifetime_ms) / 1000, c.iterator_lifetime_ms / 1000));
  }
  TL_ASSIGN_OR_RETURN(TableDescription d, FindStream(c.store, p.stream_id));
  if (r.has_limit() && r.limit() <= 0) {
    return Status::InvalidArgument(fmt::format("limit {} is not positive", r.limit()));
  }
  int32_t limit = r.has_limit() ? std::min(r.limit(), kMaxLimit) : kDefaultLimit;
  TL_ASSIGN_OR_RETURN(auto page, c.store.ReadStream(d.meta.name, p.sequence, limit));
  for (const auto& record : page.records) {
    wire::StreamRecord* w = out->add_stream_records();
    w->set_action_type(static_cast<wire::ActionType>(record.op));
    w->set_record(RecordRow(record));
  }
  p.sequence = std::max(p.sequence, page.next_sequence);
  p.issued_us = now;
  out->set_next_shard_iterator(EncodeIterator(p));
  out->set_may_more_record(page.records.size() == static_cast<size_t>(limit) || page.truncated);
  SetConsumed(std::max<int>(1, page.records.size() / 100), 0, out->mutable_consumed());
  return Status::OK();
}

}  // namespace tablelake::server
