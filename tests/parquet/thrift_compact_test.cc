// The compact protocol encoder against byte sequences derived by hand from the Thrift spec.
#include "parquet/thrift_compact.h"

#include <gtest/gtest.h>

namespace tablelake::parquet::thrift {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

TEST(ThriftCompact, ShortFieldHeadersCarryTheIdDelta) {
  std::string out;
  CompactWriter w(&out);
  w.I32(1, 2);        // delta 1, type i32 (5); zigzag(2) = 4
  w.I64(3, -1);       // delta 2, type i64 (6); zigzag(-1) = 1
  w.Binary(4, "ab");  // delta 1, type binary (8); length 2
  w.Bool(5, true);    // delta 1, type BOOLEAN_TRUE (1)
  w.Bool(6, false);   // delta 1, type BOOLEAN_FALSE (2)
  w.Stop();
  EXPECT_EQ(out, Bytes({0x15, 0x04, 0x26, 0x01, 0x18, 0x02, 'a', 'b', 0x11, 0x12, 0x00}));
}

TEST(ThriftCompact, LongFieldHeadersAndVarints) {
  std::string out;
  CompactWriter w(&out);
  w.I32(20, 300);  // delta 20 > 15: type byte, then zigzag(20) = 40; zigzag(300) = 600 = 0xd8 0x04
  w.I64(1, INT64_MIN);  // delta negative: long form again
  w.Stop();
  EXPECT_EQ(out, Bytes({0x05, 0x28, 0xd8, 0x04, 0x06, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                        0xff, 0xff, 0xff, 0x01, 0x00}));
}

TEST(ThriftCompact, NestedStructsRestartFieldIds) {
  std::string out;
  CompactWriter w(&out);
  w.I32(1, 1);
  w.BeginStruct(3);  // delta 2, type struct (12)
  w.I32(1, 1);       // ids restart inside the struct
  w.EndStruct();
  w.I32(4, 1);  // delta from 3, the struct's id
  w.Stop();
  EXPECT_EQ(out, Bytes({0x15, 0x02, 0x2c, 0x15, 0x02, 0x00, 0x15, 0x02, 0x00}));
}

TEST(ThriftCompact, Lists) {
  std::string out;
  CompactWriter w(&out);
  w.BeginList(1, Type::kI32, 3);  // size 3 << 4 | element type i32
  w.ListI32(1);
  w.ListI32(-1);
  w.ListI32(64);
  w.BeginList(2, Type::kStruct, 16);  // 15 or more: 0xf0 | type, then the size as a varint
  for (int i = 0; i < 16; ++i) {
    w.BeginListStruct();
    w.EndListStruct();
  }
  w.Stop();
  std::string expected = Bytes({0x19, 0x35, 0x02, 0x01, 0x80, 0x01, 0x19, 0xfc, 0x10});
  expected.append(16, '\0');
  expected.push_back(0);
  EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace tablelake::parquet::thrift
