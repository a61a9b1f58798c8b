#include "parquet/encoding.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

namespace tablelake::parquet {
namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

uint64_t Zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

// Packs 64-bit values of up to 64 bits, LSB first; n need not be a multiple of 8.
void BitPack64(const uint64_t* values, size_t n, int bit_width, std::string* out) {
  if (bit_width == 0) return;
  size_t start = out->size();
  out->resize(start + (n * bit_width + 7) / 8, 0);
  uint8_t* dst = reinterpret_cast<uint8_t*>(out->data() + start);
  size_t bit = 0;
  for (size_t i = 0; i < n; ++i) {
    uint64_t v = values[i];
    int remaining = bit_width;
    while (remaining > 0) {
      size_t byte = bit / 8;
      int offset = static_cast<int>(bit % 8);
      int take = std::min(remaining, 8 - offset);
      dst[byte] |= static_cast<uint8_t>((v & ((1ULL << take) - 1)) << offset);
      v >>= take;
      bit += take;
      remaining -= take;
    }
  }
}

void FlushLiterals(std::vector<uint32_t>* literals, int bit_width, std::string* out) {
  if (literals->empty()) return;
  size_t groups = (literals->size() + 7) / 8;
  literals->resize(groups * 8, 0);  // the last group is padded; readers stop at num_values
  PutVarint((groups << 1) | 1, out);
  BitPack(literals->data(), literals->size(), bit_width, out);
  literals->clear();
}

void EmitRepeated(uint32_t value, size_t count, int bit_width, std::string* out) {
  PutVarint(static_cast<uint64_t>(count) << 1, out);
  for (int b = 0; b < (bit_width + 7) / 8; ++b) out->push_back(static_cast<char>(value >> (8 * b)));
}

}  // namespace

