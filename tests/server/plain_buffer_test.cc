// PlainBuffer against bytes the official Node.js SDK sent (../shared/spec/wire-protocol.md,
// section 3), round trips, and damaged buffers.
#include "server/plain_buffer.h"

#include <gtest/gtest.h>

#include <random>

namespace tablelake::server {
namespace {

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// The row of the Node SDK's PutRow body in the spec: pk1="a", pk2=1; c1="hello", c2=42,
// c3=1.5, c4=true.
const std::string kNodePutRow = Hex(
    "7500000001030403000000706b3105060000000301000000610a19030403000000706b3205090000000001000000"
    "000000000ae8020304020000006331050a000000030500000068656c6c6f0ae20304020000006332050900000000"
    "2a000000000000000aac0304020000006333050900000001000000000000f83f0a6c030402000000633405020000"
    "0002010a080977");

TEST(PlainBuffer, DecodesWhatTheNodeSdkSends) {
  auto row = DecodeRow(kNodePutRow);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  PrimaryKey key = {{"pk1", Value::String("a")}, {"pk2", Value::Integer(1)}};
  EXPECT_EQ(row->primary_key, key);
  ASSERT_EQ(row->cells.size(), 4u);
  EXPECT_EQ(row->cells[0].name, "c1");
  EXPECT_EQ(*row->cells[0].value, Value::String("hello"));
  EXPECT_EQ(*row->cells[1].value, Value::Integer(42));
  EXPECT_EQ(*row->cells[2].value, Value::Double(1.5));
  EXPECT_EQ(*row->cells[3].value, Value::Boolean(true));
  for (const auto& c : row->cells) {
    EXPECT_EQ(c.op, CellOp::kNone);
    EXPECT_EQ(c.timestamp, kNoTimestamp);
  }
  EXPECT_FALSE(row->delete_marker);
  // Encoding the same row gives the SDK's bytes back, checksums included.
  std::vector<Cell> cells;
  for (const auto& c : row->cells) cells.push_back({c.name, *c.value, kNoTimestamp});
  EXPECT_EQ(EncodeRow(key, cells), kNodePutRow);
}

TEST(PlainBuffer, TheNodeSdksPaddedInfinityKeys) {
  // What the Node.js SDK 5.6.5 sends for [{id: INF_MIN}, {name: INF_MIN}]: two zero bytes after
  // the row (it sizes each infinite cell a byte too large).
  auto row = DecodeRow(Hex(
      "750000000103040200000069640501000000090a610304040000006e616d650501000000090a6209710000"));
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_EQ(row->primary_key.size(), 2u);
  EXPECT_EQ(row->primary_key[1].value, Value::InfMin());
  EXPECT_FALSE(DecodeRow(kNodePutRow + std::string("\0\x01", 2)).ok());  // padding is zeros only
}

TEST(PlainBuffer, TheNodeSdksNonAsciiNamesAreNamedAsSuch) {
  // The Node.js SDK writes the name's length in characters: "列" (3 bytes) goes as length 1.
  std::string row = Hex("75000000"
                        "01"
                        "03"
                        "04"
                        "01000000") +
                    "\xe5\x88\x97" +
                    Hex("0509000000"
                        "00"
                        "0100000000000000"
                        "0a00"
                        "0900");
  auto r = DecodeRow(row);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("byte 11: a column name of 1 bytes (e5) is not valid UTF-8"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("Node.js SDK"), std::string::npos);
}

TEST(PlainBuffer, ChecksumVectorsFromTheSpec) {
  // PK cells pk1="a" and pk2=1 carry checksums 0x19 and 0xE8 (bytes 26 and 51).
  std::string key = EncodePrimaryKey({{"pk1", Value::String("a")}, {"pk2", Value::Integer(1)}});
  EXPECT_EQ(static_cast<uint8_t>(key[26]), 0x19);
  EXPECT_EQ(static_cast<uint8_t>(key[51]), 0xE8);
  // The Node SDK's cell for "delete version 1000 of c1": op before timestamp on the wire, the
  // checksum over the timestamp first.
  WireRow del{{{"k", Value::Integer(7)}}, {{"c1", std::nullopt, CellOp::kDeleteOneVersion, 1000}}};
  std::string out;
  AppendHeader(&out);
  AppendWireRow(&out, del);
  EXPECT_NE(out.find(Hex("03040200000063310603"
                         "07e8030000000000000a1a")),
            std::string::npos);
  auto back = DecodeRow(out);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->cells[0].op, CellOp::kDeleteOneVersion);
  EXPECT_EQ(back->cells[0].timestamp, 1000);
  EXPECT_FALSE(back->cells[0].value.has_value());
}

TEST(PlainBuffer, RoundTripsEveryTypeAndShape) {
  PrimaryKey key = {{"a", Value::Integer(INT64_MIN)},
                    {"b", Value::String(std::string("\0\xff\xe5\x88\x97", 5))},
                    {"c", Value::Binary(std::string(3000, '\x01'))},
                    {"d", Value::InfMax()}};
  std::vector<Cell> cells = {{"x", Value::Double(-0.0), 1},
                             {"y", Value::Boolean(false), INT64_MAX},
                             {"z", Value::String(""), 1700000000000}};
  std::string buf;
  AppendHeader(&buf);
  AppendRow(&buf, key, cells);
  SequenceInfo seq{3, 1700000000000123, 9};
  AppendRow(&buf, {{"a", Value::AutoIncrement()}}, {}, &seq);
  WireRow deleted{{{"a", Value::InfMin()}}, {}, true};
  AppendWireRow(&buf, deleted);
  auto rows = DecodeRows(buf);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].primary_key, key);
  ASSERT_EQ((*rows)[0].cells.size(), 3u);
  for (size_t i = 0; i < cells.size(); ++i) {
    EXPECT_EQ(*(*rows)[0].cells[i].value, cells[i].value);
    EXPECT_EQ((*rows)[0].cells[i].timestamp, cells[i].timestamp);
  }
  EXPECT_EQ((*rows)[1].primary_key[0].value, Value::AutoIncrement());
  EXPECT_TRUE((*rows)[2].delete_marker);
  EXPECT_FALSE(DecodeRow(buf).ok());  // three rows are not one
  for (const Value& v : {Value::Integer(-5), Value::Double(2.5), Value::Boolean(true),
                         Value::String("s"), Value::Binary("b"), Value::InfMin()}) {
    auto back = DecodeVariant(EncodeVariant(v));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, v);
  }
}

