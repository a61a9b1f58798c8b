// One conformance suite for every ObjectStore: a local folder, and S3 and OSS endpoints served
// on 127.0.0.1 by tests/interop/bucket_server.mjs (s3rver behind a front that checks every
// signature with independent code).
#include "objectstore/object_store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <random>

#include "fmt/format.h"
#include "objectstore/endpoint.h"
#include "objectstore/memory_store.h"
#include "objectstore/remote_bucket.h"

namespace tablelake {
namespace {

namespace fs = std::filesystem;

// A bucket server started for the test, stopped when it goes.
class BucketServer {
 public:
  BucketServer(const std::string& protocol, const std::string& buckets) {
    std::string cmd =
        std::string("BUCKET_SERVER_SECRET=test-secret exec node --openssl-legacy-provider '") +
        TABLELAKE_SOURCE_DIR + "/tests/interop/bucket_server.mjs' --protocol " + protocol +
        " --key AKIDTEST --buckets " + buckets;
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      _exit(127);
    }
    close(out[1]);
    FILE* f = fdopen(out[0], "r");
    char line[512] = {0};
    if (f && std::fgets(line, sizeof(line), f)) std::sscanf(line, "{\"port\":%d", &port_);
    if (f) std::fclose(f);
  }
  ~BucketServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

struct Backend {
  std::string name;
  std::string protocol;  // memory, folder, s3, oss
  std::string oss_signature = "";
};

class ObjectStoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    keys_ = {"AKIDTEST", "test-secret", "", "cn-hangzhou", GetParam().oss_signature};
    root_ = fs::temp_directory_path() / ("tablelake-os-" + std::to_string(std::random_device{}()));
    fs::create_directories(root_ / "bucket");
    if (GetParam().protocol == "s3" || GetParam().protocol == "oss") {
      server_ = std::make_unique<BucketServer>(GetParam().protocol, "bucket");
      ASSERT_GT(server_->port(), 0) << "the bucket server did not start";
    }
    auto store = Open("bucket", keys_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    server_.reset();
    fs::remove_all(root_);
  }
  std::string Endpoint() const {
    if (GetParam().protocol == "folder") return "file://" + root_.string();
    return GetParam().protocol + "+http://127.0.0.1:" + std::to_string(server_->port());
  }
  Result<std::unique_ptr<ObjectStore>> Open(const std::string& bucket, const CredentialSet& keys,
                                            int part_bytes = 5 << 20, int list_page = 1000) {
    if (GetParam().protocol == "memory") {
      return std::unique_ptr<ObjectStore>(NewMemoryObjectStore(bucket));
    }
    if (GetParam().protocol == "folder") return OpenObjectStore(Endpoint(), bucket, &keys);
    auto e = objectstore::ParseEndpoint(Endpoint());
    if (!e.ok()) return e.status();
    objectstore::RemoteBucketOptions options;
    options.part_bytes = part_bytes;
    options.list_page = list_page;
    options.max_attempts = 2;
    return objectstore::OpenRemoteBucket(*e, bucket, keys, keys.region, options);
  }

  CredentialSet keys_;
  fs::path root_;
  std::unique_ptr<BucketServer> server_;
  std::unique_ptr<ObjectStore> store_;
};

std::string Bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

TEST_P(ObjectStoreConformance, PutGetListDelete) {
  // Keys with the characters signers trip over.
  std::vector<std::string> keys = {"plain.txt", "sample/year=2026/month=05/a b+c~.parquet",
                                   "odd/100%+x=y&z.bin", "utf8/d\xc3\xa9j\xc3\xa0-vu.json"};
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_TRUE(store_->PutObject(keys[i], Bytes(100 + i, i)).ok()) << keys[i];
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    auto got = store_->GetObject(keys[i]);
    ASSERT_TRUE(got.ok()) << keys[i] << ": " << got.status().ToString();
    EXPECT_EQ(*got, Bytes(100 + i, i)) << keys[i];
  }
  auto listed = store_->List("sample/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, keys[1]);
  EXPECT_EQ((*listed)[0].size, 101);
  ASSERT_TRUE(store_->DeleteObject(keys[1]).ok());
  EXPECT_EQ(store_->GetObject(keys[1]).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->DeleteObject(keys[1]).ok());  // deleting a missing object succeeds
  EXPECT_EQ(store_->List("")->size(), 3u);
}

TEST_P(ObjectStoreConformance, LargeObjectsStreamInPartsAndAppearWhole) {
  auto store = Open("bucket", keys_, /*part_bytes=*/5 << 20);
  ASSERT_TRUE(store.ok());
  std::string data = Bytes((23 << 20) + 12345, 7);
  auto sink = (*store)->NewObject("big/file.parquet");
  ASSERT_TRUE(sink.ok());
  // Appends that end anywhere in a part, and one that fills more than a part by itself.
  const size_t steps[] = {1 << 20, 777777, (11 << 20) + 1};
  for (size_t at = 0, i = 0; at < data.size(); at += steps[i++ % 3]) {
    ASSERT_TRUE((*sink)->Append(std::string_view(data).substr(at, steps[i % 3])).ok());
    EXPECT_TRUE((*store)->List("big/")->empty());  // nothing visible before Commit
  }
  EXPECT_EQ((*sink)->Tell(), static_cast<int64_t>(data.size()));
  ASSERT_TRUE((*sink)->Commit().ok());
  auto got = (*store)->GetObject("big/file.parquet");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
  // Abandoned halfway: nothing appears.
  auto abandoned = (*store)->NewObject("big/abandoned.parquet");
  ASSERT_TRUE((*abandoned)->Append(Bytes(11 << 20, 8)).ok());
  (*abandoned)->Abort();
  auto listed = (*store)->List("big/");
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, "big/file.parquet");
}

