#include "delivery/partition_files.h"

#include "fmt/format.h"

namespace tablelake::delivery {

PartitionFiles::PartitionFiles(ObjectStore* bucket, const ResolvedTask& task, std::string stem,
                               int64_t file_bytes,
                               std::vector<std::pair<std::string, std::string>> metadata,
                               size_t max_open)
    : bucket_(bucket),
      task_(task),
      stem_(std::move(stem)),
      file_bytes_(file_bytes),
      metadata_(std::move(metadata)),
      max_open_(max_open) {}

PartitionFiles::~PartitionFiles() { Abort(); }

Result<parquet::RowAppender*> PartitionFiles::For(const std::string& partition) {
  auto it = open_.find(partition);
  if (it == open_.end()) {
    if (open_.size() >= max_open_) {
      auto lru = std::min_element(open_.begin(), open_.end(), [](const auto& a, const auto& b) {
        return a.second.last_use < b.second.last_use;
      });
      TL_RETURN_IF_ERROR(Close(lru));
    }
    OpenFile f;
    int index = next_index_[partition]++;
    f.key = JoinKey(partition, fmt::format("{}-{:05d}.parquet", stem_, index));
    TL_ASSIGN_OR_RETURN(auto sink, bucket_->NewObject(f.key));
    std::vector<parquet::ColumnSpec> schema;
    for (const auto& c : task_.columns) schema.push_back(c.parquet);
    parquet::WriterOptions options;
    options.codec = task_.codec;
    options.row_group_bytes = std::min<int64_t>(file_bytes_, 128 << 20);
    options.key_value_metadata = metadata_;
    TL_ASSIGN_OR_RETURN(f.writer, parquet::FileWriter::Open(schema, options, std::move(sink)));
    f.rows = std::make_unique<parquet::RowAppender>(f.writer.get());
    it = open_.emplace(partition, std::move(f)).first;
  }
  it->second.last_use = ++clock_;
  return it->second.rows.get();
}

Status PartitionFiles::RowAdded(const std::string& partition) {
  auto it = open_.find(partition);
  if (it == open_.end()) return Status::OK();
  ++it->second.row_count;
  // bytes_written counts what is encoded; rows pending in the appender's batch are small.
  if (it->second.writer->bytes_written() >= file_bytes_) return Close(it);
  return Status::OK();
}

Status PartitionFiles::Close(std::map<std::string, OpenFile>::iterator it) {
  OpenFile f = std::move(it->second);
  open_.erase(it);
  Status s = f.rows->Close();
  if (!s.ok()) return s.WithContext(bucket_->Url(f.key));
  published_.push_back({f.key, f.row_count, f.writer->bytes_written()});
  return Status::OK();
}

Status PartitionFiles::CloseAll() {
  while (!open_.empty()) TL_RETURN_IF_ERROR(Close(open_.begin()));
  return Status::OK();
}

void PartitionFiles::Abort() {
  for (auto& [partition, f] : open_) f.writer->Abort();
  open_.clear();
}

}  // namespace tablelake::delivery
