// The encoded-key order must equal Tablestore's row order; checked against a reference
// comparator over random keys, including INF bounds, byte strings with 0x00 and 0xFF, and
// text of one- to four-byte characters.
#include "store/key_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <random>

namespace tablelake::store {
namespace {

const std::vector<PrimaryKeySchema> kSchema = {{"a", PrimaryKeyType::kInteger},
                                               {"b", PrimaryKeyType::kString},
                                               {"c", PrimaryKeyType::kBinary}};

int ReferenceCompare(const PrimaryKey& x, const PrimaryKey& y) {
  for (size_t i = 0; i < x.size(); ++i) {
    int c = ComparePrimaryKeyValues(x[i].value, y[i].value);
    if (c != 0) return c;
    if (x[i].value.type() == ValueType::kInfMin || x[i].value.type() == ValueType::kInfMax)
      return 0;
  }
  return 0;
}

std::string RandomBytes(std::mt19937_64& rng) {
  static const char kAlphabet[] = {
      0, 1, 'a', 'b', static_cast<char>(0xfe), static_cast<char>(0xff)};
  std::string s(rng() % 5, ' ');
  for (char& c : s) c = kAlphabet[rng() % sizeof(kAlphabet)];
  return s;
}

// STRING keys are UTF-8 (the store refuses others): characters of one to four bytes, and zero.
std::string RandomText(std::mt19937_64& rng) {
  static const char* const kCharacters[] = {
      "\0", "\x01", "a", "b", "\xc3\xa9", "\xef\xbf\xbf", "\xf0\x9f\x98\x80"};
  std::string s;
  for (size_t n = rng() % 5; n > 0; --n) {
    const char* c = kCharacters[rng() % std::size(kCharacters)];
    s.append(c, std::max<size_t>(1, std::strlen(c)));  // "\0" is one byte
  }
  return s;
}

Value RandomValue(std::mt19937_64& rng, PrimaryKeyType type, bool allow_inf) {
  if (allow_inf && rng() % 8 == 0) return rng() % 2 ? Value::InfMin() : Value::InfMax();
  if (type == PrimaryKeyType::kInteger) {
    static const int64_t kEdges[] = {INT64_MIN, INT64_MIN + 1, -256, -1, 0, 1, 255, 256, INT64_MAX};
    return Value::Integer(rng() % 2 ? kEdges[rng() % 9] : static_cast<int64_t>(rng()));
  }
  return type == PrimaryKeyType::kString ? Value::String(RandomText(rng))
                                         : Value::Binary(RandomBytes(rng));
}

PrimaryKey RandomKey(std::mt19937_64& rng, bool allow_inf) {
  PrimaryKey pk;
  for (const auto& sc : kSchema) pk.push_back({sc.name, RandomValue(rng, sc.type, allow_inf)});
  return pk;
}

std::string Encode(const PrimaryKey& pk) {
  std::string s;
  AppendPrimaryKey(pk, &s);
  return s;
}

TEST(KeyCodec, OrderMatchesReferenceComparator) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200000; ++i) {
    PrimaryKey x = RandomKey(rng, true), y = RandomKey(rng, true);
    int expected = ReferenceCompare(x, y);
    int c = Encode(x).compare(Encode(y));
    int actual = c < 0 ? -1 : c > 0 ? 1 : 0;
    ASSERT_EQ(actual, expected) << "keys " << i;
  }
}

TEST(KeyCodec, RoundTripsRowKeys) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    PrimaryKey pk = RandomKey(rng, false);
    ASSERT_TRUE(ValidatePrimaryKey("t", kSchema, pk, KeyUse::kRow).ok());
    PrimaryKey decoded;
    ASSERT_TRUE(DecodePrimaryKey(kSchema, Encode(pk), &decoded).ok());
    ASSERT_EQ(decoded, pk);
  }
}

TEST(KeyCodec, SortedEncodingsSortRows) {
  std::mt19937_64 rng(3);
  std::vector<PrimaryKey> keys;
  for (int i = 0; i < 5000; ++i) keys.push_back(RandomKey(rng, false));
  auto by_reference = keys;
  std::sort(by_reference.begin(), by_reference.end(),
            [](const auto& a, const auto& b) { return ReferenceCompare(a, b) < 0; });
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return Encode(a) < Encode(b); });
  for (size_t i = 0; i < keys.size(); ++i) ASSERT_EQ(ReferenceCompare(keys[i], by_reference[i]), 0);
}

TEST(KeyCodec, ValidationNamesTheProblem) {
  PrimaryKey wrong_type = {
      {"a", Value::String("x")}, {"b", Value::String("")}, {"c", Value::Binary("")}};
  Status s = ValidatePrimaryKey("orders", kSchema, wrong_type, KeyUse::kRow);
  EXPECT_EQ(s.code(), StatusCode::kInvalidPrimaryKey);
  EXPECT_NE(s.message().find("'a' is INTEGER"), std::string::npos) << s.message();

  PrimaryKey short_key = {{"a", Value::Integer(1)}};
  EXPECT_FALSE(ValidatePrimaryKey("orders", kSchema, short_key, KeyUse::kRow).ok());

  PrimaryKey inf = {{"a", Value::InfMin()}, {"b", Value::InfMin()}, {"c", Value::InfMin()}};
  EXPECT_FALSE(ValidatePrimaryKey("orders", kSchema, inf, KeyUse::kRow).ok());
  EXPECT_TRUE(ValidatePrimaryKey("orders", kSchema, inf, KeyUse::kBound).ok());

  PrimaryKey too_long = {{"a", Value::Integer(1)},
                         {"b", Value::String(std::string(1025, 'x'))},
                         {"c", Value::Binary("")}};
  EXPECT_EQ(ValidatePrimaryKey("orders", kSchema, too_long, KeyUse::kRow).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tablelake::store
