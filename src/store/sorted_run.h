// A bulk load's sorted runs: key/value records in key order in a scratch file, each record
// varint key size, varint value size, key, value. Written and read sequentially through a
// buffer, with no block structure, index or compression: a run lives for seconds, mostly in the
// page cache, and is read once by a merge (as SST files, runs took a third of a 2M-row load's
// CPU to build and read back). Marks every kMarkEvery records (key and offset) let a merge start
// a run part-way, at a key.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tablelake/status.h"

namespace tablelake::store {

struct RunMark {
  std::string key;
  uint64_t offset;  // where the record of that key starts
};

class RunWriter {
 public:
  static constexpr uint64_t kMarkEvery = 4096;
  static Result<std::unique_ptr<RunWriter>> Create(std::string path);
  ~RunWriter();
  // Records in key order.
  Status Add(std::string_view key, std::string_view value);
  // Writes what is buffered (a reader opened after it reads every record added).
  Status Flush();
  // Flushes and closes the file.
  Status Finish();
  uint64_t file_bytes() const { return written_ + buffer_.size(); }
  const std::vector<RunMark>& marks() const { return marks_; }
  // Taken after Finish.
  std::vector<RunMark> TakeMarks() { return std::move(marks_); }

 private:
  RunWriter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
  std::string buffer_;
  uint64_t written_ = 0;
  uint64_t records_ = 0;
  std::vector<RunMark> marks_;
};

class RunReader {
 public:
  // Reads `path` from `offset` (0 or a mark's) through a buffer of about `buffer_bytes`.
  static Result<std::unique_ptr<RunReader>> Open(std::string path, size_t buffer_bytes,
                                                 uint64_t offset = 0);
  ~RunReader();
  bool Valid() const { return valid_; }
  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }
  // The next record; invalid at the end or on an error (status()).
  void Next();
  // Moves past the records whose key is below `key`.
  void SkipBelow(std::string_view key);
  const Status& status() const { return status_; }

 private:
  RunReader(std::string path, int fd, size_t buffer_bytes);
  // At least `n` bytes from `pos_` in the buffer, reading more; false at the end of the file.
  bool Ensure(size_t n);
  std::string path_;
  int fd_;
  std::string buffer_;
  size_t pos_ = 0, end_ = 0;  // unread bytes: [pos_, end_)
  bool eof_ = false;
  bool valid_ = false;
  std::string_view key_, value_;
  Status status_;
};

}  // namespace tablelake::store
