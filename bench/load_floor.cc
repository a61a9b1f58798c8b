// The floors under bench/load_bench.mjs: the steps no loader of JSON lines into RocksDB, and no
// delivery of its rows to Parquet, can skip, each on every core and nothing else.
//  - parse: simdjson (the fastest JSON parser packaged) reading every line of the input, held
//    in memory, as a stream of documents, and every value of every line - no checks, no
//    encoding, nothing kept;
//  - files: RocksDB's SstFileWriter writing the rows a load stored (read back from the loaded
//    store, held in memory, in key order) with the store's own table options (compression,
//    Bloom filter, block size), the keys cut in one piece per core - no parse, no sort, no merge.
// Keys in random order put one after the other: the first key of the sorted files may be on the
// input's last line. A load therefore cannot take less than their sum.
//  - scan: RocksDB iterating over those rows (the key range cut in one piece per core), with
//    the read options of a delivery's scan, each key and value touched - no decoding;
//  - parquet: Tablelake's Parquet writer (2-4x DuckDB's pace, bench/parquet_bench) writing the
//    input's five columns (PK1 INT64, PK2 UTF8, Col1 DOUBLE, Flag BOOL, Payload UTF8; the
//    values held in memory as columns) as SNAPPY files of 8 MiB row groups, one per core.
// A delivery reads every row and writes every value, with every core busy in each: it cannot
// take less than scan + parquet.
//   load_floor INPUT.jsonl STORE_DIR [THREADS]
//   prints {"parse_seconds": P, "files_seconds": F, "scan_seconds": S, "parquet_seconds": Q,
//           "rows": N}
#include <rocksdb/db.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/utilities/options_util.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "parquet/column_writer.h"
#include "parquet/file_writer.h"

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "load_floor: %s\n", what.c_str());
  std::exit(1);
}

// Reads every value of every line of `text`; the number of lines.
uint64_t ParseLines(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::document_stream docs;
  if (parser.parse_many(padded).get(docs)) Fail("parse_many");
  uint64_t rows = 0, sink = 0;
  for (simdjson::dom::element doc : docs) {
    simdjson::dom::object row;
    if (doc.get(row)) Fail("a line is not an object");
    for (auto field : row) {
      const simdjson::dom::element v = field.value;
      switch (v.type()) {
        case simdjson::dom::element_type::INT64:
          sink += static_cast<uint64_t>(int64_t(v));
          break;
        case simdjson::dom::element_type::DOUBLE:
          sink += static_cast<uint64_t>(double(v));
          break;
        case simdjson::dom::element_type::BOOL:
          sink += bool(v);
          break;
        case simdjson::dom::element_type::STRING:
          sink += std::string_view(v).size();
          break;
        default:
          break;
      }
    }
    ++rows;
  }
  if (sink == 42) std::fputs("", stderr);  // the values are used
  return rows;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail("cannot read " + path);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

// `text` cut at line breaks into `threads` pieces of about the same size.
std::vector<std::string_view> Pieces(const std::string& text, size_t threads) {
  std::vector<std::string_view> pieces;
  size_t from = 0;
  for (size_t t = 1; t <= threads; ++t) {
    size_t to = t == threads ? text.size() : text.find('\n', text.size() * t / threads);
    to = to == std::string::npos ? text.size() : to + 1;
    pieces.push_back(std::string_view(text).substr(from, to - from));
    from = to;
  }
  return pieces;
}

double ParseFloor(const std::string& text, size_t threads) {
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (auto piece : Pieces(text, threads)) workers.emplace_back([piece] { ParseLines(piece); });
  for (auto& w : workers) w.join();
  return Since(start);
}

struct StoredRows {
  std::vector<std::string> keys, values;
  rocksdb::Options options;  // the data column family's
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::ColumnFamilyHandle* data = nullptr;
  ~StoredRows() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
};

void ReadStore(const std::string& dir, StoredRows* rows) {
  rocksdb::DBOptions db_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  rocksdb::ConfigOptions config;
  config.ignore_unknown_options = true;
  config.ignore_unsupported_options = true;  // the compaction filters are the store's own
  if (auto s = rocksdb::LoadLatestOptions(config, dir, &db_options, &cfs); !s.ok()) {
    Fail("options of " + dir + ": " + s.ToString());
  }
  for (auto& cf : cfs) cf.options.compaction_filter_factory = nullptr;
  rocksdb::DB* raw = nullptr;
  if (auto s = rocksdb::DB::OpenForReadOnly(db_options, dir, cfs, &rows->handles, &raw); !s.ok()) {
    Fail("open " + dir + ": " + s.ToString());
  }
  rows->db.reset(raw);
  for (size_t i = 0; i < cfs.size(); ++i) {
    if (cfs[i].name != "data") continue;
    rows->options = rocksdb::Options(db_options, cfs[i].options);
    rows->data = rows->handles[i];
    std::unique_ptr<rocksdb::Iterator> it(
        rows->db->NewIterator(rocksdb::ReadOptions(), rows->data));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      rows->keys.push_back(it->key().ToString());
      rows->values.push_back(it->value().ToString());
    }
  }
  if (rows->keys.empty()) Fail(dir + " holds no rows");
}

// Runs fn(t) on `threads` threads at once; the seconds until all are done.
template <typename Fn>
double OnEveryCore(size_t threads, Fn&& fn) {
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t) workers.emplace_back([&fn, t] { fn(t); });
  for (auto& w : workers) w.join();
  return Since(start);
}

