#include "delivery/batch_writer.h"

#include <algorithm>

#include "delivery/spill_runs.h"
#include "fmt/format.h"
#include "store/row_json.h"

namespace tablelake::delivery {

BatchWriter::BatchWriter(const DeliveryTaskDescription& task, const ResolvedTask& resolved,
                         ObjectStore* bucket, std::string stem,
                         std::vector<std::pair<std::string, std::string>> metadata,
                         MemoryBudget* budget)
    : stream_bytes_(std::min<int64_t>(task.config.file_bytes, 16 << 20)),
      task_(task),
      resolved_(resolved),
      files_(bucket, resolved, stem, task.config.file_bytes, std::move(metadata), budget),
      dirty_(bucket, resolved, !task.config.oss_dirty_prefix.empty(), stem),
      stager_(task.config, resolved),
      buffers_(budget),
      partitions_(resolved.prefix, resolved.zone),
      budget_(budget) {
  // A prefix without time variables is one partition: it would fill its files alone.
  if (!resolved.prefix.has_variables()) stream_from_ = resolved.prefix.Expand(0, resolved.zone);
}

Status BatchWriter::Add(const PrimaryKey& key, const std::vector<Cell>& cells,
                        int64_t write_time_ms, const RowConverter::Change& change) {
  ++rows_;
  int64_t time_ms;
  DirtyReason dirty = stager_.Stage(key, cells, write_time_ms, change, &time_ms);
  if (!dirty.empty()) {
    ++counts_.dirty_rows;
    return dirty_.Add(Row{key, cells}, dirty.text, write_time_ms);
  }
  RowConverter& converter = stager_.converter();
  return Place(
      partitions_.Id(time_ms), converter.row_bytes(),
      [&](parquet::RowAppender* out) { return converter.Write(out); },
      [&]() -> std::string_view {
        encoded_.clear();
        converter.Encode(&encoded_);
        return encoded_;
      });
}

Result<size_t> BatchWriter::AddConverted(const ConvertedBatch& batch, size_t from) {
  const RowConverter& converter = stager_.converter();
  // Rows of hundreds of partitions each land in a different buffer: the partition of the row
  // kAhead rows on is found, and where it will be written fetched into the cache, while this
  // one is written.
  constexpr size_t kAhead = 8;
  uint32_t ahead[kAhead];
  auto look_ahead = [&](size_t i) {
    if (i >= batch.rows.size()) return;
    const ConvertedBatch::Entry& e = batch.rows[i];
    const uint32_t id = e.dirty >= 0 ? PartitionBuffer::kNoId : partitions_.Id(e.time_ms);
    ahead[i % kAhead] = id;
    buffers_.Prefetch(id);
  };
  for (size_t i = from; i < from + kAhead; ++i) look_ahead(i);
  for (size_t i = from; i < batch.rows.size(); ++i) {
    const ConvertedBatch::Entry& e = batch.rows[i];
    const uint32_t id = ahead[i % kAhead];
    look_ahead(i + kAhead);
    if (e.dirty >= 0) {
      TL_RETURN_IF_ERROR(AddDirty(batch.dirty[static_cast<size_t>(e.dirty)]));
      continue;
    }
    ++rows_;
    const std::string_view record = batch.record(i);
    TL_RETURN_IF_ERROR(Place(
        id, e.row_bytes,
        [&](parquet::RowAppender* out) { return converter.AppendEncoded(record, out); },
        [&] { return record; }));
    if (!carried_.empty()) return i;
  }
  return batch.rows.size();
}

Result<bool> BatchWriter::EndsFile(const RowGroupBlock& block) {
  const std::string& partition = partitions_.For(0);  // the one partition
  if (!files_.Whole(partition, block.value_bytes)) return false;
  TL_RETURN_IF_ERROR(files_.Close(partition));
  ++files_done_;
  return true;
}

Status BatchWriter::AddEncodedGroup(const RowGroupBlock& block) {
  rows_ += block.group.meta.num_rows;
  return files_.AppendRowGroup(partitions_.For(0), block.group, block.value_bytes);
}

template <typename Write, typename Encoded>
Status BatchWriter::Place(uint32_t id, size_t row_bytes, const Write& write,
                          const Encoded& encoded) {
  const std::string& partition = partitions_.Name(id);
  bool whole;
  if (parquet::RowAppender* out = files_.OpenFor(partition, row_bytes, &whole)) {
    return write(out);  // streaming: straight into its file
  }
  if (whole) {
    // The file is whole: it goes, and the partition buffers again from this row on.
    TL_RETURN_IF_ERROR(files_.Close(partition));
    ++files_done_;
    if (carry_ && segment_due()) {
      --rows_;
      carried_ = partition;
      return Status::OK();
    }
  }
  // (stream_from_ is mostly empty: a row then never reads its partition's name.)
  if (!stream_from_.empty() && partition == stream_from_ && files_.open_count() < kMaxStreaming &&
      !buffers_.Has(partition)) {
    TL_ASSIGN_OR_RETURN(parquet::RowAppender * out, files_.For(partition, row_bytes, true));
    return write(out);
  }
  if (!buffers_.Add(partition, encoded(), row_bytes, id)) full_ = true;
  // A partition with a row group's worth of rows streams into an open file from now on, while
  // few do: it would fill a file alone, and its memory is then the file's, not a buffer's.
  if (buffers_.last_row_bytes() >= stream_bytes_ && files_.open_count() < kMaxStreaming) {
    TL_RETURN_IF_ERROR(WriteBuffer(partition, /*keep_open=*/true));
  }
  return Status::OK();
}

Status BatchWriter::WriteBuffer(std::string partition, bool keep_open) {
  PartitionBuffer b = buffers_.Take(partition);
  const bool large = keep_open || b.row_bytes >= (4 << 20);
  const size_t closed = files_.closed_count();
  TL_RETURN_IF_ERROR(ForEachRecord(b, [&](std::string_view row, size_t row_bytes) {
    return WriteRow(partition, row, row_bytes, large);
  }));
  buffers_.Release(&b);
  files_done_ += files_.closed_count() - closed;
  return keep_open ? Status::OK() : files_.Close(partition);
}

Status BatchWriter::AddGrouped(const std::string& partition, std::string_view encoded,
                               size_t row_bytes) {
  if (files_.IsOpen(partition)) return WriteRow(partition, encoded, row_bytes);
  if (!buffers_.Add(partition, encoded, row_bytes)) full_ = true;
  return Status::OK();
}

Status BatchWriter::WriteRow(const std::string& partition, std::string_view encoded,
                             size_t row_bytes, bool large) {
  TL_ASSIGN_OR_RETURN(parquet::RowAppender * out, files_.For(partition, row_bytes, large));
  return stager_.converter().AppendEncoded(encoded, out);
}

Status BatchWriter::FlushLargest(int64_t bytes) {
  while (buffers_.bytes() > bytes && !buffers_.empty()) {
    TL_RETURN_IF_ERROR(WriteBuffer(buffers_.Largest(), /*keep_open=*/false));
  }
  full_ = false;
  return Status::OK();
}

Status BatchWriter::Spill(const std::string& path) {
  const RowGroupEncoding encoding{resolved_, stager_.converter(), stream_bytes_};
  TL_RETURN_IF_ERROR(WriteRun(path, buffers_, &encoding));
  buffers_.Clear();
  full_ = false;
  return Status::OK();
}

void BatchWriter::AddRowGroup(const std::string& partition, RowGroupBlock block) {
  const auto bytes = static_cast<int64_t>(block.group.bytes.size());
  budget_->Take(bytes);
  row_group_bytes_ += bytes;
  row_groups_[partition].push_back(std::move(block));
}

Status BatchWriter::WriteRowGroups() {
  for (const auto& [partition, blocks] : row_groups_) {
    for (const RowGroupBlock& b : blocks) TL_RETURN_IF_ERROR(WriteRowGroup(partition, b));
    if (buffers_.Has(partition)) {
      TL_RETURN_IF_ERROR(WriteBuffer(partition, /*keep_open=*/false));
    } else {
      TL_RETURN_IF_ERROR(files_.Close(partition));
    }
  }
  row_groups_.clear();
  budget_->Give(std::exchange(row_group_bytes_, 0));
  return Status::OK();
}

Status BatchWriter::Commit() {
  TL_RETURN_IF_ERROR(WriteRowGroups());
  while (!buffers_.empty()) {
    TL_RETURN_IF_ERROR(WriteBuffer(buffers_.AnyPartition(), /*keep_open=*/false));
  }
  TL_RETURN_IF_ERROR(files_.CloseAll());
  TL_RETURN_IF_ERROR(dirty_.Flush());
  counts_.rows_delivered = counts_.files_written = counts_.bytes_written = 0;
  for (const auto& f : files_.published()) {
    counts_.rows_delivered += f.rows;
    counts_.bytes_written += f.bytes;
  }
  counts_.files_written = static_cast<int64_t>(files_.published().size());
  counts_.dirty_files = dirty_.files();
  return Status::OK();
}

void AddCounts(const DeliveryRunStats& batch, DeliveryTaskStatus* status, DeliveryRunStats* run) {
  status->rows_delivered += batch.rows_delivered;
  status->dirty_rows += batch.dirty_rows;
  status->deletes_skipped += batch.deletes_skipped;
  status->files_written += batch.files_written;
  status->bytes_written += batch.bytes_written;
  status->memory_peak_bytes = std::max(status->memory_peak_bytes, run->peak_memory_bytes);
  run->rows_delivered += batch.rows_delivered;
  run->dirty_rows += batch.dirty_rows;
  run->deletes_skipped += batch.deletes_skipped;
  run->files_written += batch.files_written;
  run->bytes_written += batch.bytes_written;
  run->dirty_files += batch.dirty_files;
}

Status RemoveObjects(ObjectStore* bucket, const ResolvedTask& resolved,
                     const std::function<bool(const std::string& file_name)>& matches) {
  std::string data = resolved.prefix.StaticPrefix();
  std::string dirty = resolved.dirty_prefix.StaticPrefix();
  std::vector<std::string> prefixes = {data};
  // One listing when one prefix holds the other.
  if (dirty.rfind(data, 0) != 0) prefixes.push_back(dirty);
  for (const std::string& prefix : prefixes) {
    TL_ASSIGN_OR_RETURN(auto objects, bucket->List(prefix));
    for (const auto& o : objects) {
      size_t slash = o.key.rfind('/');
      std::string file = slash == std::string::npos ? o.key : o.key.substr(slash + 1);
      if (matches(file)) TL_RETURN_IF_ERROR(bucket->DeleteObject(o.key));
    }
  }
  return Status::OK();
}

}  // namespace tablelake::delivery
