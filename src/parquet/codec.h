// Page compression with Debian's libraries: snappy, zlib (gzip framing), zstd, lz4 (raw block).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "parquet/schema.h"
#include "tablelake/status.h"

namespace tablelake::parquet {

// A byte buffer that grows without zero-filling, for compressed pages.
struct ByteBuffer {
  std::unique_ptr<char[]> data;
  size_t capacity = 0;
  size_t size = 0;
  // Makes room for `n` bytes; the contents are then undefined.
  char* Reserve(size_t n) {
    if (n > capacity) {
      data.reset(new char[n]);
      capacity = n;
    }
    return data.get();
  }
  std::string_view view() const { return std::string_view(data.get(), size); }
};

class Compressor {
 public:
  virtual ~Compressor() = default;
  // Sets `out` to the compressed form of `in`.
  virtual Status Compress(std::string_view in, ByteBuffer* out) = 0;
  // True when Compress only copies: callers then use the input as it is.
  virtual bool passthrough() const { return false; }
};

// Holds whatever state the codec reuses between pages (a zstd context, say). Not thread-safe.
Result<std::unique_ptr<Compressor>> NewCompressor(Codec codec, int level = 0);

}  // namespace tablelake::parquet