double FilesFloor(const StoredRows& rows, const std::string& dir, size_t threads) {
  return OnEveryCore(threads, [&](size_t t) {
    const size_t from = rows.keys.size() * t / threads;
    const size_t to = rows.keys.size() * (t + 1) / threads;
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), rows.options);
    const std::string path = dir + "/floor-" + std::to_string(t) + ".sst";
    if (!writer.Open(path).ok()) Fail("cannot write " + path);
    for (size_t i = from; i < to; ++i) {
      if (!writer.Put(rows.keys[i], rows.values[i]).ok()) Fail("put");
    }
    if (!writer.Finish().ok()) Fail("finish " + path);
  });
}

double ScanFloor(const StoredRows& rows, size_t threads) {
  return OnEveryCore(threads, [&](size_t t) {
    rocksdb::ReadOptions ro;  // as a delivery's scan (store/read_path.cc)
    ro.readahead_size = 2 << 20;
    ro.fill_cache = false;
    const rocksdb::Slice end = t + 1 < threads
                                   ? rocksdb::Slice(rows.keys[rows.keys.size() * (t + 1) / threads])
                                   : rocksdb::Slice();
    if (t + 1 < threads) ro.iterate_upper_bound = &end;
    std::unique_ptr<rocksdb::Iterator> it(rows.db->NewIterator(ro, rows.data));
    uint64_t bytes = 0;
    for (it->Seek(rows.keys[rows.keys.size() * t / threads]); it->Valid(); it->Next()) {
      bytes += static_cast<uint8_t>(it->key()[it->key().size() - 1]) + it->value().size();
    }
    if (!it->status().ok() || bytes == 0) Fail("scan: " + it->status().ToString());
  });
}

// The input's columns, in input order.
struct Columns {
  std::vector<int64_t> pk1;
  std::vector<std::string> pk2, payload;
  std::vector<double> col1;
  std::vector<bool> flag;
};

Columns ReadColumns(const std::string& text) {
  Columns c;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::document_stream docs;
  if (parser.parse_many(padded).get(docs)) Fail("parse_many");
  for (simdjson::dom::element doc : docs) {
    c.pk1.push_back(int64_t(doc["PK1"]));
    c.pk2.emplace_back(std::string_view(doc["PK2"]));
    c.col1.push_back(double(doc["Col1"]));
    c.flag.push_back(bool(doc["Flag"]));
    c.payload.emplace_back(std::string_view(doc["Payload"]));
  }
  return c;
}

double ParquetFloor(const Columns& c, const std::string& dir, size_t threads) {
  using tablelake::parquet::ColumnType;
  const std::vector<tablelake::parquet::ColumnSpec> schema = {{"PK1", ColumnType::kInt64},
                                                              {"PK2", ColumnType::kUtf8},
                                                              {"Col1", ColumnType::kDouble},
                                                              {"Flag", ColumnType::kBool},
                                                              {"Payload", ColumnType::kUtf8}};
  return OnEveryCore(threads, [&](size_t t) {
    const size_t from = c.pk1.size() * t / threads, to = c.pk1.size() * (t + 1) / threads;
    tablelake::parquet::WriterOptions options;  // SNAPPY
    options.row_group_bytes = 8 << 20;          // a delivery's (RangeScan::kGroupBytes)
    const std::string path = dir + "/floor-" + std::to_string(t) + ".parquet";
    auto sink = tablelake::NewFileSink(path);
    if (!sink.ok()) Fail("cannot write " + path);
    auto writer = tablelake::parquet::FileWriter::Open(schema, options, std::move(*sink));
    if (!writer.ok()) Fail(writer.status().ToString());
    std::vector<tablelake::parquet::ColumnVector> batch;
    for (const auto& spec : schema) batch.emplace_back(spec);
    for (size_t i = from; i < to;) {
      for (auto& column : batch) column.Clear();
      for (const size_t end = std::min(to, i + 4096); i < end; ++i) {
        batch[0].AppendInt64(c.pk1[i]);
        batch[1].AppendBytes(c.pk2[i]);
        batch[2].AppendDouble(c.col1[i]);
        batch[3].AppendBool(c.flag[i]);
        batch[4].AppendBytes(c.payload[i]);
      }
      if (auto s = (*writer)->WriteBatch(batch); !s.ok()) Fail(s.ToString());
    }
    if (auto s = (*writer)->Close(); !s.ok()) Fail(s.ToString());
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) Fail("usage: load_floor INPUT.jsonl STORE_DIR [THREADS]");
  const size_t threads =
      argc > 3 ? std::strtoul(argv[3], nullptr, 10) : std::thread::hardware_concurrency();
  const std::string text = ReadAll(argv[1]);
  const double parse = ParseFloor(text, threads);
  StoredRows rows;
  ReadStore(argv[2], &rows);
  const std::string out = std::string(argv[2]) + "-floor";
  std::filesystem::create_directories(out);
  const double files = FilesFloor(rows, out, threads);
  const double scan = ScanFloor(rows, threads);
  const double parquet = ParquetFloor(ReadColumns(text), out, threads);
  std::filesystem::remove_all(out);
  std::printf(
      "{\"parse_seconds\": %.3f, \"files_seconds\": %.3f, \"scan_seconds\": %.3f, "
      "\"parquet_seconds\": %.3f, \"rows\": %zu}\n",
      parse, files, scan, parquet, rows.keys.size());
  return 0;
}
