// Uploads files into a bucket through Tablelake's object-store client, as a delivery's files
// are written (1 MiB appends into a sink, published at Commit), and prints the seconds taken.
//   bucket_upload_bench ENDPOINT BUCKET FILE...   (keys: $BENCH_KEY_ID, $BENCH_KEY_SECRET)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "objectstore/object_store.h"

int main(int argc, char** argv) {
  using namespace tablelake;
  if (argc < 4) {
    std::fprintf(stderr, "usage: bucket_upload_bench ENDPOINT BUCKET FILE...\n");
    return 2;
  }
  const char* id = std::getenv("BENCH_KEY_ID");
  const char* secret = std::getenv("BENCH_KEY_SECRET");
  CredentialSet keys{id ? id : "", secret ? secret : "", "", ""};
  auto start = std::chrono::steady_clock::now();
  auto bucket = OpenObjectStore(argv[1], argv[2], &keys);
  if (!bucket.ok()) {
    std::fprintf(stderr, "%s\n", bucket.status().ToString().c_str());
    return 1;
  }
  for (int i = 3; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto sink = (*bucket)->NewObject("bench/" + std::to_string(i) + ".parquet");
    Status s = sink.ok() ? Status::OK() : sink.status();
    for (size_t at = 0; s.ok() && at < data.size(); at += 1 << 20) {
      s = (*sink)->Append(std::string_view(data).substr(at, 1 << 20));
    }
    if (s.ok()) s = (*sink)->Commit();
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  }
  std::printf("%.3f\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return 0;
}
