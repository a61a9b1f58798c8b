// Parquet writer throughput beside DuckDB writing the same rows, in the same run.
//
//   parquet_bench [ROWS...]     (default: 1000000 10000000)
//
// Rows: id INT64, name UTF8 (12 bytes), amount DOUBLE, flag BOOL, note UTF8 (40 bytes), all
// OPTIONAL as DuckDB writes them, 122880 rows per row group as DuckDB's default. For each of
// UNCOMPRESSED, SNAPPY and ZSTD, with dictionary encoding off (PLAIN, delivery's default) and
// on, both writers run single-threaded; the table prints rows/s, MB/s (of raw values), file
// sizes and the ratios. Batches are generated outside the timed region on our side; DuckDB's
// table is built before its timed COPY.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "nlohmann/json.hpp"
#include "parquet/file_writer.h"

using namespace tablelake;
using namespace tablelake::parquet;

namespace {

constexpr size_t kBatchRows = 65536;
constexpr double kRawBytesPerRow = 8 + 12 + 8 + 1 + 40;

std::vector<ColumnSpec> Schema(bool dictionary) {
  Encoding e = dictionary ? Encoding::kDictionary : Encoding::kPlain;
  return {{"id", ColumnType::kInt64, true, e},
          {"name", ColumnType::kUtf8, true, e},
          {"amount", ColumnType::kDouble, true, e},
          {"flag", ColumnType::kBool, true, Encoding::kPlain},
          {"note", ColumnType::kUtf8, true, e}};
}

// The same formulas as duckdb_parquet.mjs.
void MakeBatch(size_t first, size_t n, std::vector<ColumnVector>* b) {
  for (auto& c : *b) c.Clear();
  char buf[64];
  for (size_t i = first; i < first + n; ++i) {
    (*b)[0].AppendInt64(static_cast<int64_t>(i));
    std::snprintf(buf, sizeof(buf), "user%08zu", i % 1000000);
    (*b)[1].AppendBytes(std::string_view(buf, 12));
    (*b)[2].AppendDouble(static_cast<double>(i) * 0.25);
    (*b)[3].AppendBool(i % 3 == 0);
    std::snprintf(buf, sizeof(buf), "abcdefghijabcdefghijabcdefghij%010zu", i % 100000);
    (*b)[4].AppendBytes(std::string_view(buf, 40));
  }
}

struct Run {
  double seconds;
  uint64_t bytes;
};

Run RunTablelake(size_t rows, Codec codec, bool dictionary, const std::string& path) {
  auto schema = Schema(dictionary);
  WriterOptions o;
  o.codec = codec;
  o.max_row_group_rows = 122880;
  auto writer =
      std::move(FileWriter::Open(schema, o, std::move(NewFileSink(path)).value())).value();
  std::vector<ColumnVector> batch;
  for (const auto& c : schema) batch.emplace_back(c);
  double seconds = 0;
  for (size_t first = 0; first < rows; first += kBatchRows) {
    MakeBatch(first, std::min(kBatchRows, rows - first), &batch);
    auto start = std::chrono::steady_clock::now();
    Status s = writer->WriteBatch(batch);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      std::exit(1);
    }
  }
  auto start = std::chrono::steady_clock::now();
  if (Status s = writer->Close(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
  seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {seconds, std::filesystem::file_size(path)};
}

Run RunDuckDB(size_t rows, Codec codec, bool dictionary, const std::string& path) {
  std::string cmd = std::string("node '") + TABLELAKE_SOURCE_DIR + "/bench/duckdb_parquet.mjs' " +
                    std::to_string(rows) + " " + CodecName(codec) + " " +
                    (dictionary ? "on" : "off") + " '" + path + "'";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[256];
  while (p && std::fgets(buf, sizeof(buf), p)) out += buf;
  if (!p || pclose(p) != 0) {
    std::fprintf(stderr, "DuckDB run failed: %s\n", out.c_str());
    std::exit(1);
  }
  auto j = nlohmann::json::parse(out);
  return {j["seconds"].get<double>(), j["bytes"].get<uint64_t>()};
}

long PeakRssMb() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::stoull(argv[i]));
  if (sizes.empty()) sizes = {1000000, 10000000};
  auto dir = std::filesystem::temp_directory_path() / "tablelake-parquet-bench";
  std::filesystem::create_directories(dir);
  std::printf("%-9s %-12s %-5s | %12s %9s %9s | %12s %9s %9s | %6s %6s | %s\n", "rows", "codec",
              "dict", "Tablelake/s", "MB/s", "MB file", "DuckDB/s", "MB/s", "MB file", "speed",
              "size", "peak RSS");
  for (size_t rows : sizes) {
    for (Codec codec : {Codec::kUncompressed, Codec::kSnappy, Codec::kZstd}) {
      for (bool dictionary : {false, true}) {
        std::string ours = (dir / "tablelake.parquet").string();
        std::string theirs = (dir / "duckdb.parquet").string();
        // The previous run's files and dirty pages would be paid for by the next run (replacing
        // a file drops its cached pages): every timed run starts clean, ours and DuckDB's alike.
        std::filesystem::remove(ours);
        std::filesystem::remove(theirs);
        ::sync();
        Run t = RunTablelake(rows, codec, dictionary, ours);
        ::sync();
        Run d = RunDuckDB(rows, codec, dictionary, theirs);
        std::printf(
            "%-9zu %-12s %-5s | %12.0f %9.1f %9.1f | %12.0f %9.1f %9.1f | %5.2fx %5.2fx | %ld MB\n",
            rows, CodecName(codec), dictionary ? "on" : "off", rows / t.seconds,
            rows * kRawBytesPerRow / t.seconds / 1e6, t.bytes / 1e6, rows / d.seconds,
            rows * kRawBytesPerRow / d.seconds / 1e6, d.bytes / 1e6, d.seconds / t.seconds,
            static_cast<double>(t.bytes) / d.bytes, PeakRssMb());
        std::fflush(stdout);
      }
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
