#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "../store/store_fixture.h"
#include "delivery/chunk_arena.h"
#include "delivery/converted_rows.h"
#include "delivery/event_time.h"
#include "delivery/path_template.h"
#include "delivery/row_converter.h"
#include "delivery/stream_pages.h"
#include "delivery/task_config.h"
#include "delivery/task_state.h"
#include "delivery/time_zone.h"
#include "fmt/format.h"

namespace tablelake::delivery {
namespace {

constexpr int64_t kMs20261124 = 1795478400000;  // 2026-11-24T00:00:00Z

TEST(TimeZone, CivilTimesAndOffsets) {
  auto utc = TimeZone::Utc();
  CivilTime c = ToCivil(kMs20261124 - 1, utc);
  EXPECT_EQ(std::make_tuple(c.year, c.month, c.day, c.hour, c.minute, c.second),
            std::make_tuple(int64_t{2026}, 11, 23, 23, 59, 59));
  c = ToCivil(-1, utc);  // before 1970
  EXPECT_EQ(std::make_tuple(c.year, c.month, c.day, c.hour),
            std::make_tuple(int64_t{1969}, 12, 31, 23));
  auto shanghai = TimeZone::Parse("Asia/Shanghai");
  ASSERT_TRUE(shanghai.ok()) << shanghai.status().ToString();
  EXPECT_EQ(shanghai->OffsetAt(kMs20261124 / 1000), 8 * 3600);
  auto ny = TimeZone::Parse("America/New_York");
  ASSERT_TRUE(ny.ok());
  EXPECT_EQ(ny->OffsetAt(1782864000), -4 * 3600);  // 2026-07-01: daylight saving
  EXPECT_EQ(ny->OffsetAt(kMs20261124 / 1000), -5 * 3600);
  EXPECT_EQ(TimeZone::Parse("+05:30")->OffsetAt(0), 5 * 3600 + 30 * 60);
  EXPECT_EQ(TimeZone::Parse("-0800")->OffsetAt(0), -8 * 3600);
  EXPECT_FALSE(TimeZone::Parse("Mars/Olympus").ok());
  EXPECT_FALSE(TimeZone::Parse("../etc/passwd").ok());
  EXPECT_FALSE(TimeZone::Parse("+25:00").ok());
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
}

TEST(PathTemplate, ExpandsTheFiveVariables) {
  auto t = PathTemplate::Parse("sample/year=$yyyy/month=$MM/day=$dd/h=$HH/m=$mm");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->has_variables());
  EXPECT_EQ(t->Expand(kMs20261124 + 3723000, TimeZone::Utc()),
            "sample/year=2026/month=11/day=24/h=01/m=02");
  EXPECT_EQ(t->StaticPrefix(), "sample/");
  EXPECT_EQ(t->Expand(kMs20261124, *TimeZone::Parse("-01:00")),
            "sample/year=2026/month=11/day=23/h=23/m=00");
  auto flat = PathTemplate::Parse("fixed/dir");
  EXPECT_FALSE(flat->has_variables());
  EXPECT_EQ(flat->Expand(0, TimeZone::Utc()), "fixed/dir");
  EXPECT_EQ(flat->StaticPrefix(), "fixed/dir");
  Status bad = PathTemplate::Parse("x/$yy/$MM").status();
  EXPECT_NE(bad.message().find("'$yy'"), std::string::npos) << bad.message();
  EXPECT_FALSE(PathTemplate::Parse("x/$HOUR").ok());
  EXPECT_FALSE(PathTemplate::Parse("/abs").ok());
  EXPECT_FALSE(PathTemplate::Parse("a/../b").ok());
  EXPECT_EQ(JoinKey("", "f"), "f");
  EXPECT_EQ(JoinKey("a/", "f"), "a/f");
  EXPECT_EQ(JoinKey("a", "f"), "a/f");
}

// Remembered partitions are what Expand gives, in every zone: half- and quarter-hour offsets,
// DST changes, and historic local mean time (offsets in seconds) included.
TEST(PathTemplate, PartitionNamesAgreeWithExpand) {
  std::mt19937_64 rng(5);
  for (const char* prefix : {"p/$yyyy/$MM/$dd/$HH", "p/$yyyy-$MM-$dd", "p/$HH/$mm", "p/$yyyy"}) {
    auto t = PathTemplate::Parse(prefix);
    ASSERT_TRUE(t.ok());
    for (const char* zone : {"UTC", "+05:30", "Asia/Kathmandu", "America/New_York",
                             "Europe/Amsterdam", "Australia/Lord_Howe"}) {
      auto z = TimeZone::Parse(zone);
      ASSERT_TRUE(z.ok()) << zone;
      PartitionNames names(*t, *z);
      // Around today, around 2026's DST changes, and before 1900 (LMT), in random order.
      for (int i = 0; i < 20000; ++i) {
        int64_t base = i % 4 == 0   ? kMs20261124
                       : i % 4 == 1 ? 1772953200000    // 2026-03-08T07:00Z, New York's change
                       : i % 4 == 2 ? 1793512800000    // 2026-11-01T06:00Z
                                    : -2524521600000;  // 1890-01-01
        int64_t ms = base + static_cast<int64_t>(rng() % (4 * 86400000ULL)) - 2 * 86400000;
        ASSERT_EQ(names.For(ms), t->Expand(ms, *z)) << prefix << " " << zone << " " << ms;
      }
    }
  }
}

// Partition numbers name partitions, not blocks of time: the four quarter hours of an hour
// share one, and times far from the first one met (outside the array of blocks) keep theirs.
TEST(PathTemplate, PartitionNumbersFollowNames) {
  auto t = PathTemplate::Parse("p/$yyyy/$MM/$dd/$HH");
  ASSERT_TRUE(t.ok());
  PartitionNames names(*t, TimeZone::Utc());
  const int64_t hour = 3600000;
  uint32_t first = names.Id(kMs20261124);
  EXPECT_EQ(first, 0u);
  for (int q = 1; q < 4; ++q) EXPECT_EQ(names.Id(kMs20261124 + q * 900000 + 1), first);
  EXPECT_EQ(names.Id(kMs20261124 + hour), 1u);
  EXPECT_EQ(names.Id(kMs20261124 - 1), 2u);
  // 1890 and 2400: blocks outside the array, found again by their names.
  const int64_t far_back = -2524521600000, far_ahead = 13569465600000;
  uint32_t back = names.Id(far_back), ahead = names.Id(far_ahead);
  EXPECT_EQ(names.Name(back), t->Expand(far_back, TimeZone::Utc()));
  EXPECT_EQ(names.Name(ahead), "p/2400/01/01/00");
  EXPECT_EQ(names.Id(far_back + 1), back);
  EXPECT_EQ(names.Id(kMs20261124 + hour + 5), 1u);
  EXPECT_EQ(names.Name(first), "p/2026/11/24/00");
  // A zone with a historic offset of seconds: the row-by-row names get numbers too.
  PartitionNames lmt(*t, *TimeZone::Parse("Europe/Amsterdam"));
  uint32_t a = lmt.Id(far_back), b = lmt.Id(far_back + 10);
  EXPECT_EQ(lmt.Name(a), t->Expand(far_back, *TimeZone::Parse("Europe/Amsterdam")));
  EXPECT_EQ(lmt.Name(a) == lmt.Name(b), a == b);
}

// Chunks are carved from 2 MiB slabs by size, reused once freed, kept apart (writing every byte
// of every chunk disturbs no other), and a reset hands the slabs to the pool for the next
// buffers; records past 256 KiB get memory of their own.
TEST(ChunkArena, CarvesReusesAndReturnsSlabs) {
  SlabPool pool;
  std::vector<std::pair<char*, size_t>> chunks;
  {
    ChunkArena arena(&pool);
    std::mt19937 rng(3);
    size_t total = 0;
    for (int i = 0; total < (5u << 20); ++i) {
      size_t bytes = ChunkArena::kSmallest << (rng() % 10);
      if (i % 50 == 0) bytes = ChunkArena::kLargest + 1 + rng() % 100000;
      char* c = arena.Allocate(bytes);
      std::memset(c, i & 0xff, bytes);
      chunks.push_back({c, bytes});
      total += bytes;
    }
    for (size_t i = 0; i < chunks.size(); ++i) {
      auto [c, bytes] = chunks[i];
      ASSERT_EQ(static_cast<uint8_t>(c[0]), i & 0xff);
      ASSERT_EQ(static_cast<uint8_t>(c[bytes - 1]), i & 0xff) << i;
    }
    arena.Free(chunks[3].first, chunks[3].second);
    EXPECT_EQ(arena.Allocate(chunks[3].second), chunks[3].first);  // the freed one again
    arena.Free(chunks[0].first, chunks[0].second);                 // a large one, to malloc
    arena.Reset();
    char* again = arena.Allocate(ChunkArena::kSmallest);  // a slab of the pool's, reused
    EXPECT_NE(again, nullptr);
  }
  pool.Trim();
}

int64_t Ms(EventTimeFormat f, const std::string& s) {
  auto r = ParseEventTime(Value::String(s), f);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().ToString();
  return r.ok() ? *r : -1;
}

// Each layout read field by field, exactly: what its Go layout accepts and nothing more.
TEST(EventTime, LayoutsAreReadExactly) {
  EXPECT_EQ(Ms(EventTimeFormat::kRfc3339, "2026-11-24t00:00:00z"), kMs20261124);
  EXPECT_EQ(Ms(EventTimeFormat::kRfc3339, "2026-11-23T23:00:00.999999999-01:00"),
            kMs20261124 + 999);
  EXPECT_EQ(Ms(EventTimeFormat::kRfc822, "24 Nov 26 08:00 +0800"), kMs20261124);
  EXPECT_EQ(Ms(EventTimeFormat::kRfc850, "Monday, 23-Nov-26 16:00:00 PST"), kMs20261124);
  EXPECT_EQ(Ms(EventTimeFormat::kUnix, "-86400"), -86400000);
  const std::vector<std::pair<EventTimeFormat, const char*>> bad = {
      {EventTimeFormat::kRfc3339, "2026-11-24T00:00:00.1234567890Z"},  // ten digits
      {EventTimeFormat::kRfc3339, "2026-11-24T00:00:00."},
      {EventTimeFormat::kRfc3339, "2026-11-24T00:00:00+0800"},
      {EventTimeFormat::kRfc3339, "2026-11-24T00:00:00Z "},
      {EventTimeFormat::kRfc3339, "2026-11-24 00:00:00Z"},
      {EventTimeFormat::kRfc3339, "２026-11-24T00:00:00Z"},  // a full-width digit
      {EventTimeFormat::kRfc1123, "Tue, 24 Nov 2026 00:00:00"},
      {EventTimeFormat::kRfc1123, "Tue, 24 Nov 2026 00:00:00 G\tMT"},
      {EventTimeFormat::kRfc1123, "TUE, 24 Nov 2026 00:00:00 GMT"},
      {EventTimeFormat::kRfc850, "Xday, 24-Nov-26 00:00:00 UTC"},
      {EventTimeFormat::kRfc850, "Tuesdays, 24-Nov-26 00:00:00 UTC"},
      {EventTimeFormat::kRfc822, "24 nov 26 00:00 UTC"},
      {EventTimeFormat::kRfc822, "24 Nov 26 00:00 +08:0"},
      {EventTimeFormat::kUnix, "1234567890123"},  // thirteen digits
      {EventTimeFormat::kUnix, "+1795478400"},
      {EventTimeFormat::kUnix, "-"},
  };
  for (const auto& [f, text] : bad) {
    EXPECT_FALSE(ParseEventTime(Value::String(text), f).ok()) << text;
  }
  auto zone = ParseEventTime(Value::String("24 Nov 26 00:00 XYZ"), EventTimeFormat::kRfc822);
  ASSERT_FALSE(zone.ok());
  EXPECT_EQ(zone.status().message(),
            "event time '24 Nov 26 00:00 XYZ' is not RFC822: unknown zone 'XYZ'");
}

TEST(EventTime, GoLayouts) {
  EXPECT_EQ(Ms(EventTimeFormat::kRfc3339, "2026-11-24T00:00:00Z"), kMs20261124);
  EXPECT_EQ(Ms(EventTimeFormat::kRfc3339, "2026-11-24T08:00:00.5+08:00"), kMs20261124 + 500);
  EXPECT_EQ(Ms(EventTimeFormat::kRfc1123, "Tue, 24 Nov 2026 00:00:00 GMT"), kMs20261124);
  EXPECT_EQ(Ms(EventTimeFormat::kRfc1123, "Mon, 23 Nov 2026 19:00:00 EST"), kMs20261124);
  EXPECT_EQ(Ms(EventTimeFormat::kRfc1123, "Tue, 24 Nov 2026 08:00:00 +0800"), kMs20261124);
  EXPECT_EQ(Ms(EventTimeFormat::kRfc822, "24 Nov 26 00:00 UTC"), kMs20261124);
  EXPECT_EQ(Ms(EventTimeFormat::kRfc850, "Tuesday, 24-Nov-26 00:00:00 UTC"), kMs20261124);
  EXPECT_EQ(Ms(EventTimeFormat::kRfc822, "01 Jan 69 00:00 UTC"), -31536000000);  // 1969
  EXPECT_EQ(*ParseEventTime(Value::Integer(1795478400), EventTimeFormat::kUnix), kMs20261124);
  EXPECT_EQ(Ms(EventTimeFormat::kUnix, "1795478400"), kMs20261124);
  for (const char* bad : {"2026-11-24", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "soon"}) {
    EXPECT_FALSE(ParseEventTime(Value::String(bad), EventTimeFormat::kRfc3339).ok()) << bad;
  }
  EXPECT_FALSE(ParseEventTime(Value::String("24 Nov 26 00:00 XYZ"), EventTimeFormat::kRfc822).ok());
  EXPECT_FALSE(ParseEventTime(Value::Double(1.5), EventTimeFormat::kUnix).ok());
  EXPECT_FALSE(ParseEventTime(Value::Integer(5), EventTimeFormat::kRfc3339).ok());
  // Event times name the years 0000 to 9999 in any task's time zone, as $yyyy does: instants
  // from 0000-01-02 to 9999-12-30 UTC. Milliseconds given as seconds (a year past 50000) are
  // dirty, never a partition of that year, and nothing overflows.
  const std::string kOutside = "outside the years $yyyy names (0000-01-02 to 9999-12-30 UTC)";
  EXPECT_EQ(*ParseEventTime(Value::Integer(253402214399), EventTimeFormat::kUnix), 253402214399000);
  EXPECT_EQ(*ParseEventTime(Value::Integer(-62167132800), EventTimeFormat::kUnix), -62167132800000);
  for (int64_t bad : {int64_t{253402214400}, int64_t{1795478400000}, int64_t{-62167132801},
                      INT64_MAX, INT64_MIN}) {
    auto r = ParseEventTime(Value::Integer(bad), EventTimeFormat::kUnix);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(kOutside), std::string::npos) << r.status().ToString();
  }
  for (const char* bad : {"0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"}) {
    auto r = ParseEventTime(Value::String(bad), EventTimeFormat::kRfc3339);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(kOutside), std::string::npos) << r.status().ToString();
  }
  EXPECT_TRUE(
      ParseEventTime(Value::String("0000-01-02T00:00:00Z"), EventTimeFormat::kRfc3339).ok());
  auto ms = ParseEventTime(Value::String("999999999999"), EventTimeFormat::kUnix);
  ASSERT_FALSE(ms.ok());
  EXPECT_NE(ms.status().message().find("milliseconds given as seconds?"), std::string::npos);
}

