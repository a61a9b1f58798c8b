#include "objectstore/object_store.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "common/printable.h"
#include "fmt/format.h"

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
    TL_RETURN_IF_ERROR(ValidateObjectKey(key));
    fs::path path = root_ / key;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      return Status::IOError(fmt::format("{}: cannot create folder: {}", Url(key), ec.message()));
    }
    return NewFileSink(path.string());
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

  std::string Url(const std::string& key) const override {
    return "file://" + (key.empty() ? root_.string() : (root_ / key).string());
  }

 private:
  fs::path root_;
};

}  // namespace

namespace {
constexpr std::string_view kFile = "file://";
}  // namespace

bool EndpointNeedsKeys(const std::string& endpoint) { return endpoint.rfind(kFile, 0) != 0; }

namespace {

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
}

// HOST[:PORT] of an http(s) endpoint, nothing after it.
Status CheckHostPort(const std::string& endpoint, std::string_view rest) {
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  size_t colon = rest.rfind(':');
  std::string_view host = rest.substr(0, colon);
  if (host.empty() || !std::all_of(host.begin(), host.end(), IsHostChar)) {
    return Status::InvalidArgument(fmt::format("endpoint '{}': '{}' is not a host name or address",
                                               Printable(endpoint), Printable(host)));
  }
  if (colon != std::string_view::npos) {
    std::string_view port = rest.substr(colon + 1);
    int value = 0;
    bool digits =
        !port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) value = std::stoi(std::string(port));
    if (!digits || value < 1 || value > 65535) {
      return Status::InvalidArgument(fmt::format("endpoint '{}': port '{}' is not 1-65535",
                                                 Printable(endpoint), Printable(port)));
    }
  }
  return Status::OK();
}

}  // namespace

Status ValidateBucketLocation(const std::string& endpoint, const std::string& bucket) {
  TL_RETURN_IF_ERROR(ValidateBucketName(bucket));
  if (endpoint.rfind(kFile, 0) == 0) {
    if (!fs::path(endpoint.substr(kFile.size())).is_absolute()) {
      return Status::InvalidArgument(
          fmt::format("endpoint '{}': a file endpoint needs an absolute path, file:///ABS/DIR",
                      Printable(endpoint)));
    }
    return Status::OK();
  }
  for (std::string_view scheme :
       {"http://", "https://", "s3+http://", "s3+https://", "oss+http://", "oss+https://"}) {
    if (endpoint.rfind(scheme, 0) == 0) {
      return CheckHostPort(endpoint, std::string_view(endpoint).substr(scheme.size()));
    }
  }
  // The seed's form: an OSS endpoint without a scheme, oss-cn-hangzhou.aliyuncs.com.
  if (endpoint.find("://") == std::string::npos && endpoint.find('/') == std::string::npos &&
      endpoint.size() > 13 && endpoint.compare(endpoint.size() - 13, 13, ".aliyuncs.com") == 0) {
    return CheckHostPort(endpoint, endpoint);
  }
  if (!endpoint.empty() && endpoint[0] == '/') {
    return Status::InvalidArgument(
        fmt::format("endpoint '{}' is a path, not an endpoint: a local folder is file://{}",
                    Printable(endpoint), Printable(endpoint)));
  }
  return Status::InvalidArgument(
      fmt::format("endpoint '{}' is not one of file:///ABS/DIR, http(s)://HOST[:PORT], "
                  "s3+http(s)://HOST[:PORT], oss+http(s)://HOST[:PORT] or an OSS endpoint such as "
                  "oss-cn-hangzhou.aliyuncs.com",
                  Printable(endpoint)));
}

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
  if (EndpointNeedsKeys(endpoint)) {
    return Status::NotSupported(fmt::format(
        "endpoint '{}': only file:///ABS/DIR endpoints are supported so far (S3/OSS: coming)",
        endpoint));
  }
  fs::path dir = endpoint.substr(kFile.size());
  if (!dir.is_absolute()) {
    return Status::InvalidArgument(fmt::format(
        "endpoint '{}': a file endpoint needs an absolute path, file:///ABS/DIR", endpoint));
  }
  fs::path root = dir / bucket;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return Status::NotFound(
        fmt::format("bucket '{}' does not exist: no folder {}", bucket, root.string()));
  }
  return std::unique_ptr<ObjectStore>(std::make_unique<LocalFolderStore>(root));
}

}  // namespace tablelake
