#include "store/row_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "store/change_codec.h"
#include "store/key_codec.h"

namespace tablelake::store {
namespace {

TEST(RowCodec, RoundTripsEveryType) {
  std::vector<Cell> cells = {
      {"a", Value::Integer(INT64_MIN), 5},
      {"a", Value::Integer(INT64_MAX), 3},
      {"b", Value::Double(-0.0), 1},
      {"c", Value::Double(std::numeric_limits<double>::quiet_NaN()), 1},
      {"d", Value::Boolean(true), 0},
      {"e", Value::String("héllo\0x"), 7},
      {"f", Value::Binary(std::string("\0\xff\x01", 3)), 9},
      {"g", Value::String(""), 1795478400000},
  };
  SortCells(&cells);
  std::string encoded;
  EncodeCells(cells, &encoded);
  std::vector<Cell> decoded;
  ASSERT_TRUE(DecodeCells(encoded, &decoded).ok());
  EXPECT_EQ(decoded, cells);
}

TEST(RowCodec, RejectsTruncatedValues) {
  std::vector<Cell> cells = {{"a", Value::String("hello"), 5}};
  std::string encoded;
  EncodeCells(cells, &encoded);
  std::vector<Cell> decoded;
  for (size_t n = 0; n < encoded.size(); ++n) {
    EXPECT_FALSE(DecodeCells(std::string_view(encoded).substr(0, n), &decoded).ok()) << n;
  }
  EXPECT_FALSE(DecodeCells(encoded + "x", &decoded).ok());
}

TEST(ChangeCodec, RoundTripsAnUpdate) {
  std::vector<PrimaryKeySchema> schema = {{"id", PrimaryKeyType::kInteger}};
  std::string pk;
  AppendPrimaryKey({{"id", Value::Integer(42)}}, &pk);
  std::vector<ColumnUpdate> columns = {
      {ColumnUpdate::Op::kPut, "x", Value::Integer(1), 100},
      {ColumnUpdate::Op::kDeleteOneVersion, "y", Value(), 50},
      {ColumnUpdate::Op::kDeleteAllVersions, "z", Value(), kNoTimestamp}};
  std::vector<Cell> image = {{"w", Value::String("kept"), 10}, {"x", Value::Integer(1), 100}};
  std::string v = EncodeChange(123456, ChangeOp::kUpdate, pk, columns, image);
  ChangeRecord r;
  ASSERT_TRUE(DecodeChange(schema, v, &r).ok());
  EXPECT_EQ(r.commit_time_us, 123456);
  EXPECT_EQ(r.op, ChangeOp::kUpdate);
  ASSERT_EQ(r.columns.size(), 3u);
  EXPECT_EQ(r.columns[0].value, Value::Integer(1));
  EXPECT_EQ(r.columns[1].timestamp, 50);
  EXPECT_EQ(r.columns[2].timestamp, kNoTimestamp);
  EXPECT_EQ(r.row_image, image);
  EXPECT_EQ(r.primary_key[0].value, Value::Integer(42));
}

}  // namespace
}  // namespace tablelake::store