const TableMeta kTable{
    "t", {{"id", PrimaryKeyType::kInteger}, {"name", PrimaryKeyType::kString}}, {}};

DeliveryTaskConfig Config(std::vector<DeliveryColumn> schema) {
  DeliveryTaskConfig c;
  c.oss_bucket = "b";
  c.oss_endpoint = "file:///tmp";
  c.schema = std::move(schema);
  return c;
}

TEST(TaskConfig, NamesAndSchemaValidation) {
  for (const char* ok : {"abc", "sample-task-1", "a1b", "0123456789abcdef"})
    EXPECT_TRUE(ValidateTaskName(ok).ok()) << ok;
  for (const char* bad :
       {"ab", "-abc", "abc-", "Abc", "a_b_c", "0123456789abcdefg", "sampledeliverytask"}) {
    EXPECT_FALSE(ValidateTaskName(bad).ok()) << bad;
  }
  EXPECT_TRUE(ResolveTask(Config({{"id", "id", "INT64"}, {"name", "name", "UTF8"}}), kTable).ok());
  EXPECT_FALSE(ResolveTask(Config({}), kTable).ok());
  EXPECT_FALSE(
      ResolveTask(Config({{"name", "name", "INT64"}}), kTable).ok());       // STRING key as INT64
  EXPECT_FALSE(ResolveTask(Config({{"v", "v", "DECIMAL"}}), kTable).ok());  // no typeExtend
  auto r = ResolveTask(Config({{"v", "v", "DECIMAL", "PLAIN", "(20,4)"},
                               {"l", "l", "LIST", "PLAIN", "DECIMAL(9,2)"}}),
                       kTable);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->columns[0].parquet.precision, 20);
  EXPECT_EQ(r->columns[1].parquet.element, parquet::ColumnType::kDecimal);
  EXPECT_EQ(r->columns[1].parquet.scale, 2);
  auto cfg = Config({{"id", "id", "INT64"}});
  cfg.oss_bucket.clear();
  EXPECT_FALSE(ResolveTask(cfg, kTable).ok());
  cfg = Config({{"id", "id", "INT64"}});
  cfg.compression = "BROTLI";
  EXPECT_FALSE(ResolveTask(cfg, kTable).ok());
}

