#include "common/sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <unordered_set>

#include "fmt/format.h"

namespace tablelake {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  // A full disk or a refused write does not mend by trying again.
  bool lasting =
      errno == ENOSPC || errno == EDQUOT || errno == EACCES || errno == EPERM || errno == EROFS;
  Status s = Status::IOError(fmt::format("{} '{}': {}", what, path, std::strerror(errno)));
  return lasting ? s.WithRetryable(false) : s;
}

class FileSink : public Sink {
 public:
  // `fd` < 0: the temporary (and its folder) is created when the first bytes go out.
  FileSink(std::string path, std::string temp, int fd, bool sync, bool no_replace)
      : path_(std::move(path)),
        temp_(std::move(temp)),
        fd_(fd),
        deferred_(fd < 0),
        sync_(sync),
        no_replace_(no_replace) {}
  ~FileSink() override { Abort(); }

  Status Append(std::string_view data) override {
    if (closed_) return Status::Internal(fmt::format("'{}': append after close", path_));
    position_ += static_cast<int64_t>(data.size());
    if (buffer_.size() + data.size() < kBufferBytes) {
      if (buffer_.capacity() < buffer_.size() + data.size()) {
        // Small files (most partitions of a flush) take only what they hold.
        buffer_.reserve(std::min(kBufferBytes, 2 * (buffer_.size() + data.size())));
      }
      buffer_.append(data);
      return Status::OK();
    }
    TL_RETURN_IF_ERROR(Flush());
    return WriteAll(data);
  }

  Status Commit() override {
    if (closed_) return Status::Internal(fmt::format("'{}': commit after close", path_));
    TL_RETURN_IF_ERROR(Flush());
    closed_ = true;
    if (sync_ && ::fsync(fd_) != 0) return Errno("fsync", temp_);
    if (::close(fd_) != 0) {
      fd_ = -1;
      return Errno("close", temp_);
    }
    fd_ = -1;
    TL_RETURN_IF_ERROR(Publish());
    committed_ = true;
    if (sync_) {
      int dir = ::open(std::filesystem::path(path_).parent_path().c_str(), O_RDONLY | O_DIRECTORY);
      if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
      }
    }
    return Status::OK();
  }

  void Abort() override {
    closed_ = true;
    if (committed_ || (deferred_ && fd_ < 0 && !opened_)) return;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(temp_.c_str());
  }

  int64_t Tell() const override { return position_; }

 private:
  static constexpr size_t kBufferBytes = 1 << 20;

  // renameat2(RENAME_NOREPLACE) refuses an existing name atomically in one step; where the file
  // system lacks it, a hard link does (then the temporary goes); without links, a rename after
  // a check.
  Status Publish() {
    if (no_replace_) {
      if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, path_.c_str(), RENAME_NOREPLACE) == 0) {
        return Status::OK();
      }
      if (errno == EEXIST) {
        return Status::AlreadyExists(fmt::format("'{}' exists already: not replaced", path_))
            .WithRetryable(false);
      }
      if (::link(temp_.c_str(), path_.c_str()) == 0) {
        ::unlink(temp_.c_str());
        return Status::OK();
      }
      if (errno == EEXIST) {
        return Status::AlreadyExists(fmt::format("'{}' exists already: not replaced", path_))
            .WithRetryable(false);
      }
      if (std::filesystem::exists(path_)) {
        return Status::AlreadyExists(fmt::format("'{}' exists already: not replaced", path_));
      }
    }
    if (::rename(temp_.c_str(), path_.c_str()) != 0) return Errno("rename onto", path_);
    return Status::OK();
  }

  Status Open() {
    // A folder this thread has not written into yet is most likely new (a delivery writes each
    // partition's folder once): created before the file, rather than after a failed open that
    // walked its whole path (a sixth of the system calls of 17,520 one-file partitions).
    thread_local std::unordered_set<std::string> known;
    const size_t slash = temp_.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : temp_.substr(0, slash ? slash : 1);
    if (!known.count(dir)) {
      TL_RETURN_IF_ERROR(MakeFolders(dir));
      if (known.size() >= kKnownFolders) known.clear();
      known.insert(dir);
    }
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0 && errno == ENOENT) {  // its folder went meanwhile
      TL_RETURN_IF_ERROR(MakeFolders(dir));
      fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    }
    if (fd_ < 0) return Errno("create", temp_);
    opened_ = true;
    return Status::OK();
  }
  static constexpr size_t kKnownFolders = 4096;

  // mkdir from the deepest folder up, as far as needed: fewer calls than
  // std::filesystem::create_directories, which looks at every level first.
  static Status MakeFolders(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return Status::OK();
    size_t slash = dir.rfind('/');
    if (errno != ENOENT || slash == std::string::npos || slash == 0) {
      return Errno("cannot create folder", dir);
    }
    TL_RETURN_IF_ERROR(MakeFolders(dir.substr(0, slash)));
    if (::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return Status::OK();
    return Errno("cannot create folder", dir);
  }

  Status Flush() {
    if (fd_ < 0) TL_RETURN_IF_ERROR(Open());
    Status s = WriteAll(buffer_);
    buffer_.clear();
    return s;
  }
  Status WriteAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("write", temp_);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::OK();
  }

  std::string path_;
  std::string temp_;
  int fd_;
  const bool deferred_;
  bool opened_ = false;
  bool closed_ = false;
  bool sync_;
  bool no_replace_;
  bool committed_ = false;
  int64_t position_ = 0;
  std::string buffer_;
};

class StringSink : public Sink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  Status Append(std::string_view data) override {
    data_.append(data);
    return Status::OK();
  }
  Status Commit() override {
    *out_ = std::move(data_);
    return Status::OK();
  }
  void Abort() override { data_.clear(); }
  int64_t Tell() const override { return static_cast<int64_t>(data_.size()); }

 private:
  std::string* out_;
  std::string data_;
};

}  // namespace

Result<std::unique_ptr<Sink>> NewFileSink(const std::string& path, bool sync, bool no_replace,
                                          bool deferred) {
  // Seeded once per thread: opening /dev/urandom for every file costs more than the file.
  thread_local std::mt19937 rd(std::random_device{}());
  // A dot-prefixed temporary name: engines listing the folder skip hidden files.
  auto p = std::filesystem::path(path);
  std::string temp =
      (p.parent_path() / fmt::format(".{}.tmp-{:08x}", p.filename().string(), rd())).string();
  int fd = -1;
  if (!deferred) {
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("create", temp);
  }
  return std::unique_ptr<Sink>(
      std::make_unique<FileSink>(path, std::move(temp), fd, sync, no_replace));
}

std::unique_ptr<Sink> NewStringSink(std::string* out) { return std::make_unique<StringSink>(out); }

}  // namespace tablelake
