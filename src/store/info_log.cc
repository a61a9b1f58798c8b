#include "store/info_log.h"

#include <sys/time.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>

#include "rocksdb/env.h"

namespace tablelake::store {
namespace {

class InfoLog : public rocksdb::Logger {
 public:
  InfoLog(std::string dir, int64_t max_bytes)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL),
        path_(std::move(dir) + "/LOG"),
        max_bytes_(max_bytes) {
    Reopen();
  }
  ~InfoLog() override {
    if (file_) std::fclose(file_);
  }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[2048];
    timeval tv;
    gettimeofday(&tv, nullptr);
    tm t;
    localtime_r(&tv.tv_sec, &t);
    int n = std::snprintf(line, sizeof(line), "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ",
                          t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                          static_cast<long>(tv.tv_usec));
    va_list copy;
    va_copy(copy, ap);
    int body = std::vsnprintf(line + n, sizeof(line) - n - 1, format, copy);
    va_end(copy);
    size_t len = std::min<size_t>(sizeof(line) - 2, n + std::max(body, 0));
    line[len++] = '\n';
    std::lock_guard lock(mu_);
    if (file_ == nullptr) return;
    if (bytes_ + static_cast<int64_t>(len) > max_bytes_) Rotate();
    if (file_ == nullptr) return;
    // A failed write (a full disk) loses the line, nothing more.
    bytes_ += static_cast<int64_t>(std::fwrite(line, 1, len, file_));
    std::fflush(file_);
  }

  size_t GetLogFileSize() const override { return static_cast<size_t>(bytes_); }

 private:
  void Reopen() {
    file_ = std::fopen(path_.c_str(), "a");
    if (file_ == nullptr) return;
    std::fseek(file_, 0, SEEK_END);
    bytes_ = std::ftell(file_);
  }
  void Rotate() {
    std::fclose(file_);
    file_ = nullptr;
    std::error_code ec;
    std::filesystem::rename(path_, path_ + ".old", ec);
    if (ec) std::filesystem::remove(path_, ec);
    Reopen();
  }

  std::string path_;
  int64_t max_bytes_;
  std::mutex mu_;
  FILE* file_ = nullptr;
  int64_t bytes_ = 0;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewInfoLog(const std::string& dir, int64_t max_bytes) {
  return std::make_shared<InfoLog>(dir, max_bytes);
}

}  // namespace tablelake::store
