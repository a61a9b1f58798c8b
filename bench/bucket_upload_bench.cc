// Uploads files into a bucket through Tablelake's object-store client, as a delivery's files
// are written (1 MiB appends into a sink, published at Commit), each streamed from its file,
// and prints the seconds taken.
//   bucket_upload_bench ENDPOINT BUCKET FILE...   (keys: $BENCH_KEY_ID, $BENCH_KEY_SECRET)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

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
  std::string chunk(1 << 20, '\0');
  for (int i = 3; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    auto sink = (*bucket)->NewObject("bench/" + std::to_string(i) + ".parquet");
    Status s = sink.ok() ? Status::OK() : sink.status();
    // Streamed from the file as the peer's upload is, 1 MiB at a time.
    while (s.ok() && in) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      if (in.gcount() > 0) {
        s = (*sink)->Append(std::string_view(chunk.data(), static_cast<size_t>(in.gcount())));
      }
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