TEST(TaskConfig, SchemaArgumentAndJsonRoundTrip) {
  auto s = ParseSchemaArgument(
      "PK1:PK1:INT64,Col1:c1:DECIMAL(10,2):PLAIN,tags::LIST(INT64),n:n:INT32:DELTA_BINARY_PACKED");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->size(), 4u);
  EXPECT_EQ((*s)[1].type_extend, "(10,2)");
  EXPECT_EQ((*s)[2].target, "tags");
  EXPECT_EQ((*s)[2].type_extend, "INT64");
  EXPECT_EQ((*s)[3].encoding, "DELTA_BINARY_PACKED");
  EXPECT_FALSE(ParseSchemaArgument("PK1").ok());
  auto c = Config(*s);
  c.event_time_column = "t";
  c.event_time_format = EventTimeFormat::kRfc850;
  auto back = ConfigFromJson(ConfigToJson(c));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(ConfigToJson(*back), ConfigToJson(c));
  EXPECT_FALSE(ConfigFromJson(nlohmann::json{{"bucket", "x"}}).ok());  // unknown field named
}

Status Convert(const Value& v, parquet::ColumnSpec spec, RowConverter::Staged* out) {
  Misfit misfit = ConvertValue(v, spec, out);
  return misfit ? Status::InvalidArgument(*misfit) : Status::OK();
}

