#include "parquet/codec.h"

#include <lz4.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include "fmt/format.h"

namespace tablelake::parquet {
namespace {

class Uncompressed : public Compressor {
 public:
  Status Compress(std::string_view in, std::string* out) override {
    out->assign(in);
    return Status::OK();
  }
};

class Snappy : public Compressor {
 public:
  Status Compress(std::string_view in, std::string* out) override {
    out->resize(snappy::MaxCompressedLength(in.size()));
    size_t n = 0;
    snappy::RawCompress(in.data(), in.size(), out->data(), &n);
    out->resize(n);
    return Status::OK();
  }
};

class Zstd : public Compressor {
 public:
  explicit Zstd(int level) : ctx_(ZSTD_createCCtx()), level_(level) {}
  ~Zstd() override { ZSTD_freeCCtx(ctx_); }
  Status Compress(std::string_view in, std::string* out) override {
    out->resize(ZSTD_compressBound(in.size()));
    size_t n = ZSTD_compressCCtx(ctx_, out->data(), out->size(), in.data(), in.size(), level_);
    if (ZSTD_isError(n)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
    out->resize(n);
    return Status::OK();
  }

 private:
  ZSTD_CCtx* ctx_;
  int level_;
};

class Lz4Raw : public Compressor {
 public:
  Status Compress(std::string_view in, std::string* out) override {
    out->resize(LZ4_compressBound(static_cast<int>(in.size())));
    int n = LZ4_compress_default(in.data(), out->data(), static_cast<int>(in.size()),
                                 static_cast<int>(out->size()));
    if (n <= 0) return Status::Internal("lz4: compression failed");
    out->resize(n);
    return Status::OK();
  }
};

class Gzip : public Compressor {
 public:
  explicit Gzip(int level) : level_(level) {}
  Status Compress(std::string_view in, std::string* out) override {
    z_stream z{};
    // windowBits 15 + 16: a gzip header and trailer, as Parquet's GZIP codec has it.
    if (deflateInit2(&z, level_, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return Status::Internal("gzip: deflateInit2 failed");
    }
    out->resize(deflateBound(&z, in.size()));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out->data());
    z.avail_out = static_cast<uInt>(out->size());
    int rc = deflate(&z, Z_FINISH);
    size_t n = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) return Status::Internal(fmt::format("gzip: deflate returned {}", rc));
    out->resize(n);
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
