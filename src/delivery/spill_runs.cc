#include "delivery/spill_runs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "common/coding.h"
#include "fmt/format.h"
#include "xxhash.h"

namespace tablelake::delivery {
namespace {

// A run ends with "E", the magic, then the XXH3 hash of every byte before it (8 bytes, little
// endian). Runs of the first layout (TLRUN1) were synced and have no hash.
constexpr std::string_view kMagic = "TLRUN2\n", kSyncedMagic = "TLRUN1\n";
constexpr size_t kHashBytes = 8;

// A run being written: its bytes go to the file and through the hash its end carries.
class RunFile {
 public:
  RunFile(int fd, const std::string& path) : fd_(fd), path_(path) { XXH3_64bits_reset(hash_); }
  ~RunFile() { XXH3_freeState(hash_); }

  Status Append(std::string_view data) {
    XXH3_64bits_update(hash_, data.data(), data.size());
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        return Status::IOError(fmt::format("{}: write failed: {}", path_, strerror(errno)));
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::OK();
  }
  Status End() {
    TL_RETURN_IF_ERROR(Append("E" + std::string(kMagic)));
    std::string hash;
    PutFixed64(&hash, XXH3_64bits_digest(hash_));
    return Append(hash);
  }

 private:
  int fd_;
  const std::string& path_;
  XXH3_state_t* hash_ = XXH3_createState();
};

}  // namespace

// The large buffers of a run, encoded by two threads (the writing one and a helper) a few
// partitions ahead of the one being written, handed over in partition order.
class ParallelEncoding {
 public:
  ParallelEncoding(const RowGroupEncoding& how, std::vector<const PartitionBuffers::Entry*> work)
      : how_(how), work_(std::move(work)), done_(work_.size()) {}
  ~ParallelEncoding() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (helper_.joinable()) helper_.join();
  }

  Status Start() {
    TL_ASSIGN_OR_RETURN(mine_, RowGroupEncoder::Open(how_));
    TL_ASSIGN_OR_RETURN(auto theirs, RowGroupEncoder::Open(how_));
    helper_ = std::thread([this, e = std::move(theirs)] {
      while (EncodeNext(e.get(), /*wait=*/true)) {
      }
    });
    return Status::OK();
  }

  // The row groups of work item `i` (taken in order), encoding others while they are not ready.
  Result<std::vector<RowGroupBlock>> Take(size_t i) {
    while (true) {
      {
        std::unique_lock lock(mu_);
        taken_ = i;
        cv_.notify_all();  // the helper's window moved
        if (done_[i]) {
          Result<std::vector<RowGroupBlock>> r = std::move(*done_[i]);
          done_[i].reset();
          ahead_bytes_ -= Bytes(i);
          return r;
        }
      }
      if (!EncodeNext(mine_.get(), /*wait=*/false)) {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return done_[i].has_value(); });
      }
    }
  }

 private:
  // Encoded partitions waiting to be written, at most: a count, and the values they hold (one
  // partition however large).
  static constexpr size_t kAhead = 8;
  static constexpr int64_t kAheadBytes = 16 << 20;
  int64_t Bytes(size_t i) const { return work_[i]->second.row_bytes; }

  // Encodes the next item within the window (`wait`: once there is one); false when there is
  // none (left, or yet).
  bool EncodeNext(RowGroupEncoder* e, bool wait) {
    size_t i;
    {
      std::unique_lock lock(mu_);
      auto ready = [&] {
        return stop_ || next_ >= work_.size() ||
               (next_ < taken_ + kAhead &&
                (next_ == taken_ || ahead_bytes_ + Bytes(next_) <= kAheadBytes));
      };
      if (wait) cv_.wait(lock, ready);
      if (!ready() || stop_ || next_ >= work_.size()) return false;
      i = next_++;
      ahead_bytes_ += Bytes(i);
    }
    auto r = e->Encode(work_[i]->second);
    std::lock_guard lock(mu_);
    done_[i] = std::move(r);
    cv_.notify_all();
    return true;
  }

  const RowGroupEncoding& how_;
  std::vector<const PartitionBuffers::Entry*> work_;
  std::unique_ptr<RowGroupEncoder> mine_;
  std::thread helper_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<Result<std::vector<RowGroupBlock>>>> done_;
  size_t next_ = 0;          // the next item to encode
  size_t taken_ = 0;         // the item being written
  int64_t ahead_bytes_ = 0;  // values of the items claimed and not taken
  bool stop_ = false;
};