// The row's partition time: its event time column found in the key or among cells in any
// position (rows differ in which cells they hold), and a missing one named as the reason.
TEST(RowStager, EventTimeFromKeyOrCellsWhereverTheyAre) {
  for (const char* column : {"id", "ts"}) {
    DeliveryTaskConfig c = Config({{"id", "id", "INT64"}});
    c.event_time_column = column;
    c.event_time_format = EventTimeFormat::kUnix;
    auto resolved = ResolveTask(c, kTable);
    ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
    RowStager stager(c, *resolved);
    int64_t time_ms = 0;
    const PrimaryKey key = {{"id", Value::Integer(7)}};
    const std::string name = column;
    for (const std::vector<Cell>& cells : std::vector<std::vector<Cell>>{
             {{"ts", Value::Integer(7)}},
             {{"a", Value::Integer(1)}, {"b", Value::Integer(2)}, {"ts", Value::Integer(7)}},
             {{"ts", Value::Integer(7)}, {"z", Value::Integer(3)}}}) {
      EXPECT_TRUE(stager.Stage(key, cells, 1, {}, &time_ms).empty()) << column;
      EXPECT_EQ(time_ms, 7000) << column;
    }
    if (name == "ts") {
      DirtyReason missing = stager.Stage(key, std::vector<Cell>{{"a", Value::Integer(1)}}, 1, {}, &time_ms);
      EXPECT_NE(missing.text.find("event time column 'ts' is missing"), std::string::npos)
          << missing.text;
    }
  }
}

