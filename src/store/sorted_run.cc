#include "store/sorted_run.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/coding.h"
#include "fmt/format.h"

namespace tablelake::store {
namespace {

constexpr size_t kWriteBufferBytes = 1 << 20;
constexpr size_t kMaxRecordHeader = 20;  // two varint64s

Status IoError(const char* what, const std::string& path) {
  return Status::IOError(fmt::format("cannot {} run '{}': {}", what, path, std::strerror(errno)));
}

}  // namespace

Result<std::unique_ptr<RunWriter>> RunWriter::Create(std::string path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("create", path);
  return std::unique_ptr<RunWriter>(new RunWriter(std::move(path), fd));
}

RunWriter::~RunWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status RunWriter::Add(std::string_view key, std::string_view value) {
  if (records_++ % kMarkEvery == 0) marks_.push_back({std::string(key), file_bytes()});
  char header[kMaxRecordHeader];
  char* end = EncodeVarint64(EncodeVarint64(header, key.size()), value.size());
  buffer_.append(header, end);
  buffer_.append(key);
  buffer_.append(value);
  return buffer_.size() >= kWriteBufferBytes ? Flush() : Status::OK();
}

Status RunWriter::Flush() {
  for (size_t done = 0; done < buffer_.size();) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("write", path_);
    done += static_cast<size_t>(n);
  }
  written_ += buffer_.size();
  buffer_.clear();
  return Status::OK();
}

Status RunWriter::Finish() {
  TL_RETURN_IF_ERROR(Flush());
  int fd = fd_;
  fd_ = -1;
  return ::close(fd) == 0 ? Status::OK() : IoError("close", path_);
}

Result<std::unique_ptr<RunReader>> RunReader::Open(std::string path, size_t buffer_bytes,
                                                   uint64_t offset) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("open", path);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::unique_ptr<RunReader> reader(new RunReader(std::move(path), fd, buffer_bytes));
  if (offset > 0 && ::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
    return IoError("seek in", reader->path_);
  }
  reader->Next();
  TL_RETURN_IF_ERROR(reader->status());
  return reader;
}

RunReader::RunReader(std::string path, int fd, size_t buffer_bytes)
    : path_(std::move(path)), fd_(fd) {
  buffer_.resize(std::max<size_t>(buffer_bytes, 64 << 10));
}

RunReader::~RunReader() { ::close(fd_); }

bool RunReader::Ensure(size_t n) {
  if (end_ - pos_ >= n) return true;
  std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
  end_ -= pos_;
  pos_ = 0;
  if (buffer_.size() < n) buffer_.resize(n);
  while (end_ < n && !eof_) {
    ssize_t got = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      status_ = IoError("read", path_);
      return false;
    }
    eof_ = got == 0;
    end_ += static_cast<size_t>(got);
  }
  return end_ >= n;
}

void RunReader::Next() {
  valid_ = false;
  if (!Ensure(kMaxRecordHeader) && (!status_.ok() || end_ == pos_)) return;  // the end
  std::string_view in(buffer_.data() + pos_, end_ - pos_);
  uint64_t key_size = 0, value_size = 0;
  if (!GetVarint64(&in, &key_size) || !GetVarint64(&in, &value_size)) {
    status_ = Status::Corruption(fmt::format("bulk load run '{}' is cut short", path_));
    return;
  }
  const size_t header = (end_ - pos_) - in.size();
  const size_t record = header + key_size + value_size;
  if (!Ensure(record)) {
    if (status_.ok()) {
      status_ = Status::Corruption(fmt::format("bulk load run '{}' is cut short", path_));
    }
    return;
  }
  const char* p = buffer_.data() + pos_ + header;
  key_ = {p, key_size};
  value_ = {p + key_size, value_size};
  pos_ += record;
  valid_ = true;
}

void RunReader::SkipBelow(std::string_view key) {
  while (valid_ && key_ < key) Next();
}

}  // namespace tablelake::store
