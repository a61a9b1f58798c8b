// Parquet value and level encodings: bit-packing, the RLE/bit-packed hybrid, and the DELTA
// family. All append to a std::string. Format: parquet-format's Encodings.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tablelake::parquet {

// Bits needed for values up to `max_value` (0 needs 0 bits).
int BitWidth(uint64_t max_value);

// Packs `n` values (a multiple of 8) of `bit_width` bits, least significant bit first.
void BitPack(const uint32_t* values, size_t n, int bit_width, std::string* out);

// RLE/bit-packed hybrid of `n` values, without a length prefix.
void EncodeRleHybrid(const uint32_t* values, size_t n, int bit_width, std::string* out);

// Repetition or definition levels as a data page V1 holds them: a 4-byte little-endian length,
// then the RLE/bit-packed hybrid with `bit_width` bits (BitWidth of the maximum level).
void EncodeLevels(const uint8_t* levels, size_t n, int bit_width, std::string* out);

// DELTA_BINARY_PACKED: blocks of 128 values in 4 miniblocks. T is int32_t or int64_t; deltas
// wrap in T's width, as readers decode them.
template <typename T>
void EncodeDeltaBinaryPacked(const T* values, size_t n, std::string* out);

// Byte-array values [offsets[i], offsets[i+1]) of `data`, i in [0, n).
struct ByteArrays {
  const char* data;
  const uint32_t* offsets;
  size_t n;
  std::string_view at(size_t i) const {
    return std::string_view(data + offsets[i], offsets[i + 1] - offsets[i]);
  }
};

// DELTA_LENGTH_BYTE_ARRAY: the lengths DELTA_BINARY_PACKED, then the bytes back to back.
void EncodeDeltaLengthByteArray(const ByteArrays& values, std::string* out);
// DELTA_BYTE_ARRAY: prefix lengths shared with the previous value (DELTA_BINARY_PACKED), then
// the suffixes as DELTA_LENGTH_BYTE_ARRAY.
void EncodeDeltaByteArray(const ByteArrays& values, std::string* out);

}  // namespace tablelake::parquet