TEST(RowConverter, TypeMapping) {
  using T = parquet::ColumnType;
  RowConverter::Staged s;
  auto spec = [](T t, int p = 0, int sc = 0) {
    parquet::ColumnSpec c;
    c.name = "c";
    c.type = t;
    c.precision = p;
    c.scale = sc;
    return c;
  };
  EXPECT_TRUE(Convert(Value::Integer(5), spec(T::kInt64), &s).ok());
  EXPECT_TRUE(Convert(Value::Integer(INT32_MAX), spec(T::kInt32), &s).ok());
  EXPECT_FALSE(Convert(Value::Integer(int64_t{INT32_MAX} + 1), spec(T::kInt32), &s).ok());
  // An INTEGER into DOUBLE or FLOAT converts when exact (producers write 5 for 5.0).
  ASSERT_TRUE(Convert(Value::Integer(5), spec(T::kDouble), &s).ok());
  EXPECT_EQ(s.real, 5.0);
  ASSERT_TRUE(Convert(Value::Integer(-(int64_t{1} << 53)), spec(T::kFloat), &s).ok());
  EXPECT_EQ(s.real, -9007199254740992.0);
  EXPECT_FALSE(Convert(Value::Integer((int64_t{1} << 53) + 1), spec(T::kDouble), &s).ok());
  EXPECT_FALSE(Convert(Value::Integer(INT64_MIN), spec(T::kFloat), &s).ok());
  EXPECT_FALSE(Convert(Value::String("5"), spec(T::kDouble), &s).ok());
  EXPECT_FALSE(Convert(Value::String("5"), spec(T::kInt64), &s).ok());
  EXPECT_TRUE(Convert(Value::Double(1.5), spec(T::kFloat), &s).ok());
  EXPECT_FALSE(Convert(Value::Double(1e300), spec(T::kFloat), &s).ok());
  EXPECT_TRUE(Convert(Value::Binary("ok"), spec(T::kUtf8), &s).ok());
  EXPECT_FALSE(Convert(Value::Binary("\xff"), spec(T::kUtf8), &s).ok());
  // Past the eight-bytes-at-a-time ASCII prefix, and inside it.
  EXPECT_TRUE(Convert(Value::String("abcdefgh\xc3\xa9ijklmnopq"), spec(T::kUtf8), &s).ok());
  EXPECT_FALSE(Convert(Value::String("abcdefghijklmnop\xff"), spec(T::kUtf8), &s).ok());
  EXPECT_FALSE(Convert(Value::String("abc\xff"
                                     "defghijklmnop"),
                       spec(T::kUtf8), &s)
                   .ok());
  EXPECT_FALSE(Convert(Value::String("abcdefgh\xc3"), spec(T::kUtf8), &s).ok());
  ASSERT_TRUE(Convert(Value::String("1970-01-02"), spec(T::kDate), &s).ok());
  EXPECT_EQ(s.integer, 1);
  EXPECT_NE(Convert(Value::String("2026-02-30"), spec(T::kDate), &s).message().find("no such day"),
            std::string::npos);
  EXPECT_NE(
      Convert(Value::String("2026-2-3"), spec(T::kDate), &s).message().find("not a YYYY-MM-DD"),
      std::string::npos);
  ASSERT_TRUE(Convert(Value::String("-12.5"), spec(T::kDecimal, 5, 2), &s).ok());
  EXPECT_EQ(s.integer, -1250);
  // The reason says which way a decimal text misses its type.
  auto decimal_misfit = [&](const char* text) {
    Status st = Convert(Value::String(text), spec(T::kDecimal, 5, 2), &s);
    EXPECT_FALSE(st.ok()) << text;
    return st.message();
  };
  EXPECT_NE(decimal_misfit("1234.5").find("does not fit: more than 3 digits before the point"),
            std::string::npos);
  EXPECT_NE(decimal_misfit("1.234").find("does not fit: more than 2 digits after the point"),
            std::string::npos);
  EXPECT_NE(decimal_misfit("1e3").find("not decimal text"), std::string::npos);
  ASSERT_TRUE(Convert(Value::String(" +001.200 "), spec(T::kDecimal, 5, 2), &s).ok());
  EXPECT_EQ(s.integer, 120);
  ASSERT_TRUE(Convert(Value::Integer(7), spec(T::kDecimal, 30, 10), &s).ok());
  EXPECT_EQ(s.value().size(), 13u);  // FIXED_LEN_BYTE_ARRAY of a 30-digit decimal
  ASSERT_TRUE(Convert(Value::String("2026-11-24T00:00:00Z"), spec(T::kTimestampMicros), &s).ok());
  EXPECT_EQ(s.integer, kMs20261124 * 1000);
  EXPECT_FALSE(Convert(Value::Integer(86400000), spec(T::kTimeMillis), &s).ok());
  parquet::ColumnSpec list = spec(T::kList);
  list.element = T::kInt64;
  ASSERT_TRUE(Convert(Value::String("[1, null, 3]"), list, &s).ok());
  EXPECT_EQ(s.entries.size(), 3u);
  EXPECT_TRUE(s.entries[1].null);
  EXPECT_FALSE(Convert(Value::String("[1, \"x\"]"), list, &s).ok());
  EXPECT_FALSE(Convert(Value::String("{}"), list, &s).ok());
  parquet::ColumnSpec map = spec(T::kMap);
  map.element = T::kUtf8;
  ASSERT_TRUE(Convert(Value::String(R"({"a":"x","b":null})"), map, &s).ok());
  EXPECT_EQ(s.keys, (std::vector<std::string>{"a", "b"}));
}

