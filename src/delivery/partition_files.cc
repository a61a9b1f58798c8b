#include "delivery/partition_files.h"

#include <pthread.h>

#include <algorithm>

#include "delivery/object_names.h"

namespace tablelake::delivery {
PartitionFiles::PartitionFiles(ObjectStore* bucket, const ResolvedTask& task, std::string stem,
                               int64_t file_bytes,
                               std::vector<std::pair<std::string, std::string>> metadata,
                               MemoryBudget* budget, size_t max_open)
    : bucket_(bucket),
      task_(task),
      stem_(std::move(stem)),
      file_bytes_(file_bytes),
      metadata_(std::move(metadata)),
      budget_(budget),
      // A row group, the batch being filled and those queued for the encoding thread.
      file_memory_(RowGroupBytes(file_bytes) + (8 << 20)),
      max_open_(max_open),
      last_(open_.end()) {}

PartitionFiles::~PartitionFiles() { Abort(); }

Result<parquet::RowAppender*> PartitionFiles::For(const std::string& partition, size_t row_bytes,
                                                  bool large) {
  TL_ASSIGN_OR_RETURN(OpenFile * f, FileFor(partition, static_cast<int64_t>(row_bytes), large));
  ++f->row_count;
  return f->rows.get();
}

Status PartitionFiles::AppendRowGroup(const std::string& partition,
                                      const parquet::EncodedRowGroup& group, int64_t value_bytes,
                                      bool large) {
  TL_ASSIGN_OR_RETURN(OpenFile * f, FileFor(partition, value_bytes, large));
  TL_RETURN_IF_ERROR(f->rows->Flush());  // rows appended before it go first
  TL_RETURN_IF_ERROR(f->writer->AppendRowGroup(group.meta, group.bytes));
  f->row_count += group.meta.num_rows;
  return Status::OK();
}

Result<PartitionFiles::OpenFile*> PartitionFiles::FileFor(const std::string& partition,
                                                          int64_t value_bytes, bool large) {
  // Consecutive rows mostly share a partition: skip the map lookup then.
  auto it = last_ != open_.end() && last_->first == partition ? last_ : open_.find(partition);
  if (it != open_.end() && it->second.value_bytes > 0 &&
      it->second.value_bytes + value_bytes > file_bytes_) {
    TL_RETURN_IF_ERROR(Close(it));
    it = open_.end();
  }
  if (it == open_.end()) {
    if (open_.size() >= max_open_) {
      auto lru = std::min_element(open_.begin(), open_.end(), [](const auto& a, const auto& b) {
        return a.second.last_use < b.second.last_use;
      });
      TL_RETURN_IF_ERROR(Close(lru));
    }
    OpenFile f;
    int index = next_index_[partition]++;
    f.key = JoinKey(partition, DataFileName(stem_, index));
    // A redo removes what it replaces first, so a name taken already is another file.
    TL_ASSIGN_OR_RETURN(auto sink, bucket_->NewObjectIfAbsent(f.key));
    std::vector<parquet::ColumnSpec> schema;
    for (const auto& c : task_.columns) schema.push_back(c.parquet);
    parquet::WriterOptions options;
    options.codec = task_.codec;
    options.row_group_bytes = RowGroupBytes(file_bytes_);
    options.key_value_metadata = metadata_;
    TL_ASSIGN_OR_RETURN(f.writer, parquet::FileWriter::Open(schema, options, std::move(sink)));
    // Encoding and compression run on a second thread while this one scans and converts.
    f.rows = std::make_unique<parquet::RowAppender>(f.writer.get(), 4096, /*background=*/large);
    f.charged = file_memory_;
    f.background = large;
    it = open_.emplace(partition, std::move(f)).first;
    budget_->Take(file_memory_);
  }
  OpenFile& f = it->second;
  f.last_use = ++clock_;
  f.value_bytes += value_bytes;
  last_ = it;
  return &f;
}

Status PartitionFiles::Close(std::map<std::string, OpenFile>::iterator it) {
  if (it == last_) last_ = open_.end();
  OpenFile f = std::move(it->second);
  open_.erase(it);
  ++closed_;
  if (!f.background) {
    // A file of few rows holds about their size until it is finished, not a row group's worth.
    int64_t charge = std::min(file_memory_, 2 * f.value_bytes + (64 << 10));
    budget_->Give(f.charged - charge);
    f.charged = charge;
  }
  f.sequence = closed_;
  return Enqueue(std::move(f));
}

Status PartitionFiles::Enqueue(OpenFile f) {
  std::unique_lock<std::mutex> lock(mu_);
  while (publishers_.size() < kPublishers) publishers_.emplace_back([this] { PublishLoop(); });
  // Files of many rows hold a row group and queued batches each: no more than one waits.
  room_.wait(lock, [&] {
    return (closing_.size() < kMaxClosing && (!f.background || !large_waiting_)) ||
           !publish_error_.ok();
  });
  if (!publish_error_.ok()) {
    Status error = publish_error_;
    lock.unlock();
    f.rows.reset();
    f.writer->Abort();
    budget_->Give(f.charged);
    return error;
  }
  large_waiting_ += f.background;
  closing_.push_back(std::move(f));
  work_.notify_one();
  return Status::OK();
}

Status PartitionFiles::Finish(OpenFile& f) {
  Status s = f.rows->Close();
  if (!s.ok()) return s.WithContext(bucket_->Url(f.key));
  std::lock_guard<std::mutex> lock(mu_);
  published_.push_back({f.key, f.row_count, f.writer->bytes_written(), f.sequence});
  return Status::OK();
}

void PartitionFiles::PublishLoop() {
  pthread_setname_np(pthread_self(), "tl-publish");  // names it in top -H and perf
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_.wait(lock, [&] { return stopping_ || !closing_.empty(); });
    if (closing_.empty()) return;
    OpenFile f = std::move(closing_.front());
    closing_.pop_front();
    large_waiting_ -= f.background;
    ++finishing_;
    // After an error or an abort, what waits is discarded: the batch fails as a whole.
    bool discard = stopping_ || !publish_error_.ok();
    lock.unlock();
    Status s;
    if (discard) {
      f.rows.reset();  // stops its encoding thread before the file goes
      f.writer->Abort();
    } else {
      s = Finish(f);
    }
    budget_->Give(f.charged);
    f = OpenFile();
    lock.lock();
    if (!s.ok() && publish_error_.ok()) publish_error_ = s;
    --finishing_;
    room_.notify_all();
  }
}

