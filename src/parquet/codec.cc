#include "parquet/codec.h"

#include <lz4.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

#include "fmt/format.h"

namespace tablelake::parquet {
namespace {

class Uncompressed : public Compressor {
 public:
  bool passthrough() const override { return true; }
  Status Compress(std::string_view in, ByteBuffer* out) override {
    std::memcpy(out->Reserve(in.size()), in.data(), in.size());
    out->size = in.size();
    return Status::OK();
  }
};

class Snappy : public Compressor {
 public:
  Status Compress(std::string_view in, ByteBuffer* out) override {
    char* dst = out->Reserve(snappy::MaxCompressedLength(in.size()));
    snappy::RawCompress(in.data(), in.size(), dst, &out->size);
    return Status::OK();
  }
};

class Zstd : public Compressor {
 public:
  explicit Zstd(int level) : ctx_(ZSTD_createCCtx()), level_(level) {}
  ~Zstd() override { ZSTD_freeCCtx(ctx_); }
  Status Compress(std::string_view in, ByteBuffer* out) override {
    size_t bound = ZSTD_compressBound(in.size());
    size_t n = ZSTD_compressCCtx(ctx_, out->Reserve(bound), bound, in.data(), in.size(), level_);
    if (ZSTD_isError(n)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
    out->size = n;
    return Status::OK();
  }

 private:
  ZSTD_CCtx* ctx_;
  int level_;
};

class Lz4Raw : public Compressor {
 public:
  Status Compress(std::string_view in, ByteBuffer* out) override {
    int bound = LZ4_compressBound(static_cast<int>(in.size()));
    int n =
        LZ4_compress_default(in.data(), out->Reserve(bound), static_cast<int>(in.size()), bound);
    if (n <= 0) return Status::Internal("lz4: compression failed");
    out->size = static_cast<size_t>(n);
    return Status::OK();
  }
};

class Gzip : public Compressor {
 public:
  explicit Gzip(int level) : level_(level) {}
  Status Compress(std::string_view in, ByteBuffer* out) override {
    z_stream z{};
    // windowBits 15 + 16: a gzip header and trailer, as Parquet's GZIP codec has it.
    if (deflateInit2(&z, level_, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return Status::Internal("gzip: deflateInit2 failed");
    }
    size_t bound = deflateBound(&z, in.size());
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out->Reserve(bound));
    z.avail_out = static_cast<uInt>(bound);
    int rc = deflate(&z, Z_FINISH);
    size_t n = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) return Status::Internal(fmt::format("gzip: deflate returned {}", rc));
    out->size = n;
    return Status::OK();
  }

 private:
  int level_;
};

}  // namespace

Result<std::unique_ptr<Compressor>> NewCompressor(Codec codec, int level) {
  switch (codec) {
    case Codec::kUncompressed:
      return std::unique_ptr<Compressor>(std::make_unique<Uncompressed>());
    case Codec::kSnappy:
      return std::unique_ptr<Compressor>(std::make_unique<Snappy>());
    case Codec::kZstd:
      return std::unique_ptr<Compressor>(std::make_unique<Zstd>(level ? level : 3));
    case Codec::kLz4Raw:
      return std::unique_ptr<Compressor>(std::make_unique<Lz4Raw>());
    case Codec::kGzip:
      return std::unique_ptr<Compressor>(
          std::make_unique<Gzip>(level ? level : Z_DEFAULT_COMPRESSION));
  }
  return Status::InvalidArgument(fmt::format("unknown codec {}", static_cast<int>(codec)));
}

}  // namespace tablelake::parquet