TEST(TaskState, RoundTripAndLayoutVersions) {
  TaskState t;
  t.attempt = 2;
  t.segment = 7;
  t.ranges.push_back({nlohmann::json(), {{"id", 100}}, {{"id", 42}}, true, false});
  t.ranges.push_back({{{"id", 100}}, nlohmann::json(), nlohmann::json(), false, true});
  t.runs = 3;
  t.merged_through = "ev/2026/01";
  auto back = StateFromJson(StateToJson(t).dump());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->version, TaskState::kVersion);
  ASSERT_EQ(back->ranges.size(), 2u);
  EXPECT_TRUE(back->ranges[0].start.is_null());
  EXPECT_EQ(back->ranges[0].end, t.ranges[0].end);
  EXPECT_EQ(back->ranges[0].resume_key, t.ranges[0].resume_key);
  EXPECT_TRUE(back->ranges[0].resume_at);
  EXPECT_FALSE(back->ranges[0].done);
  EXPECT_EQ(back->ranges[1].start, t.ranges[1].start);
  EXPECT_TRUE(back->ranges[1].resume_key.is_null());
  EXPECT_TRUE(back->ranges[1].done);
  EXPECT_EQ(back->runs, 3);
  EXPECT_EQ(back->merged_through, "ev/2026/01");
  // A state saved by an older binary scanned one range, and without resume_at it resumes
  // after its key.
  auto old = StateFromJson(R"({"version":2,"segment":1,"resume_key":{"id":1}})");
  ASSERT_TRUE(old.ok());
  ASSERT_EQ(old->ranges.size(), 1u);
  EXPECT_EQ(old->ranges[0].resume_key, (nlohmann::json{{"id", 1}}));
  EXPECT_FALSE(old->ranges[0].resume_at);
  EXPECT_TRUE(old->ranges[0].end.is_null());
  // A newer layout is refused, never misread.
  auto newer = StateFromJson(
      fmt::format(R"({{"version":{},"resume_key":{{"id":1}}}})", TaskState::kVersion + 1));
  EXPECT_EQ(newer.status().code(), StatusCode::kCorruption);
  EXPECT_NE(newer.status().message().find("newer than this Tablelake"), std::string::npos);
  EXPECT_EQ(StateFromJson("[1]").status().code(), StatusCode::kCorruption);
}