TEST(PlainBuffer, DamageIsNamedWithItsPosition) {
  auto message = [](const std::string& buf) {
    auto r = DecodeRow(buf);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    return r.status().message();
  };
  std::string bad = kNodePutRow;
  bad[26] ^= 1;  // pk1's cell checksum
  EXPECT_NE(message(bad).find("column 'pk1': cell checksum"), std::string::npos) << message(bad);
  bad = kNodePutRow;
  bad.back() ^= 1;
  EXPECT_NE(message(bad).find("row checksum"), std::string::npos);
  bad = kNodePutRow;
  bad[0] = 0x76;
  EXPECT_NE(message(bad).find("header"), std::string::npos);
  bad = kNodePutRow;
  bad[19] = 0x0C;  // pk1's value type: unknown
  EXPECT_NE(message(bad).find("byte 19: unknown value type 0x0C"), std::string::npos)
      << message(bad);
  bad = kNodePutRow;
  bad[9] = '\x7f';  // pk1's name length: far past the end
  EXPECT_NE(message(bad).find("runs past the end"), std::string::npos) << message(bad);
  EXPECT_NE(message(kNodePutRow + "x").find("more bytes after the row"), std::string::npos);
  EXPECT_NE(message("").find("cut short"), std::string::npos);
  // Every truncation is an error, never a crash or a read past the end (ASan/valgrind see it).
  for (size_t n = 0; n < kNodePutRow.size(); ++n) {
    EXPECT_FALSE(DecodeRow(kNodePutRow.substr(0, n)).ok()) << n;
  }
}

TEST(PlainBuffer, RandomBytesNeverCrash) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string buf = kNodePutRow;
    for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
      buf[rng() % buf.size()] = static_cast<char>(rng());
    }
    (void)DecodeRows(buf.substr(0, rng() % (buf.size() + 1)));
  }
}

}  // namespace
}  // namespace tablelake::server
