#include "store/row_json.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tablelake::store {
namespace {

using nlohmann::json;

const TableMeta kMeta{"t",
                      {{"id", PrimaryKeyType::kInteger},
                       {"name", PrimaryKeyType::kString},
                       {"seq", PrimaryKeyType::kInteger, true}},
                      {}};

TEST(RowJson, TypedValues) {
  auto v = [](const char* text) { return ValueFromJson(json::parse(text), "c"); };
  EXPECT_EQ(*v("5"), Value::Integer(5));
  EXPECT_EQ(*v("-5"), Value::Integer(-5));
  EXPECT_EQ(*v("5.0"), Value::Double(5));
  EXPECT_EQ(*v("1e3"), Value::Double(1000));
  EXPECT_EQ(*v("true"), Value::Boolean(true));
  EXPECT_EQ(*v("\"x\""), Value::String("x"));
  EXPECT_EQ(*v(R"({"$int":"9223372036854775807"})"), Value::Integer(INT64_MAX));
  EXPECT_EQ(*v(R"({"$int":"-9223372036854775808"})"), Value::Integer(INT64_MIN));
  EXPECT_EQ(*v(R"({"$double":1})"), Value::Double(1));
  EXPECT_TRUE(std::isnan(v(R"({"$double":"NaN"})")->dbl()));
  EXPECT_EQ(*v(R"({"$binary":"AP8="})"), Value::Binary(std::string("\0\xff", 2)));
  EXPECT_FALSE(v("null").ok());
  EXPECT_FALSE(v("[1]").ok());
  EXPECT_FALSE(v("18446744073709551615").ok());
  EXPECT_FALSE(v(R"({"$int":"9223372036854775808"})").ok());
  EXPECT_FALSE(v(R"({"$int":"12x"})").ok());
  EXPECT_FALSE(v(R"({"$binary":"***"})").ok());
  EXPECT_FALSE(v(R"({"$what":1})").ok());
}

TEST(RowJson, ValuesRoundTripExactly) {
  const Value values[] = {Value::Integer(INT64_MAX),
                          Value::Integer(INT64_MIN),
                          Value::Integer((int64_t{1} << 53) + 1),
                          Value::Integer(42),
                          Value::Double(0.1),
                          Value::Double(1.0),
                          Value::Double(-0.0),
                          Value::Double(1e-310),
                          Value::Double(INFINITY),
                          Value::Double(-INFINITY),
                          Value::Boolean(false),
                          Value::String("ünï\"\n"),
                          Value::Binary(std::string("\0\1\2\xff", 4))};
  for (const Value& v : values) {
    std::string text = ValueToJson(v).dump();
    auto back = ValueFromJson(json::parse(text), "c");
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(*back, v) << text;
  }
  EXPECT_EQ(ValueToJson(Value::Integer(INT64_MAX)).dump(), R"({"$int":"9223372036854775807"})");
  EXPECT_EQ(ValueToJson(Value::Double(1.0)).dump(), "1.0");
}

TEST(RowJson, SplitsKeyAndAttributes) {
  auto row = RowFromJson(
      kMeta,
      json::parse(
          R"({"name":"n","id":1,"seq":7,"a":1,"b":[{"$value":2,"$ts":100},{"$value":3,"$ts":200}]})"),
      MissingKey::kError);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_EQ(row->primary_key.size(), 3u);
  EXPECT_EQ(row->primary_key[0].name, "id");  // schema order, not object order
  EXPECT_EQ(row->cells.size(), 3u);
  EXPECT_EQ(row->cells[1].timestamp, 100);
}

TEST(RowJson, MissingKeys) {
  auto j = json::parse(R"({"id":1,"name":"n"})");
  EXPECT_FALSE(RowFromJson(kMeta, j, MissingKey::kError).ok());
  auto row = RowFromJson(kMeta, j, MissingKey::kAutoIncrement);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->primary_key[2].value.type(), ValueType::kAutoIncrement);
  auto bound = RowFromJson(kMeta, json::parse(R"({"id":1})"), MissingKey::kInfMax, true);
  EXPECT_EQ(bound->primary_key[1].value.type(), ValueType::kInfMax);
  EXPECT_FALSE(RowFromJson(kMeta, json::parse(R"({"name":"x"})"), MissingKey::kInfMin, true).ok());
  auto err =
      RowFromJson(kMeta, json::parse(R"({"id":"1","name":"n","seq":1})"), MissingKey::kError);
  EXPECT_NE(err.status().message().find("'id'"), std::string::npos);
  EXPECT_FALSE(RowFromJson(kMeta, json::parse(R"({"id":1,"name":"n","seq":1,"x":1})"),
                           MissingKey::kError, true)
                   .ok());
  EXPECT_FALSE(RowFromJson(kMeta, json::parse("[1]"), MissingKey::kError).ok());
}

TEST(RowJson, OutputKeepsKeyColumnsFirst) {
  Row row{
      {{"z", Value::Integer(1)}, {"a", Value::String("k")}},
      {{"b", Value::Integer(2), 10}, {"b", Value::Integer(1), 5}, {"c", Value::Boolean(true), 1}}};
  EXPECT_EQ(RowToJson(row).dump(), R"({"z":1,"a":"k","b":2,"c":true})");
  EXPECT_EQ(
      RowToJson(row, true).dump(),
      R"({"z":1,"a":"k","b":[{"$value":2,"$ts":10},{"$value":1,"$ts":5}],"c":[{"$value":true,"$ts":1}]})");
}