TEST(TaskState, FileEntriesWrittenAndReadAsNlohmannDoes) {
  for (const FileEntry& f :
       {FileEntry{"ev/2026/11/24/t-a-base1s0-00000.parquet", 23, 1536, kMs20261124},
        FileEntry{"odd/\"quoted\" \\ tab\t \xc3\xa9/x.parquet", 0, 0, 0},
        FileEntry{"big/x.parquet", INT64_MAX, INT64_MAX - 1, -1}}) {
    const std::string text = FileEntryText(f);
    const nlohmann::json earlier = {
        {"key", f.key}, {"rows", f.rows}, {"bytes", f.bytes}, {"time_ms", f.time_ms}};
    EXPECT_EQ(text, earlier.dump());
    auto back = ParseFileEntry(text);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->key, f.key);
    EXPECT_EQ(back->rows, f.rows);
    EXPECT_EQ(back->bytes, f.bytes);
    EXPECT_EQ(back->time_ms, f.time_ms);
  }
  // Members missing read as 0; members unknown are skipped.
  auto partial = ParseFileEntry(R"({"key":"k","extra":[1,{"a":2}]})");
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->key, "k");
  EXPECT_EQ(partial->rows, 0);
  for (const char* bad : {"", "[1]", "{\"key\":", R"({"key":1})", R"({"rows":"3"})"}) {
    EXPECT_EQ(ParseFileEntry(bad).status().code(), StatusCode::kCorruption) << bad;
  }
}

