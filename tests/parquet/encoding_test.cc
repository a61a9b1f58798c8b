// Encodings against the examples of parquet-format's Encodings.md, plus round trips through a
// small reference decoder written from the spec for the DELTA family.
#include "parquet/encoding.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "common/coding.h"

namespace tablelake::parquet {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

// A varint at in[*pos], with the project's decoder.
uint64_t ReadVarint(const std::string& in, size_t* pos) {
  std::string_view rest = std::string_view(in).substr(*pos);
  size_t before = rest.size();
  uint64_t v = 0;
  EXPECT_TRUE(GetVarint64(&rest, &v));
  *pos += before - rest.size();
  return v;
}

TEST(Encoding, BitPackingSpecExample) {
  // Encodings.md: 0..7 with bit width 3 pack to 10001000 11000110 11111010.
  std::vector<uint32_t> v = {0, 1, 2, 3, 4, 5, 6, 7};
  std::string out;
  BitPack(v.data(), v.size(), 3, &out);
  EXPECT_EQ(out, Bytes({0x88, 0xc6, 0xfa}));
}

TEST(Encoding, RleHybridRunsAndLiterals) {
  std::vector<uint32_t> run(100, 4);
  std::string out;
  EncodeRleHybrid(run.data(), run.size(), 3, &out);
  EXPECT_EQ(out, Bytes({0xc8, 0x01, 0x04}));  // header 100 << 1, one value byte

  std::vector<uint32_t> literal = {0, 1, 2, 3, 4, 5, 6, 7};
  out.clear();
  EncodeRleHybrid(literal.data(), literal.size(), 3, &out);
  EXPECT_EQ(out, Bytes({0x03, 0x88, 0xc6, 0xfa}));  // one group of 8, bit-packed
}

// Decodes the hybrid back, to check mixed inputs of any shape.
std::vector<uint32_t> DecodeRleHybrid(const std::string& in, int width, size_t n) {
  std::vector<uint32_t> out;
  size_t pos = 0;
  auto varint = [&] { return ReadVarint(in, &pos); };
  while (out.size() < n) {
    uint64_t header = varint();
    if (header & 1) {
      size_t count = (header >> 1) * 8;
      uint64_t bit = 0;
      for (size_t i = 0; i < count; ++i) {
        uint32_t v = 0;
        for (int b = 0; b < width; ++b, ++bit) {
          v |= ((static_cast<uint8_t>(in[pos + bit / 8]) >> (bit % 8)) & 1u) << b;
        }
        if (out.size() < n) out.push_back(v);
      }
      pos += (count * width + 7) / 8;
    } else {
      uint32_t v = 0;
      for (int b = 0; b < (width + 7) / 8; ++b)
        v |= static_cast<uint32_t>(static_cast<uint8_t>(in[pos++])) << (8 * b);
      out.insert(out.end(), header >> 1, v);
    }
  }
  return out;
}

TEST(Encoding, RleHybridRoundTripsRandomRuns) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    int width = 1 + static_cast<int>(rng() % 20);
    std::vector<uint32_t> v;
    while (v.size() < 1000) {
      uint32_t x = rng() & ((1u << width) - 1);
      v.insert(v.end(), 1 + rng() % (rng() % 3 == 0 ? 30 : 3), x);
    }
    std::string out;
    EncodeRleHybrid(v.data(), v.size(), width, &out);
    ASSERT_EQ(DecodeRleHybrid(out, width, v.size()), v) << "width " << width;
  }
}

TEST(Encoding, DefinitionLevelsHaveALengthPrefix) {
  std::vector<uint8_t> defined(10, 1);
  std::string out;
  EncodeLevels(defined.data(), defined.size(), 1, &out);
  EXPECT_EQ(out, Bytes({0x02, 0, 0, 0, 0x14, 0x01}));  // 2 bytes: run of 10 ones
}

