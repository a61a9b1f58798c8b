#include "delivery/spill_runs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/coding.h"
#include "fmt/format.h"

namespace tablelake::delivery {
namespace {

constexpr std::string_view kMagic = "TLRUN1\n";

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError(fmt::format("{}: write failed: {}", path, strerror(errno)));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

}  // namespace

Status WriteRun(const std::string& path, const PartitionBuffers& buffers) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(fmt::format("{}: cannot create: {}", path, strerror(errno)));
  Status s;
  std::string header;
  for (const auto* entry : buffers.Sorted()) {
    const PartitionBuffer& b = entry->second;
    header.assign(1, 'B');
    PutLengthPrefixed(&header, entry->first);
    PutVarint64(&header, static_cast<uint64_t>(b.rows));
    PutVarint64(&header, static_cast<uint64_t>(b.size));
    s = WriteAll(fd, header, path);
    for (size_t i = 0; s.ok() && i < b.chunks.size(); ++i)
      s = WriteAll(fd, b.chunks[i].view(), path);
    if (!s.ok()) break;
  }
  if (s.ok()) s = WriteAll(fd, "E" + std::string(kMagic), path);
  if (s.ok() && ::fdatasync(fd) != 0) {
    s = Status::IOError(fmt::format("{}: sync failed: {}", path, strerror(errno)));
  }
  ::close(fd);
  return s;
}

Result<std::unique_ptr<RunReader>> RunReader::Open(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rbe");
  if (f == nullptr) {
    return Status::IOError(fmt::format("spill run {}: cannot open: {}", path, strerror(errno)));
  }
  std::setvbuf(f, nullptr, _IOFBF, 256 << 10);  // one per run, all open while merging
  std::unique_ptr<RunReader> r(new RunReader(path, f));
  TL_RETURN_IF_ERROR(r->NextBlock());
  return r;
}

RunReader::~RunReader() { std::fclose(file_); }

Status RunReader::Corrupt(const char* what) const {
  return Status::Corruption(fmt::format("spill run {}: {}", path_, what));
}

bool RunReader::ReadVarint(uint64_t* v, uint64_t* consumed) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    int c = getc_unlocked(file_);
    if (c == EOF) return false;
    if (consumed) ++*consumed;
    *v |= static_cast<uint64_t>(c & 0x7f) << shift;
    if ((c & 0x80) == 0) return true;
  }
  return false;
}

Status RunReader::NextBlock() {
  if (block_left_ > 0 && std::fseek(file_, static_cast<long>(block_left_), SEEK_CUR) != 0) {
    return Corrupt("cannot skip a block");
  }
  block_left_ = 0;
  int c = getc_unlocked(file_);
  if (c == 'E') {
    char magic[16];
    size_t n = std::fread(magic, 1, kMagic.size(), file_);
    if (n != kMagic.size() || std::string_view(magic, n) != kMagic) {
      return Corrupt("its end marker is damaged");
    }
    done_ = true;
    partition_.clear();
    return Status::OK();
  }
  if (c == EOF) return Corrupt("it ends without its end marker");
  if (c != 'B') return Corrupt("a block does not start where it should");
  uint64_t name_size, rows, block;
  if (!ReadVarint(&name_size) || name_size > 4096) return Corrupt("a block header is damaged");
  partition_.resize(name_size);
  if (std::fread(partition_.data(), 1, name_size, file_) != name_size || !ReadVarint(&rows) ||
      !ReadVarint(&block)) {
    return Corrupt("a block header is cut short");
  }
  block_left_ = block;
  return Status::OK();
}

Result<bool> RunReader::NextRow(std::string_view* row, size_t* row_bytes) {
  if (block_left_ == 0) return false;
  uint64_t bytes, size, used = 0;
  if (!ReadVarint(&bytes, &used) || !ReadVarint(&size, &used)) {
    return Corrupt("a record is cut short");
  }
  if (size > block_left_) return Corrupt("a record runs past its block");
  scratch_.resize(size);
  if (std::fread(scratch_.data(), 1, size, file_) != size) return Corrupt("a row is cut short");
  used += size;
  if (used > block_left_) return Corrupt("a record runs past its block");
  block_left_ -= used;
  *row = scratch_;
  *row_bytes = static_cast<size_t>(bytes);
  return true;
}

}  // namespace tablelake::delivery