// Where the store can, a publication refuses to replace another object: a replay never
// overwrites a different file.
TEST_P(ObjectStoreConformance, PublishingIfAbsentNeverReplaces) {
  ASSERT_TRUE(store_->PutObject("once/a.parquet", "first").ok());
  // One PUT, and a multipart upload (parts of 5 MiB, store_'s own default being larger).
  for (size_t size : {size_t{5}, size_t{(9 << 20) + 3}}) {
    auto sink = store_->NewObjectIfAbsent("once/a.parquet");
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Append(Bytes(size, 3)).ok());
    Status s = (*sink)->Commit();
    EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << size << ": " << s.ToString();
    EXPECT_TRUE(*store_->GetObject("once/a.parquet") == "first") << size;
  }
  auto fresh = store_->NewObjectIfAbsent("once/b.parquet");
  ASSERT_TRUE((*fresh)->Append("second").ok());
  ASSERT_TRUE((*fresh)->Commit().ok());
  EXPECT_EQ(*store_->GetObject("once/b.parquet"), "second");
  EXPECT_TRUE(
      store_->AbortIncompleteUploads("once/", [](const std::string&) { return true; }).ok());
}

TEST_P(ObjectStoreConformance, ListingsPage) {
  auto store = Open("bucket", keys_, 5 << 20, /*list_page=*/7);
  ASSERT_TRUE(store.ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE((*store)->PutObject("many/" + std::to_string(100 + i), "x").ok());
  }
  auto listed = (*store)->List("many/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ((*listed)[i].key, "many/" + std::to_string(100 + i));
}

TEST_P(ObjectStoreConformance, WrongKeysAndMissingBucketsAreToldApart) {
  if (!server_) GTEST_SKIP() << "a folder or memory has no keys";
  CredentialSet wrong = keys_;
  wrong.access_key_secret = "not-the-secret";
  auto refused = Open("bucket", wrong);
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << refused.status().ToString();
  EXPECT_EQ(refused.status().message().find("not-the-secret"), std::string::npos);
  auto missing = Open("nosuchbucket", keys_);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
}

// A folder bucket creates an object's folders and file only when its bytes are written: an
// abandoned object leaves nothing behind, not even its folders; a folder that cannot be made is
// named in the error.
TEST(FolderBucket, ObjectsAppearOnlyWhenWritten) {
  fs::path root = fs::temp_directory_path() / fmt::format("tl-folder-{}", getpid());
  fs::remove_all(root);
  fs::create_directories(root / "b");
  auto store = OpenObjectStore("file://" + root.string(), "b", nullptr);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  {
    auto abandoned = (*store)->NewObject("y=2026/m=11/a.parquet");
    ASSERT_TRUE(abandoned.ok());
    ASSERT_TRUE((*abandoned)->Append("some bytes").ok());
    EXPECT_FALSE(fs::exists(root / "b" / "y=2026"));
  }
  EXPECT_FALSE(fs::exists(root / "b" / "y=2026"));
  auto sink = (*store)->NewObjectIfAbsent("y=2026/m=11/a.parquet");
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Append(std::string(3 << 20, 'x')).ok());  // past the 1 MiB buffer
  EXPECT_EQ((*store)->List("")->size(), 0u);                     // written, not published
  ASSERT_TRUE((*sink)->Commit().ok());
  EXPECT_EQ(fs::file_size(root / "b" / "y=2026" / "m=11" / "a.parquet"), 3u << 20);
  // An empty object is an object.
  ASSERT_TRUE((*store)->PutObject("y=2026/_SUCCESS", "").ok());
  EXPECT_EQ(fs::file_size(root / "b" / "y=2026" / "_SUCCESS"), 0u);
  // A file where a folder must go.
  ASSERT_TRUE((*store)->PutObject("blocker", "x").ok());
  Status s = (*store)->PutObject("blocker/inside/c.parquet", "x");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("blocker"), std::string::npos) << s.ToString();
  EXPECT_EQ((*store)->List("")->size(), 3u);
  fs::remove_all(root);
}

void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

INSTANTIATE_TEST_SUITE_P(Backends, ObjectStoreConformance,
                         ::testing::Values(Backend{"Memory", "memory"}, Backend{"Folder", "folder"},
                                           Backend{"S3", "s3"}, Backend{"Oss", "oss"}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tablelake
