// Page compression with Debian's libraries: snappy, zlib (gzip framing), zstd, lz4 (raw block).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "parquet/schema.h"
#include "tablelake/status.h"

namespace tablelake::parquet {

class Compressor {
 public:
  virtual ~Compressor() = default;
  // Replaces `out` with the compressed form of `in`.
  virtual Status Compress(std::string_view in, std::string* out) = 0;
};

// Holds whatever state the codec reuses between pages (a zstd context, say). Not thread-safe.
Result<std::unique_ptr<Compressor>> NewCompressor(Codec codec, int level = 0);

}  // namespace tablelake::parquet