int BitWidth(uint64_t max_value) {
  int w = 0;
  while (max_value > 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

void BitPack(const uint32_t* values, size_t n, int bit_width, std::string* out) {
  if (bit_width == 0) return;
  if (bit_width == 1) {  // definition levels and small dictionaries: the hot case
    size_t start = out->size();
    out->resize(start + n / 8);
    for (size_t g = 0; g < n / 8; ++g) {
      uint8_t byte = 0;
      for (int i = 0; i < 8; ++i) byte |= static_cast<uint8_t>((values[g * 8 + i] & 1) << i);
      (*out)[start + g] = static_cast<char>(byte);
    }
    return;
  }
  // Accumulate into a 64-bit buffer and emit whole bytes.
  uint64_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc |= static_cast<uint64_t>(values[i]) << bits;
    bits += bit_width;
    while (bits >= 8) {
      out->push_back(static_cast<char>(acc & 0xff));
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out->push_back(static_cast<char>(acc & 0xff));
}

void EncodeRleHybrid(const uint32_t* values, size_t n, int bit_width, std::string* out) {
  std::vector<uint32_t> literals;
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && values[j] == values[i]) ++j;
    size_t run = j - i;
    if (run < 8) {
      literals.insert(literals.end(), values + i, values + j);
      i = j;
      continue;
    }
    // Literal runs hold whole groups of 8: complete the pending group from this run.
    size_t need = (8 - literals.size() % 8) % 8;
    if (!literals.empty()) {
      literals.insert(literals.end(), need, values[i]);
      run -= need;
      FlushLiterals(&literals, bit_width, out);
    }
    if (run > 0) EmitRepeated(values[i], run, bit_width, out);
    i = j;
  }
  FlushLiterals(&literals, bit_width, out);
}

void EncodeLevels(const uint8_t* levels, size_t n, int bit_width, std::string* out) {
  size_t length_at = out->size();
  out->append(4, '\0');
  size_t start = out->size();
  if (n > 0 && std::all_of(levels, levels + n, [&](uint8_t l) { return l == levels[0]; })) {
    EmitRepeated(levels[0], n, bit_width, out);  // e.g. no nulls in the page: one run
  } else {
    std::vector<uint32_t> wide(levels, levels + n);
    EncodeRleHybrid(wide.data(), n, bit_width, out);
  }
  uint32_t length = static_cast<uint32_t>(out->size() - start);
  std::memcpy(out->data() + length_at, &length, 4);
}

template <typename T>
void EncodeDeltaBinaryPacked(const T* values, size_t n, std::string* out) {
  using U = std::make_unsigned_t<T>;
  constexpr size_t kBlock = 128, kMiniblocks = 4, kMiniblock = kBlock / kMiniblocks;
  PutVarint(kBlock, out);
  PutVarint(kMiniblocks, out);
  PutVarint(n, out);
  PutVarint(Zigzag(n > 0 ? static_cast<int64_t>(values[0]) : 0), out);
  uint64_t deltas[kBlock];
  for (size_t first = 1; first < n; first += kBlock) {
    size_t count = std::min(kBlock, n - first);
    // Deltas wrap in T's width; the minimum is taken as a signed T.
    T min_delta = std::numeric_limits<T>::max();
    for (size_t k = 0; k < count; ++k) {
      T d =
          static_cast<T>(static_cast<U>(values[first + k]) - static_cast<U>(values[first + k - 1]));
      deltas[k] = static_cast<U>(d);
      min_delta = std::min(min_delta, d);
    }
    for (size_t k = 0; k < count; ++k) {
      deltas[k] = static_cast<U>(static_cast<U>(deltas[k]) - static_cast<U>(min_delta));
    }
    std::fill(deltas + count, deltas + kBlock, 0);
    PutVarint(Zigzag(min_delta), out);
    size_t used = (count + kMiniblock - 1) / kMiniblock;
    uint8_t widths[kMiniblocks] = {0, 0, 0, 0};
    for (size_t m = 0; m < used; ++m) {
      uint64_t max = 0;
      for (size_t k = m * kMiniblock; k < (m + 1) * kMiniblock; ++k) max |= deltas[k];
      widths[m] = static_cast<uint8_t>(BitWidth(max));
    }
    out->append(reinterpret_cast<const char*>(widths), kMiniblocks);
    for (size_t m = 0; m < used; ++m)
      BitPack64(deltas + m * kMiniblock, kMiniblock, widths[m], out);
  }
}

template void EncodeDeltaBinaryPacked<int32_t>(const int32_t*, size_t, std::string*);
template void EncodeDeltaBinaryPacked<int64_t>(const int64_t*, size_t, std::string*);

void EncodeDeltaLengthByteArray(const ByteArrays& values, std::string* out) {
  std::vector<int32_t> lengths(values.n);
  for (size_t i = 0; i < values.n; ++i) lengths[i] = static_cast<int32_t>(values.at(i).size());
  EncodeDeltaBinaryPacked(lengths.data(), lengths.size(), out);
  if (values.n > 0) {
    out->append(values.data + values.offsets[0], values.offsets[values.n] - values.offsets[0]);
  }
}

void EncodeDeltaByteArray(const ByteArrays& values, std::string* out) {
  std::vector<int32_t> prefixes(values.n);
  std::string suffix_data;
  std::vector<uint32_t> suffix_offsets(values.n + 1, 0);
  std::string_view previous;
  for (size_t i = 0; i < values.n; ++i) {
    std::string_view v = values.at(i);
    size_t p = 0;
    size_t limit = std::min(v.size(), previous.size());
    while (p < limit && v[p] == previous[p]) ++p;
    prefixes[i] = static_cast<int32_t>(p);
    suffix_data.append(v.substr(p));
    suffix_offsets[i + 1] = static_cast<uint32_t>(suffix_data.size());
    previous = v;
  }
  EncodeDeltaBinaryPacked(prefixes.data(), prefixes.size(), out);
  EncodeDeltaLengthByteArray({suffix_data.data(), suffix_offsets.data(), values.n}, out);
}

}  // namespace tablelake::parquet