Status WriteRun(const std::string& path, const PartitionBuffers& buffers,
                const RowGroupEncoding* encoding) {
  std::vector<const PartitionBuffers::Entry*> records, large;
  for (const auto* e : buffers.Sorted()) {
    (encoding && e->second.row_bytes >= encoding->min_bytes ? large : records).push_back(e);
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(fmt::format("{}: cannot create: {}", path, strerror(errno)));
  RunFile file(fd, path);
  std::string header;
  auto write_records = [&](const PartitionBuffers::Entry& entry) -> Status {
    const PartitionBuffer& b = entry.second;
    header.assign(1, 'B');
    PutLengthPrefixed(&header, entry.first);
    PutVarint64(&header, static_cast<uint64_t>(b.rows));
    PutVarint64(&header, static_cast<uint64_t>(b.size));
    TL_RETURN_IF_ERROR(file.Append(header));
    for (const Chunk& c : b.chunks) TL_RETURN_IF_ERROR(file.Append(c.view()));
    return Status::OK();
  };
  auto write_row_groups = [&](const std::string& partition,
                              const std::vector<RowGroupBlock>& blocks) -> Status {
    for (const RowGroupBlock& b : blocks) {
      std::string meta;
      parquet::EncodeRowGroupMetadata(b.group.meta, &meta);
      header.assign(1, 'P');
      PutLengthPrefixed(&header, partition);
      PutVarint64(&header, static_cast<uint64_t>(b.value_bytes));
      PutVarint64(&header, VarintLength(meta.size()) + meta.size() + b.group.bytes.size());
      PutLengthPrefixed(&header, meta);
      TL_RETURN_IF_ERROR(file.Append(header));
      TL_RETURN_IF_ERROR(file.Append(b.group.bytes));
    }
    return Status::OK();
  };
  Status s = [&]() -> Status {
    std::unique_ptr<ParallelEncoding> encoded;
    if (!large.empty()) {
      encoded = std::make_unique<ParallelEncoding>(*encoding, large);
      TL_RETURN_IF_ERROR(encoded->Start());
    }
    // Both lists are in partition order: merged, the run is too.
    size_t r = 0, l = 0;
    while (r < records.size() || l < large.size()) {
      if (l == large.size() || (r < records.size() && records[r]->first < large[l]->first)) {
        TL_RETURN_IF_ERROR(write_records(*records[r++]));
        continue;
      }
      TL_ASSIGN_OR_RETURN(auto blocks, encoded->Take(l));
      TL_RETURN_IF_ERROR(write_row_groups(large[l++]->first, blocks));
    }
    return file.End();
  }();
  ::close(fd);
  // A run cut short (a full disk, say) is never listed: it goes now rather than take the room
  // until the next run of the task.
  if (!s.ok()) ::unlink(path.c_str());
  return s;
}

Status VerifyRun(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::IOError(fmt::format("spill run {}: cannot open: {}", path, strerror(errno)));
  }
  XXH3_state_t* hash = XXH3_createState();
  XXH3_64bits_reset(hash);
  std::string buffer(1 << 20, '\0'), tail;  // tail: the last bytes read, not hashed yet
  ssize_t n;
  while ((n = ::read(fd, buffer.data(), buffer.size())) > 0 || (n < 0 && errno == EINTR)) {
    if (n < 0) continue;
    tail.append(buffer.data(), static_cast<size_t>(n));
    if (tail.size() > kHashBytes) {
      XXH3_64bits_update(hash, tail.data(), tail.size() - kHashBytes);
      tail.erase(0, tail.size() - kHashBytes);
    }
  }
  const int read_errno = n < 0 ? errno : 0;
  ::close(fd);
  const uint64_t digest = XXH3_64bits_digest(hash);
  XXH3_freeState(hash);
  if (read_errno != 0) {
    return Status::IOError(
        fmt::format("spill run {}: read failed: {}", path, strerror(read_errno)));
  }
  // The hash follows the end marker; a run of the synced layout ends with its marker.
  std::string_view whole = tail;
  if (whole == "E" + std::string(kSyncedMagic)) return Status::OK();
  if (whole.size() < kHashBytes || DecodeFixed64(whole.data()) != digest) {
    return Status::Corruption(
        fmt::format("spill run {}: its bytes do not match its checksum (a crash of the machine "
                    "while it was written, or damage since)",
                    path));
  }
  return Status::OK();
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
    std::string_view end(magic, n);
    if (end != kMagic && end != kSyncedMagic) {
      return Corrupt("its end marker is damaged");
    }
    done_ = true;
    partition_.clear();
    return Status::OK();
  }
  if (c == EOF) return Corrupt("it ends without its end marker");
  if (c != 'B' && c != 'P') return Corrupt("a block does not start where it should");
  row_group_ = c == 'P';
  uint64_t name_size, count, block;  // count: rows, or a row group's value bytes
  if (!ReadVarint(&name_size) || name_size > 4096) return Corrupt("a block header is damaged");
  partition_.resize(name_size);
  if (std::fread(partition_.data(), 1, name_size, file_) != name_size || !ReadVarint(&count) ||
      !ReadVarint(&block)) {
    return Corrupt("a block header is cut short");
  }
  value_bytes_ = count;
  block_left_ = block;
  return Status::OK();
}

Result<RowGroupBlock> RunReader::ReadRowGroup() {
  if (!row_group_) return Corrupt("a block of records read as a row group");
  struct stat st;
  long at = std::ftell(file_);
  if (::fstat(fileno(file_), &st) != 0 || at < 0 ||
      block_left_ > static_cast<uint64_t>(st.st_size - at)) {
    return Corrupt("a row group runs past the end of the run");  // a damaged size, say
  }
  scratch_.resize(block_left_);
  if (std::fread(scratch_.data(), 1, scratch_.size(), file_) != scratch_.size()) {
    return Corrupt("a row group is cut short");
  }
  block_left_ = 0;
  std::string_view in = scratch_, meta;
  RowGroupBlock b;
  b.value_bytes = static_cast<int64_t>(value_bytes_);
  if (!GetLengthPrefixed(&in, &meta)) return Corrupt("a row group's metadata is cut short");
  Status s = parquet::DecodeRowGroupMetadata(&meta, &b.group.meta);
  if (!s.ok()) return Corrupt("a row group's metadata is damaged");
  if (b.group.meta.total_compressed_size != static_cast<int64_t>(in.size())) {
    return Corrupt("a row group's size does not match its metadata");
  }
  b.group.bytes.assign(in);
  return b;
}

Result<bool> RunReader::NextRow(std::string_view* row, size_t* row_bytes) {
  if (block_left_ == 0 || row_group_) return false;
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
