// The wire-protocol server under load, beside the embedded API in the same run.
//
//   server_bench TABLELAKE_BINARY [SECONDS]   (default 5 s per measurement)
//
// Starts `tablelake serve` on a free port (its own process, as users run it) over a table of
// 100,000 rows (PK1 INTEGER, Col1 STRING 40 bytes, Col2 INTEGER), then for 1, 16 and 64
// keep-alive connections (a thread each, in this process: the load generator shares the
// machine's two cores with the server) sends signed GetRow and PutRow requests as the SDKs
// build them, for SECONDS each, and reports requests/s and p50/p99 latency. The same
// operations through the embedded C++ API, with as many threads, on a store of the same rows.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/base64.h"
#include "common/crypto.h"
#include "proto/tablestore.pb.h"
#include "server/ots_auth.h"
#include "server/plain_buffer.h"
#include "tablelake/table_store.h"

using namespace tablelake;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

namespace {

constexpr int kRows = 100000;
const char* kSecret = "bench-secret";

std::string IsoNow() {
  time_t now = time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", std::gmtime(&now));
  return buf;
}

// A whole HTTP request as the Node.js SDK sends it, signed.
std::string SignedRequest(const std::string& op, const std::string& body) {
  server::Headers h = {{"x-ots-apiversion", "2015-12-31"},
                       {"x-ots-instancename", "bench"},
                       {"x-ots-contentmd5", Base64Encode(Md5(body))},
                       {"x-ots-date", IsoNow()},
                       {"x-ots-accesskeyid", "BENCH"}};
  h.push_back({"x-ots-signature", server::SignV2(kSecret, server::RequestStringToSign(op, h))});
  std::string out = "POST /" + op + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n";
  for (const auto& [k, v] : h) out += k + ": " + v + "\r\n";
  return out + "\r\n" + body;
}

PrimaryKey Key(int64_t id) { return {{"PK1", Value::Integer(id)}}; }
std::vector<Cell> Cells(int64_t id) {
  return {{"Col1", Value::String(std::string(40, static_cast<char>('a' + id % 26))), kNoTimestamp},
          {"Col2", Value::Integer(id), kNoTimestamp}};
}

std::string GetRowBody(int64_t id) {
  wire::GetRowRequest r;
  r.set_table_name("bench");
  r.set_primary_key(server::EncodePrimaryKey(Key(id)));
  r.set_max_versions(1);
  return r.SerializeAsString();
}
std::string PutRowBody(int64_t id) {
  wire::PutRowRequest r;
  r.set_table_name("bench");
  r.set_row(server::EncodeRow(Key(id), Cells(id)));
  r.mutable_condition()->set_row_existence(wire::IGNORE);
  return r.SerializeAsString();
}

int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Reads one response; false on a closed connection or a status other than 200.
bool ReadResponse(int fd, std::string* buf) {
  buf->clear();
  size_t header_end;
  char chunk[16384];
  while ((header_end = buf->find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf->append(chunk, static_cast<size_t>(n));
  }
  size_t cl = buf->find("ontent-Length: ");
  if (cl == std::string::npos) cl = buf->find("ontent-length: ");
  size_t length = cl == std::string::npos ? 0 : std::stoul(buf->substr(cl + 15));
  while (buf->size() < header_end + 4 + length) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf->append(chunk, static_cast<size_t>(n));
  }
  return buf->compare(0, 12, "HTTP/1.1 200") == 0;
}

struct Measured {
  double per_second = 0, p50_ms = 0, p99_ms = 0;
  int64_t errors = 0;
};

Measured Summarize(std::vector<std::vector<double>>& latencies, double seconds, int64_t errors) {
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Measured r;
  r.errors = errors;
  if (all.empty()) return r;
  r.per_second = all.size() / seconds;
  r.p50_ms = all[all.size() / 2] * 1e3;
  r.p99_ms = all[all.size() * 99 / 100] * 1e3;
  return r;
}

// `connections` threads, each on its own keep-alive connection, for `seconds`.
Measured OverHttp(uint16_t port, int connections, double seconds,
                  const std::vector<std::string>& requests) {
  std::vector<std::vector<double>> latencies(connections);
  std::atomic<int64_t> errors{0};
  std::vector<std::thread> threads;
  auto end = Steady::now() + std::chrono::duration<double>(seconds);
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      int fd = Connect(port);
      std::string buf;
      for (size_t i = c * 7919; fd >= 0 && Steady::now() < end; ++i) {
        const std::string& req = requests[i % requests.size()];
        auto t = Steady::now();
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()) ||
            !ReadResponse(fd, &buf)) {
          ++errors;
          ::close(fd);
          fd = Connect(port);
          continue;
        }
        latencies[c].push_back(std::chrono::duration<double>(Steady::now() - t).count());
      }
      if (fd >= 0) ::close(fd);
    });
  }
  for (auto& t : threads) t.join();
  return Summarize(latencies, seconds, errors);
}