// Pages read ahead on the reader's thread come in sequence order, each record once, up to the
// page holding the first record at or past `to`; then an empty page, as often as asked. A
// reader dropped halfway stops.
class StreamPagesTest : public testing::StoreTest {
 protected:
  // 2,500 rows written with the stream on; returns their records' sequences.
  std::vector<uint64_t> WriteRows() {
    CreateSample();
    for (int i = 0; i < 2500; ++i) {
      Status put = Put(testing::Key(i, "k"), {{"v", Value::Integer(i), NowMs()}});
      EXPECT_TRUE(put.ok()) << put.ToString();
    }
    auto all = store_->ReadStream("sampleTable", 0, 5000);
    EXPECT_TRUE(all.ok());
    std::vector<uint64_t> sequences;
    for (const auto& r : all->records) sequences.push_back(r.sequence);
    EXPECT_EQ(sequences.size(), 2500u);
    return sequences;
  }
  // Every record StreamPages gives until its empty page.
  std::vector<uint64_t> ReadAll(StreamPages& pages) {
    std::vector<uint64_t> got;
    while (true) {
      auto page = pages.Next();
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok() || (*page)->records.empty()) return got;
      EXPECT_LE((*page)->records.size(), StreamPages::kPageRecords);
      for (const auto& r : (*page)->records) got.push_back(r.sequence);
    }
  }
};

TEST_F(StreamPagesTest, ReadsAheadInOrderUpToTheEnd) {
  const std::vector<uint64_t> sequences = WriteRows();
  {
    StreamPages pages(store_.get(), "sampleTable", sequences.front(), UINT64_MAX);
    EXPECT_EQ(ReadAll(pages), sequences);
    for (int i = 0; i < 3; ++i) {
      auto end = pages.Next();
      ASSERT_TRUE(end.ok());
      EXPECT_TRUE((*end)->records.empty());
    }
  }
  {
    // Up to the 1,235th record: its page (the second) is the last.
    StreamPages pages(store_.get(), "sampleTable", sequences.front(), sequences[1234]);
    const std::vector<uint64_t> got = ReadAll(pages);
    EXPECT_EQ(got, std::vector<uint64_t>(sequences.begin(), sequences.begin() + 2000));
  }
  {
    // From the middle, dropped after a page while the reader is ahead.
    StreamPages pages(store_.get(), "sampleTable", sequences[700], UINT64_MAX);
    auto first = pages.Next();
    ASSERT_TRUE(first.ok());
    ASSERT_FALSE((*first)->records.empty());
    EXPECT_EQ((*first)->records.front().sequence, sequences[700]);
  }
  StreamPages none(store_.get(), "no_such_table", 0, UINT64_MAX);
  EXPECT_FALSE(none.Next().ok());
}

}  // namespace
}  // namespace tablelake::delivery
