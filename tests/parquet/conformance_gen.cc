// Writes the Parquet conformance matrix for the independent readers to check.
//
//   parquet_conformance_gen DIR
//
// For every column type x REQUIRED/OPTIONAL x applicable encoding x codec it writes a file
// DIR/<name>.parquet with edge-case values, several row groups and many pages, and records the
// values it wrote, as canonical text, in DIR/manifest.json. tests/interop/check_parquet.mjs
// reads each file with DuckDB, hyparquet and parquet-wasm and compares every value.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include "nlohmann/json.hpp"
#include "parquet/file_writer.h"

using namespace tablelake;
using namespace tablelake::parquet;
using nlohmann::json;

namespace {

std::string Hex(std::string_view s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string Int128ToString(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u =
      neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  while (u > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  return neg ? "-" + s : s;
}

std::string DoubleText(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  return buf;
}

uint64_t Rand(uint64_t i) {  // deterministic, so runs are reproducible
  uint64_t x = i * 0x9e3779b97f4a7c15ULL + 12345;
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ULL;
  return x ^ (x >> 29);
}

__int128 Pow10(int p) {
  __int128 v = 1;
  for (int i = 0; i < p; ++i) v *= 10;
  return v;
}

// Appends the value of row i (never null) and returns its canonical text.
std::string AppendValue(const ColumnSpec& spec, size_t i, ColumnVector* v) {
  uint64_t r = Rand(i);
  bool edge = i < 16;
  switch (spec.type) {
    case ColumnType::kBool: {
      bool b = (r % 3) == 0;
      v->AppendBool(b);
      return b ? "true" : "false";
    }
    case ColumnType::kInt32: {
      static const int32_t kEdges[] = {INT32_MIN, INT32_MAX, 0, -1, 1, 7, 7,    7,
                                       7,         7,         7, 7,  7, 7, -100, 100};
      int32_t x = edge ? kEdges[i]
                       : (r % 4 == 0 ? static_cast<int32_t>(r) : static_cast<int32_t>(i % 50) - 25);
      v->AppendInt32(x);
      return std::to_string(x);
    }
    case ColumnType::kInt64: {
      static const int64_t kEdges[] = {INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MIN + 1, 5, 5, 5, 5, 5,
                                       5,         5,         5, 5,  -5};
      int64_t x = edge
                      ? kEdges[i]
                      : (r % 4 == 0 ? static_cast<int64_t>(r) : static_cast<int64_t>(i) * 1000 - 7);
      v->AppendInt64(x);
      return std::to_string(x);
    }
    case ColumnType::kFloat:
    case ColumnType::kDouble: {
      static const double kEdges[] = {std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity(),
                                      -0.0,
                                      0.0,
                                      0.1,
                                      -1e300,
                                      1e300,
                                      5e-324,
                                      2.5,
                                      2.5,
                                      2.5,
                                      2.5,
                                      2.5,
                                      2.5,
                                      2.5};
      double d =
          edge ? kEdges[i] : static_cast<double>(static_cast<int64_t>(r % 200000) - 100000) / 64.0;
      if (spec.type == ColumnType::kFloat) {
        float f = static_cast<float>(d);
        if (edge && (i == 6 || i == 7 || i == 8)) f = i == 8 ? 1e-45f : (i == 6 ? -3e38f : 3e38f);
        v->AppendFloat(f);
        return DoubleText(static_cast<double>(f));
      }
      v->AppendDouble(d);
      return DoubleText(d);
    }
    case ColumnType::kUtf8:
    case ColumnType::kBinary: {
      std::string s;
      if (i == 0)
        s = "";
      else if (i == 1)
        s = std::string(20000, 'L') + "ong";  // longer than a page
      else if (i == 2)
        s = "héllo 東京 🎉";
      else if (i < 12)
        s = "repeat";
      else
        s = "v" + std::to_string(r % 300);
      if (spec.type == ColumnType::kBinary) {
        if (i == 3) s = std::string("\0\x01\xff\xfe", 4);
        v->AppendBytes(s);
        return Hex(s);
      }
      v->AppendBytes(s);
      return s;
    }
    case ColumnType::kDate: {
      static const int32_t kEdges[] = {0,     -1,    -719162, 2932896, 20781, 20781,  20781, 20781,
                                       20781, 20781, 20781,   20781,   20781, -25567, 11016, 19000};
      int32_t days = edge ? kEdges[i] : static_cast<int32_t>(r % 40000) - 10000;
      v->AppendInt32(days);
      return std::to_string(days);
    }
    case ColumnType::kTimeMillis: {
      int32_t ms = edge ? static_cast<int32_t>(i == 1 ? 86399999 : i * 1000)
                        : static_cast<int32_t>(r % 86400000);
      v->AppendInt32(ms);
      return std::to_string(ms);
    }
    case ColumnType::kTimeMicros: {
      int64_t us = edge ? (i == 1 ? 86399999999LL : static_cast<int64_t>(i) * 1000001)
                        : static_cast<int64_t>(r % 86400000000ULL);
      v->AppendInt64(us);
      return std::to_string(us);
    }
    case ColumnType::kTimestampMillis:
    case ColumnType::kTimestampMicros: {
      int64_t unit = spec.type == ColumnType::kTimestampMillis ? 1 : 1000;
      static const int64_t kEdgesMs[] = {0,
                                         -1,
                                         1795478400000,
                                         -2208988800000,
                                         4102444800000,
                                         1795478400000,
                                         1795478400000,
                                         1795478400000,
                                         1795478400000,
                                         1795478400000,
                                         1795478400000,
                                         1795478400000,
                                         1795478400000,
                                         1,
                                         86400000,
                                         -86400001};
      int64_t t = edge ? kEdgesMs[i] * unit + (unit > 1 && i == 2 ? 123 : 0)
                       : (1700000000000LL + static_cast<int64_t>(r % 100000000000ULL)) * unit +
                             static_cast<int64_t>(r % unit);
      v->AppendInt64(t);
      return std::to_string(t);
    }
    case ColumnType::kInt96: {
      static const int64_t kEdgesNs[] = {0,
                                         -1,
                                         1795478400123456789,
                                         -2208988800000000000,
                                         1,
                                         86400000000000,
                                         -86400000000001,
                                         5,
                                         5,
                                         5,
                                         5,
                                         5,
                                         5,
                                         5,
                                         5,
                                         5};
      __int128 ns = edge ? kEdgesNs[i]
                         : static_cast<__int128>(1600000000000000000LL +
                                                 static_cast<int64_t>(r % 200000000000000000ULL));
      v->AppendBytes(Int96FromNanos(ns));
      return Int128ToString(ns);
    }
    case ColumnType::kInterval: {
      uint32_t months = static_cast<uint32_t>(r % 30), days = static_cast<uint32_t>((r >> 8) % 40),
               ms = static_cast<uint32_t>((r >> 16) % 86400000);
      if (i == 0) months = days = ms = 0;
      v->AppendBytes(IntervalBytes(months, days, ms));
      return std::to_string(months) + "," + std::to_string(days) + "," + std::to_string(ms);
    }
    case ColumnType::kDecimal: {
      __int128 max = Pow10(spec.precision) - 1;
      __int128 x;
      if (i == 0)
        x = max;
      else if (i == 1)
        x = -max;
      else if (i == 2)
        x = 0;
      else if (i == 3)
        x = -1;
      else if (i == 4)
        x = 1;
      else
        x = (static_cast<__int128>(r) * static_cast<__int128>(Rand(i + 7))) % (max + 1) *
            ((r & 1) ? 1 : -1);
      if (spec.precision <= 9)
        v->AppendInt32(static_cast<int32_t>(x));
      else if (spec.precision <= 18)
        v->AppendInt64(static_cast<int64_t>(x));
      else
        v->AppendBytes(DecimalToFixed(x, FixedLengthOf(spec)));
      return Int128ToString(x);
    }
    case ColumnType::kList:
    case ColumnType::kMap:
      break;  // AppendRow handles the nested types
  }
  return "";
}

std::vector<Encoding> EncodingsFor(const ColumnSpec& base) {
  std::vector<Encoding> out;
  for (Encoding e : {Encoding::kPlain, Encoding::kDictionary, Encoding::kDeltaBinaryPacked,
                     Encoding::kDeltaLengthByteArray, Encoding::kDeltaByteArray}) {
    ColumnSpec c = base;
    c.encoding = e;
    if (ValidateColumn(c).ok()) out.push_back(e);
  }
  return out;
}

struct FileCase {
  std::string name;
  std::vector<ColumnSpec> columns;
  size_t rows;
  WriterOptions options;
  bool all_null = false;
  // Every other batch is encoded by a detached writer and placed into the file as row groups
  // (what a delivery's spill runs do), its metadata passed through its run encoding.
  bool assembled = false;
};

json ColumnJson(const ColumnSpec& c) {
  return {{"name", c.name},
          {"type", ColumnTypeName(c.type)},
          {"optional", c.optional},
          {"encoding", EncodingName(c.encoding)},
          {"precision", c.precision},
          {"scale", c.scale},
          {"element", ColumnTypeName(c.element)}};
}

// Appends row i of a column (and returns its manifest value): null for some rows of OPTIONAL
// columns; for LIST/MAP, also empty rows and null entries.
json AppendRow(const ColumnSpec& spec, size_t i, bool all_null, ColumnVector* v) {
  bool null = spec.optional && (all_null || (i % 7 == 3) || (i >= 100 && i < 120));
  if (!IsNested(spec)) {
    if (null) {
      v->AppendNull();
      return nullptr;
    }
    return AppendValue(spec, i, v);
  }
  if (null) {
    v->AppendNullRow();
    return nullptr;
  }
  int32_t entries = i % 11 == 5 ? 0 : static_cast<int32_t>(i % 4) + 1;
  v->BeginRow(entries);
  ColumnSpec element = ElementSpec(spec);
  json row = json::array();
  for (int32_t j = 0; j < entries; ++j) {
    json value;
    std::string key = "k" + std::to_string(j) + "_" + std::to_string(i % 5);
    if (spec.type == ColumnType::kMap) v->AppendKey(key);
    if (j == 1 && i % 3 == 0) {
      v->AppendNull();
      value = nullptr;
    } else {
      value = AppendValue(element, i * 4 + j, v);
    }
    row.push_back(spec.type == ColumnType::kMap ? json::array({key, value}) : value);
  }
  return row;
}

// Writes one file, in batches of up to 1000 rows, and returns its manifest entry.
json WriteCase(const std::filesystem::path& dir, const FileCase& fc) {
  std::string path = (dir / (fc.name + ".parquet")).string();
  auto writer = FileWriter::Open(fc.columns, fc.options, std::move(NewFileSink(path)).value());
  auto check = [&](const Status& s) {
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", fc.name.c_str(), s.ToString().c_str());
      std::exit(1);
    }
  };
  check(writer.status());
  std::unique_ptr<FileWriter> detached;
  if (fc.assembled) detached = std::move(FileWriter::OpenDetached(fc.columns, fc.options)).value();
  json rows = json::array();
  for (size_t begin = 0; begin < fc.rows; begin += 1000) {
    std::vector<ColumnVector> batch;
    for (const auto& c : fc.columns) batch.emplace_back(c);
    for (size_t i = begin; i < std::min(fc.rows, begin + 1000); ++i) {
      json row = json::array();
      for (size_t c = 0; c < fc.columns.size(); ++c) {
        row.push_back(AppendRow(fc.columns[c], i, fc.all_null, &batch[c]));
      }
      rows.push_back(row);
    }
    if (!detached || begin / 1000 % 2 == 0) {
      check((*writer)->WriteBatch(batch));
      continue;
    }
    check(detached->WriteBatch(batch));
    std::vector<EncodedRowGroup> groups;
    check(detached->TakeRowGroups(&groups));
    for (const auto& g : groups) {
      std::string meta;
      EncodeRowGroupMetadata(g.meta, &meta);
      std::string_view in = meta;
      RowGroupMetadata decoded;
      check(DecodeRowGroupMetadata(&in, &decoded));
      check((*writer)->AppendRowGroup(decoded, g.bytes));
    }
  }
  check((*writer)->Close());
  json columns = json::array();
  for (const auto& c : fc.columns) columns.push_back(ColumnJson(c));
  return {{"file", fc.name + ".parquet"},
          {"codec", CodecName(fc.options.codec)},
          {"columns", columns},
          {"rows", rows}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: parquet_conformance_gen DIR\n");
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  std::vector<ColumnSpec> types = {
      {"c", ColumnType::kBool},
      {"c", ColumnType::kInt32},
      {"c", ColumnType::kInt64},
      {"c", ColumnType::kFloat},
      {"c", ColumnType::kDouble},
      {"c", ColumnType::kUtf8},
      {"c", ColumnType::kBinary},
      {"c", ColumnType::kDate},
      {"c", ColumnType::kTimeMillis},
      {"c", ColumnType::kTimeMicros},
      {"c", ColumnType::kTimestampMillis},
      {"c", ColumnType::kTimestampMicros},
      {"c", ColumnType::kInt96},
      {"c", ColumnType::kInterval},
      {"c", ColumnType::kDecimal, true, Encoding::kPlain, 9, 2},
      {"c", ColumnType::kDecimal, true, Encoding::kPlain, 18, 4},
      {"c", ColumnType::kDecimal, true, Encoding::kPlain, 38, 10},
  };
  std::vector<FileCase> cases;
  for (const auto& base : types) {
    for (bool optional : {false, true}) {
      for (Encoding e : EncodingsFor(base)) {
        for (Codec codec :
             {Codec::kUncompressed, Codec::kSnappy, Codec::kGzip, Codec::kZstd, Codec::kLz4Raw}) {
          FileCase fc;
          ColumnSpec c = base;
          c.optional = optional;
          c.encoding = e;
          std::string type = ColumnTypeName(c.type);
          if (c.type == ColumnType::kDecimal) type += std::to_string(c.precision);
          fc.name =
              type + (optional ? "_opt_" : "_req_") + EncodingName(e) + "_" + CodecName(codec);
          fc.columns = {c};
          fc.rows = 2500;
          fc.options.codec = codec;
          fc.options.page_bytes = 2048;                // many pages per chunk
          fc.options.max_row_group_rows = 1000;        // several row groups
          fc.options.dictionary_must_pay_off = false;  // dictionary pages for every type
          cases.push_back(fc);
        }
      }
    }
  }
  // LIST and MAP of every scalar type x REQUIRED/OPTIONAL x encoding (SNAPPY), and LIST<INT64>
  // with every codec.
  for (ColumnType nested : {ColumnType::kList, ColumnType::kMap}) {
    for (const auto& base : types) {
      for (bool optional : {false, true}) {
        ColumnSpec c = base;
        c.type = nested;
        c.element = base.type;
        c.optional = optional;
        for (Encoding e : EncodingsFor(c)) {
          c.encoding = e;
          std::string element = ColumnTypeName(base.type);
          if (base.type == ColumnType::kDecimal) element += std::to_string(base.precision);
          for (Codec codec :
               {Codec::kUncompressed, Codec::kSnappy, Codec::kGzip, Codec::kZstd, Codec::kLz4Raw}) {
            bool all_codecs = nested == ColumnType::kList && base.type == ColumnType::kInt64;
            if (codec != Codec::kSnappy && !all_codecs) continue;
            FileCase fc;
            fc.name = std::string(ColumnTypeName(nested)) + "_" + element +
                      (optional ? "_opt_" : "_req_") + EncodingName(e) + "_" + CodecName(codec);
            fc.columns = {c};
            fc.rows = 1500;
            fc.options.codec = codec;
            fc.options.page_bytes = 2048;
            fc.options.max_row_group_rows = 700;
            fc.options.dictionary_must_pay_off = false;
            cases.push_back(fc);
          }
        }
      }
    }
  }
  // Edge files: zero rows, an all-null column, a dictionary that overflows into PLAIN, a wide
  // file of every type together.
  FileCase empty{"empty", {{"a", ColumnType::kInt64}, {"b", ColumnType::kUtf8}}, 0, {}};
  cases.push_back(empty);
  FileCase nulls{"all_null",
                 {{"a", ColumnType::kInt64, true, Encoding::kDictionary}, {"b", ColumnType::kUtf8}},
                 300,
                 {}};
  nulls.all_null = true;
  cases.push_back(nulls);
  FileCase overflow{
      "dictionary_overflow", {{"s", ColumnType::kUtf8, true, Encoding::kDictionary}}, 2500, {}};
  overflow.options.dictionary_bytes = 600;
  overflow.options.dictionary_must_pay_off = false;
  overflow.options.page_bytes = 1024;
  cases.push_back(overflow);
  FileCase wide{"wide", {}, 3000, {}};
  for (size_t i = 0; i < types.size(); ++i) {
    ColumnSpec c = types[i];
    c.name = std::string("col_") + ColumnTypeName(c.type) + "_" + std::to_string(i);
    c.optional = i % 2 == 0;
    wide.columns.push_back(c);
  }
  wide.columns.push_back(
      {"col_list", ColumnType::kList, true, Encoding::kPlain, 0, 0, ColumnType::kInt32});
  wide.columns.push_back(
      {"col_map", ColumnType::kMap, true, Encoding::kPlain, 0, 0, ColumnType::kDouble});
  wide.options.codec = Codec::kZstd;
  wide.options.key_value_metadata = {{"tablelake.source_table", "sampleTable"},
                                     {"tablelake.task", "sampledeliverytask"}};
  wide.options.row_group_bytes = 16 * 1024;
  cases.push_back(wide);
  FileCase assembled = wide;
  assembled.name = "assembled_row_groups";
  assembled.rows = 5500;
  assembled.options.codec = Codec::kSnappy;
  assembled.assembled = true;
  cases.push_back(assembled);
  // Dictionaries that do not pay off are given up after the first page, which is rewritten.
  FileCase abandoned{"dictionary_abandoned",
                     {{"u", ColumnType::kUtf8, true, Encoding::kDictionary},
                      {"n", ColumnType::kInt64, false, Encoding::kDictionary}},
                     3000,
                     {}};
  abandoned.options.page_bytes = 4096;
  cases.push_back(abandoned);

  json manifest = json::array();
  for (const auto& fc : cases) manifest.push_back(WriteCase(dir, fc));
  std::ofstream(dir / "manifest.json") << manifest.dump();
  std::printf("wrote %zu Parquet files to %s\n", cases.size(), dir.c_str());
  return 0;
}
