// The file system's floor under a delivery into many partitions (bench/partitions_bench.mjs):
// the same number of hive-style hourly folders (year=/month=/day=/hour=), each given one file
// of the same size the way any atomic publisher must (a temporary name, written, closed, then
// renamed into place without replacing), on as many threads as the machine has cores, and
// nothing else: no rows, no encoding. A delivery cannot write its partitions in less.
//   partition_files_floor DIR FILES BYTES [THREADS]   prints {"seconds": S, "files": N}
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace {

// Makes `dir` and the folders above it that are missing, as `mkdir -p`.
bool MakeFolders(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return true;
  if (errno != ENOENT) return false;
  size_t slash = dir.rfind('/');
  return slash != std::string::npos && slash > 0 && MakeFolders(dir.substr(0, slash)) &&
         (::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST);
}

bool Publish(const std::string& root, long hour, const std::string& body) {
  std::time_t t = 1700000000 + hour * 3600;  // 2023-11-14, as the benchmark's rows
  std::tm tm;
  gmtime_r(&t, &tm);
  char dir[4096];
  std::snprintf(dir, sizeof(dir), "%s/year=%04d/month=%02d/day=%02d/hour=%02d", root.c_str(),
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
  if (!MakeFolders(dir)) return false;
  std::string temp = std::string(dir) + "/.part-00000.parquet.tmp";
  std::string name = std::string(dir) + "/part-00000.parquet";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool written = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size());
  ::close(fd);
  return written &&
         ::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, name.c_str(), RENAME_NOREPLACE) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s DIR FILES BYTES [THREADS]\n", argv[0]);
    return 2;
  }
  const std::string root = argv[1];
  const long files = std::atol(argv[2]);
  const std::string body(static_cast<size_t>(std::atol(argv[3])), 'x');
  const long threads = argc > 4 ? std::atol(argv[4]) : std::thread::hardware_concurrency();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  std::vector<char> failed(static_cast<size_t>(threads), 0);
  for (long t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (long hour = t; hour < files; hour += threads) {
        if (!Publish(root, hour, body)) {
          std::perror(root.c_str());
          failed[static_cast<size_t>(t)] = 1;
          return;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (char f : failed) {
    if (f) return 1;
  }
  std::printf("{\"seconds\": %.4f, \"files\": %ld, \"threads\": %ld}\n", seconds, files, threads);
  return 0;
}