// The fast JSON-lines path gives what ParseJson and RowFromJson give, line for line: the same
// row (key, cells in the same order, value types, -0 and -0.0 told apart), or the same error;
// also where a line names the fields of the line before (whose layout it reuses) in the same
// order, in another order, or with a key given twice.
TEST(RowJson, JsonLinesParseAsTheGeneralPathDoes) {
  const std::vector<std::string> lines = {
      R"({"id":1,"name":"a","x":5,"b":2.5,"t":true,"s":"text"})",
      R"({"id":2,"name":"b","x":6,"b":3.5,"t":false,"s":"more"})",
      R"({"id":3,"name":"c","x":"now text","b":3.5,"t":false,"s":"m"})",
      R"({"id":"4","name":"c","x":1,"b":3.5,"t":false,"s":"m"})",
      R"({"id":5,"name":"d","x":1,"b":3.5,"t":false,"x":2})",
      R"({"id":5,"name":"d","x":1,"b":3.5,"t":false,"x":2})",
      R"({"name":"e","id":6,"x":1,"b":3.5,"t":false,"s":"r"})",
      R"({"name":"e","id":7,"x":1,"b":3.5,"t":false,"s":"r"})",
      R"({"z":1,"name":"a","id":-7,"a":"first in key order"})",
      R"({"id":0,"name":"","x":-0,"y":-0.0,"w":1e3,"v":0.1})",
      R"({"id":9223372036854775807,"name":"max","x":-9223372036854775808})",
      R"({"id":1,"name":"a","big":9223372036854775808})",
      R"({"id":1,"name":"a","huge":123456789012345678901234567890})",
      R"({"id":1,"name":"a","x":{"$int":"12"},"y":{"$binary":"AP8="}})",
      R"({"id":1,"name":"a","v":[{"$value":1,"$ts":5},{"$value":2,"$ts":6}]})",
      R"({"id":1,"name":"a","x":null})",
      R"({"id":1,"name":"a","x":1,"x":2})",
      R"({"name":"a","x":1})",
      R"({"id":"1","name":"a"})",
      R"({"id":1,"name":7})",
      R"({"id":1,"name":"a","u":"\u00e9\ud83d\ude00 \"q\" \\ \n"})",
      R"({"id":1,"name":"a"} trailing)",
      R"({"id":1,"name":"a",})",
      R"([1,2])",
      "{\"id\":1,\"name\":\"\xff\"}",
      R"({"id":1,"name":"a","x":1.7976931348623157e309})",
  };
  JsonLineParser fast(kMeta, MissingKey::kAutoIncrement);
  for (const std::string& line : lines) {
    auto general = [&]() -> Result<JsonRow> {
      TL_ASSIGN_OR_RETURN(json j, ParseJson(line));
      return RowFromJson(kMeta, j, MissingKey::kAutoIncrement);
    }();
    auto got = fast.Parse(line);
    ASSERT_EQ(got.ok(), general.ok()) << line;
    if (!general.ok()) {
      EXPECT_EQ(got.status().ToString(), general.status().ToString()) << line;
      continue;
    }
    EXPECT_EQ(got->primary_key, general->primary_key) << line;
    ASSERT_EQ(got->cells.size(), general->cells.size()) << line;
    for (size_t i = 0; i < got->cells.size(); ++i) {
      const Cell& a = got->cells[i];
      const Cell& b = general->cells[i];
      EXPECT_EQ(a.name, b.name) << line;
      EXPECT_EQ(a.timestamp, b.timestamp) << line;
      EXPECT_EQ(a.value.type(), b.value.type()) << line << " " << a.name;
      EXPECT_EQ(a.value.DebugString(), b.value.DebugString()) << line << " " << a.name;
      if (a.value.type() == ValueType::kDouble) {
        EXPECT_EQ(std::signbit(a.value.dbl()), std::signbit(b.value.dbl())) << line;
      }
    }
  }
}

// A plain collection reads as a plain parse reads it; anything a plain parse would read
// differently is left to it.
TEST(PlainJsonCollection, ReadsPlainCollectionsAndLeavesTheRest) {
  PlainJsonCollection reader;
  std::vector<PlainJsonCollection::Entry> got;
  ASSERT_TRUE(reader.ReadArray(" [1, -2.5, \"a\\u00e9\", true, null, 9223372036854775807] ", &got));
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0].value->ToValue(), Value::Integer(1));
  EXPECT_EQ(got[1].value->ToValue(), Value::Double(-2.5));
  EXPECT_EQ(got[2].value->ToValue(), Value::String("a\xc3\xa9"));
  EXPECT_EQ(got[3].value->ToValue(), Value::Boolean(true));
  EXPECT_FALSE(got[4].value.has_value());
  EXPECT_EQ(got[5].value->ToValue(), Value::Integer(INT64_MAX));
  ASSERT_TRUE(reader.ReadArray("[]", &got));
  EXPECT_TRUE(got.empty());
  ASSERT_TRUE(reader.ReadObject(R"({"":1,"A":2,"a":null})", &got));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].key, "A");
  EXPECT_EQ(got[1].value->ToValue(), Value::Integer(2));
  // "-0" is INTEGER 0 to a plain parse, "-0.0" DOUBLE -0 (its sign only the text tells).
  if (reader.ReadArray("[-0]", &got)) {
    EXPECT_EQ(got[0].value->ToValue(), Value::Integer(0));
  }
  for (const char* text : {"[9223372036854775808]", "[-0.0]", "[[1]]", "[{\"a\":1}]", "[1e400]",
                           "[1,", "", "{}", "[1] x"}) {
    EXPECT_FALSE(reader.ReadArray(text, &got)) << text;
  }
  // nlohmann sorts an object's keys and keeps the last of a repeated one: not plain here.
  for (const char* text : {R"({"b":1,"a":2})", R"({"a":1,"a":2})", R"({"a":{"$int":"5"}})", "[]"}) {
    EXPECT_FALSE(reader.ReadObject(text, &got)) << text;
  }
}

}  // namespace
}  // namespace tablelake::store