Status PartitionFiles::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  room_.wait(lock, [&] { return closing_.empty() && finishing_ == 0; });
  // In the order the files were closed, whichever thread finished them.
  std::sort(published_.begin(), published_.end(),
            [](const auto& a, const auto& b) { return a.sequence < b.sequence; });
  return publish_error_;
}

parquet::RowAppender* PartitionFiles::OpenFor(const std::string& partition, size_t row_bytes,
                                              bool* whole) {
  *whole = false;
  if (open_.empty()) return nullptr;
  auto it = last_ != open_.end() && last_->first == partition ? last_ : open_.find(partition);
  if (it == open_.end()) return nullptr;
  OpenFile& f = it->second;
  if (f.value_bytes > 0 && f.value_bytes + static_cast<int64_t>(row_bytes) > file_bytes_) {
    *whole = true;
    return nullptr;
  }
  f.last_use = ++clock_;
  ++f.row_count;
  f.value_bytes += static_cast<int64_t>(row_bytes);
  last_ = it;
  return f.rows.get();
}

Status PartitionFiles::Close(const std::string& partition) {
  auto it = open_.find(partition);
  return it == open_.end() ? Status::OK() : Close(it);
}

Status PartitionFiles::CloseAll() {
  while (!open_.empty()) TL_RETURN_IF_ERROR(Close(open_.begin()));
  return Drain();
}

void PartitionFiles::Abort() {
  for (auto& [partition, f] : open_) {
    f.rows.reset();  // stops its encoding thread before the file goes
    f.writer->Abort();
    budget_->Give(f.charged);
  }
  open_.clear();
  last_ = open_.end();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  room_.notify_all();
  for (auto& t : publishers_) t.join();
  publishers_.clear();
  stopping_ = false;
}

}  // namespace tablelake::delivery
