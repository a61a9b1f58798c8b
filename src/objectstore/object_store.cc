#include "objectstore/object_store.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "common/printable.h"
#include "fmt/format.h"
#include "objectstore/endpoint.h"
#include "objectstore/remote_bucket.h"

namespace tablelake {
namespace fs = std::filesystem;

Status ObjectStore::PutObject(const std::string& key, std::string_view data) {
  TL_ASSIGN_OR_RETURN(auto sink, NewObject(key));
  TL_RETURN_IF_ERROR(sink->Append(data));
  return sink->Commit();
}

Status ValidateObjectKey(const std::string& key) {
  if (key.empty() || key.front() == '/' || key.back() == '/' ||
      key.find('\0') != std::string::npos) {
    return Status::InvalidArgument(fmt::format("object key '{}' is not a relative file key", key));
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t slash = key.find('/', start);
    std::string part =
        key.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == "..") {
      return Status::InvalidArgument(
          fmt::format("object key '{}' has an empty, '.' or '..' part", key));
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return Status::OK();
}

namespace {

class LocalFolderStore : public ObjectStore {
 public:
  explicit LocalFolderStore(fs::path root) : root_(std::move(root)) {}

  Result<std::unique_ptr<Sink>> NewObject(const std::string& key) override {
    return Open(key, /*no_replace=*/false);
  }
  Result<std::unique_ptr<Sink>> NewObjectIfAbsent(const std::string& key) override {
    return Open(key, /*no_replace=*/true);
  }

  Result<std::string> GetObject(const std::string& key) override {
    TL_RETURN_IF_ERROR(ValidateObjectKey(key));
    std::ifstream in(root_ / key, std::ios::binary);
    if (!in) return Status::NotFound(fmt::format("{}: no such object", Url(key)));
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    std::vector<ObjectInfo> out;
    std::error_code ec;
    // Start from the deepest folder the prefix names, then filter by the full prefix.
    fs::path start =
        root_ / prefix.substr(0, prefix.rfind('/') == std::string::npos ? 0 : prefix.rfind('/'));
    if (!fs::exists(start, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(start, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string name = it->path().filename().string();
      if (!name.empty() && name[0] == '.') continue;  // in-flight temporaries
      std::string key = fs::relative(it->path(), root_).generic_string();
      if (key.compare(0, prefix.size(), prefix) != 0) continue;
      out.push_back({key, static_cast<int64_t>(it->file_size())});
    }
    if (ec)
      return Status::IOError(fmt::format("{}: listing failed: {}", Url(prefix), ec.message()));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    return out;
  }

  Status DeleteObject(const std::string& key) override {
    TL_RETURN_IF_ERROR(ValidateObjectKey(key));
    std::error_code ec;
    fs::remove(root_ / key, ec);
    if (ec) return Status::IOError(fmt::format("{}: delete failed: {}", Url(key), ec.message()));
    return Status::OK();
  }

  // A writer's temporary is ".<name>.tmp-<8 hex digits>" beside the object (NewFileSink).
  Status AbortIncompleteUploads(
      const std::string& prefix,
      const std::function<bool(const std::string& name)>& matches) override {
    std::error_code ec;
    fs::path start =
        root_ / prefix.substr(0, prefix.rfind('/') == std::string::npos ? 0 : prefix.rfind('/'));
    if (!fs::exists(start, ec)) return Status::OK();
    std::vector<fs::path> abandoned;
    for (auto it = fs::recursive_directory_iterator(start, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      size_t tmp = name.rfind(".tmp-");
      if (!it->is_regular_file() || name.size() < 2 || name[0] != '.' || tmp == std::string::npos) {
        continue;
      }
      if (matches(name.substr(1, tmp - 1))) abandoned.push_back(it->path());
    }
    for (const auto& path : abandoned) fs::remove(path, ec);
    if (ec)
      return Status::IOError(fmt::format("{}: cleanup failed: {}", Url(prefix), ec.message()));
    return Status::OK();
  }

  std::string Url(const std::string& key) const override {
    return "file://" + (key.empty() ? root_.string() : (root_ / key).string());
  }

 private:
  Result<std::unique_ptr<Sink>> Open(const std::string& key, bool no_replace) {
    TL_RETURN_IF_ERROR(ValidateObjectKey(key));
    // Deferred: the object's folder and file appear when its bytes are written, on the thread
    // that finishes it (delivery finishes small files beside the thread that converts rows).
    return NewFileSink((root_ / key).string(), /*sync=*/false, no_replace, /*deferred=*/true);
  }

  fs::path root_;
};

}  // namespace

namespace {
constexpr std::string_view kFile = "file://";
}  // namespace

Status ValidateBucketName(const std::string& bucket) {
  bool chars = std::all_of(bucket.begin(), bucket.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  if (bucket.empty() || bucket.size() > 63 || !chars || bucket[0] == '.' ||
      bucket.find("..") != std::string::npos) {
    return Status::InvalidArgument(fmt::format(
        "bucket name '{}' is invalid: 1 to 63 letters, digits, '-', '_' or '.', not starting "
        "with '.' (S3 and OSS also want 3 to 63 lowercase)",
        Printable(bucket)));
  }
  return Status::OK();
}

std::string BucketWarning(const std::string& endpoint, const std::string& bucket) {
  if (endpoint.rfind(kFile, 0) != 0) return "";
  fs::path root = fs::path(endpoint.substr(kFile.size())) / bucket;
  std::error_code ec;
  if (fs::is_directory(root, ec)) return "";
  return fmt::format(
      "the bucket folder {} does not exist yet: create it before the task runs (until then the "
      "task reports INVALID_OSS_BUCKET)",
      root.string());
}

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& endpoint,
                                                     const std::string& bucket,
                                                     const CredentialSet* keys) {
  TL_RETURN_IF_ERROR(ValidateBucketName(bucket));
  TL_ASSIGN_OR_RETURN(objectstore::Endpoint e, objectstore::ParseEndpoint(endpoint));
  if (e.protocol != objectstore::Protocol::kFolder) {
    if (keys == nullptr) {
      return Status::PermissionDenied(fmt::format("endpoint '{}' needs keys", endpoint));
    }
    return objectstore::OpenRemoteBucket(e, bucket, *keys, keys->region);
  }
  fs::path root = fs::path(e.folder) / bucket;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return Status::NotFound(
        fmt::format("bucket '{}' does not exist: no folder {}", bucket, root.string()));
  }
  return std::unique_ptr<ObjectStore>(std::make_unique<LocalFolderStore>(root));
}

BucketRegistry::BucketRegistry() {
  Register("file", OpenObjectStore, /*needs_keys=*/false);
  Register("s3", OpenObjectStore, /*needs_keys=*/true);
  Register("oss", OpenObjectStore, /*needs_keys=*/true);
}

const BucketRegistry& BucketRegistry::Default() {
  static const BucketRegistry* registry = new BucketRegistry();
  return *registry;
}

void BucketRegistry::Register(const std::string& scheme, Opener open, bool needs_keys) {
  schemes_[scheme] = Scheme{std::move(open), needs_keys};
}

Result<const BucketRegistry::Scheme*> BucketRegistry::Find(const std::string& endpoint) const {
  auto parsed = objectstore::ParseEndpoint(endpoint);
  if (!parsed.ok()) {
    // Not a built-in form: a scheme of its own, if one is registered under that name (a
    // malformed file:// endpoint stays an error).
    size_t colon = endpoint.find("://");
    std::string literal = colon == std::string::npos ? "" : endpoint.substr(0, colon);
    auto own = literal == "file" ? schemes_.end() : schemes_.find(literal);
    if (own == schemes_.end()) return parsed.status();
    return &own->second;
  }
  const char* name = parsed->protocol == objectstore::Protocol::kFolder ? "file"
                     : parsed->protocol == objectstore::Protocol::kS3   ? "s3"
                                                                        : "oss";
  auto found = schemes_.find(name);
  if (found == schemes_.end()) {
    return Status::InvalidArgument(
        fmt::format("endpoint '{}': no bucket store is registered for {}", endpoint, name));
  }
  return &found->second;
}

Result<std::unique_ptr<ObjectStore>> BucketRegistry::Open(const std::string& endpoint,
                                                          const std::string& bucket,
                                                          const CredentialSet* keys) const {
  TL_RETURN_IF_ERROR(ValidateBucketName(bucket));
  TL_ASSIGN_OR_RETURN(const Scheme* scheme, Find(endpoint));
  return scheme->open(endpoint, bucket, keys);
}

Status BucketRegistry::Validate(const std::string& endpoint, const std::string& bucket) const {
  TL_RETURN_IF_ERROR(ValidateBucketName(bucket));
  return Find(endpoint).status();
}

bool BucketRegistry::NeedsKeys(const std::string& endpoint) const {
  auto scheme = Find(endpoint);
  return !scheme.ok() || (*scheme)->needs_keys;
}

}  // namespace tablelake