TEST(Encoding, DeltaBinaryPackedSpecExamples) {
  std::vector<int32_t> a = {1, 2, 3, 4, 5};  // constant delta: min delta 1, widths 0
  std::string out;
  EncodeDeltaBinaryPacked(a.data(), a.size(), &out);
  EXPECT_EQ(out, Bytes({0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0}));

  std::vector<int32_t> b = {7, 5, 3, 1, 2, 3, 4, 5};  // deltas -2 x3, 1 x4: min -2, width 2
  out.clear();
  EncodeDeltaBinaryPacked(b.data(), b.size(), &out);
  EXPECT_EQ(out, Bytes({0x80, 0x01, 0x04, 0x08, 0x0e, 0x03, 0x02, 0, 0, 0, 0xc0, 0x3f, 0, 0, 0, 0,
                        0, 0}));
}

// A DELTA_BINARY_PACKED decoder written from the spec, in the value type's wrapping width.
template <typename T>
std::vector<T> DecodeDelta(const std::string& in) {
  using U = std::make_unsigned_t<T>;
  size_t pos = 0;
  auto varint = [&] { return ReadVarint(in, &pos); };
  auto unzigzag = [](uint64_t v) { return static_cast<int64_t>((v >> 1) ^ -(v & 1)); };
  uint64_t block = varint(), miniblocks = varint(), total = varint();
  std::vector<T> out = {static_cast<T>(unzigzag(varint()))};
  size_t per_mini = block / miniblocks;
  while (out.size() < total) {
    U min_delta = static_cast<U>(unzigzag(varint()));
    std::vector<uint8_t> widths(in.begin() + pos, in.begin() + pos + miniblocks);
    pos += miniblocks;
    for (uint64_t m = 0; m < miniblocks && out.size() < total; ++m) {
      uint64_t bit = 0;
      for (size_t i = 0; i < per_mini; ++i) {
        uint64_t v = 0;
        for (int b = 0; b < widths[m]; ++b, ++bit) {
          v |= static_cast<uint64_t>((static_cast<uint8_t>(in[pos + bit / 8]) >> (bit % 8)) & 1)
               << b;
        }
        if (out.size() < total)
          out.push_back(static_cast<T>(static_cast<U>(out.back()) + min_delta + static_cast<U>(v)));
      }
      pos += per_mini * widths[m] / 8;
    }
  }
  return out;
}

TEST(Encoding, DeltaBinaryPackedRoundTripsExtremes) {
  std::mt19937_64 rng(9);
  std::vector<int64_t> v64 = {INT64_MIN, INT64_MAX, 0, -1, INT64_MIN, 5};
  for (int i = 0; i < 1000; ++i)
    v64.push_back(rng() % 3 ? static_cast<int64_t>(rng()) : static_cast<int64_t>(i));
  std::string out;
  EncodeDeltaBinaryPacked(v64.data(), v64.size(), &out);
  EXPECT_EQ(DecodeDelta<int64_t>(out), v64);
  std::vector<int32_t> v32 = {INT32_MIN, INT32_MAX, 0, INT32_MAX, INT32_MIN};
  for (int i = 0; i < 300; ++i) v32.push_back(static_cast<int32_t>(rng()));
  out.clear();
  EncodeDeltaBinaryPacked(v32.data(), v32.size(), &out);
  EXPECT_EQ(DecodeDelta<int32_t>(out), v32);
  std::vector<int32_t> one = {42};
  out.clear();
  EncodeDeltaBinaryPacked(one.data(), one.size(), &out);
  EXPECT_EQ(DecodeDelta<int32_t>(out), one);
}

TEST(Encoding, DeltaByteArraySharesPrefixes) {
  std::string data = "axisaxleaxe";
  std::vector<uint32_t> offsets = {0, 4, 8, 11};
  std::string out;
  EncodeDeltaByteArray({data.data(), offsets.data(), 3}, &out);
  // Prefix lengths 0, 2, 2, then suffix lengths 4, 2, 1 and the suffixes "axis", "le", "e".
  std::string prefixes, suffix_lengths;
  std::vector<int32_t> p = {0, 2, 2}, s = {4, 2, 1};
  EncodeDeltaBinaryPacked(p.data(), 3, &prefixes);
  EncodeDeltaBinaryPacked(s.data(), 3, &suffix_lengths);
  EXPECT_EQ(out, prefixes + suffix_lengths + "axislee");
}

}  // namespace
}  // namespace tablelake::parquet