Measured Embedded(TableStore& store, int threads_n, double seconds, bool put) {
  std::vector<std::vector<double>> latencies(threads_n);
  std::atomic<int64_t> errors{0};
  std::vector<std::thread> threads;
  auto end = Steady::now() + std::chrono::duration<double>(seconds);
  for (int c = 0; c < threads_n; ++c) {
    threads.emplace_back([&, c] {
      for (int64_t i = c * 7919; Steady::now() < end; ++i) {
        int64_t id = i % kRows;
        auto t = Steady::now();
        bool ok =
            put ? store.PutRow({"bench", Key(id), Cells(id), {}, ReturnType::kNone}).ok()
                : store.GetRow({"bench", Key(id), {}, std::nullopt, 1, std::nullopt, {}}).ok();
        if (!ok) ++errors;
        latencies[c].push_back(std::chrono::duration<double>(Steady::now() - t).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  return Summarize(latencies, seconds, errors);
}

void Load(TableStore& store) {
  TableMeta meta{"bench", {{"PK1", PrimaryKeyType::kInteger}}, {}};
  if (!store.CreateTable(meta).ok()) std::exit(1);
  auto loader = std::move(store.NewBulkLoader("bench")).value();
  for (int64_t id = 0; id < kRows; ++id) {
    if (!loader->Put({"bench", Key(id), Cells(id), {}, ReturnType::kNone}).ok()) std::exit(1);
  }
  if (!loader->Commit().ok()) std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: server_bench TABLELAKE_BINARY [SECONDS]\n");
    return 2;
  }
  double seconds = argc > 2 ? std::atof(argv[2]) : 5;
  fs::path root =
      fs::temp_directory_path() / ("tablelake-server-bench-" + std::to_string(getpid()));
  fs::create_directories(root);
  {  // the server's data folder, loaded before it starts
    auto store = std::move(TableStore::Open((root / "served").string())).value();
    Load(*store);
  }
  int err_pipe[2];
  if (pipe(err_pipe) != 0) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(err_pipe[1], 2);
    setenv("TABLELAKE_ACCESS_KEY_SECRET", kSecret, 1);
    execl(argv[1], argv[1], "serve", "--data", (root / "served").c_str(), "--listen", "127.0.0.1:0",
          "--instance", "bench", "--access-key-id", "BENCH", nullptr);
    _exit(127);
  }
  close(err_pipe[1]);
  std::string log;
  uint16_t port = 0;
  char c;
  while (port == 0 && read(err_pipe[0], &c, 1) == 1) {
    log.push_back(c);
    size_t at = log.find("listening on 127.0.0.1:");
    if (c == '\n' && at != std::string::npos)
      port = static_cast<uint16_t>(std::stoi(log.substr(at + 23)));
  }
  if (port == 0) {
    std::fprintf(stderr, "the server did not start: %s\n", log.c_str());
    return 1;
  }
  std::vector<std::string> gets, puts;
  for (int64_t i = 0; i < 20000; ++i) {
    int64_t id = (i * 7919) % kRows;
    gets.push_back(SignedRequest("GetRow", GetRowBody(id)));
    puts.push_back(SignedRequest("PutRow", PutRowBody(id)));
  }
  auto embedded = std::move(TableStore::Open((root / "embedded").string())).value();
  Load(*embedded);

  std::printf("%-34s %12s %10s %10s %8s\n", "", "requests/s", "p50 ms", "p99 ms", "errors");
  auto row = [](const std::string& label, const Measured& r) {
    std::printf("%-34s %12.0f %10.3f %10.3f %8lld\n", label.c_str(), r.per_second, r.p50_ms,
                r.p99_ms, static_cast<long long>(r.errors));
  };
  for (int n : {1, 16, 64}) {
    std::string conns = ", " + std::to_string(n) + (n == 1 ? " connection" : " connections");
    std::string threads = ", " + std::to_string(n) + (n == 1 ? " thread" : " threads");
    row("GetRow over HTTP" + conns, OverHttp(port, n, seconds, gets));
    row("GetRow embedded" + threads, Embedded(*embedded, n, seconds, false));
    row("PutRow over HTTP" + conns, OverHttp(port, n, seconds, puts));
    row("PutRow embedded" + threads, Embedded(*embedded, n, seconds, true));
  }
  std::printf(
      "(GetRow aim: 25,000 requests/s over HTTP at 16 connections, p99 under 5 ms; the load\n"
      " generator runs on the same 2 cores)\n");
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  embedded.reset();
  fs::remove_all(root);
  return 0;
}
