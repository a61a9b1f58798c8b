#include "objectstore/endpoint.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <regex>

#include "common/printable.h"
#include "fmt/format.h"

namespace tablelake::objectstore {
namespace {

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool IsIpOrLocalhost(const std::string& host) {
  static const std::regex kIpv4(R"(^\d{1,3}(\.\d{1,3}){3}$)");
  return host == "localhost" || std::regex_match(host, kIpv4);
}

Status Bad(const std::string& endpoint, const std::string& why) {
  return Status::InvalidArgument(fmt::format("endpoint '{}': {}", Printable(endpoint), why));
}

// HOST[:PORT] with nothing after it but an optional '/'.
Status ParseHostPort(const std::string& endpoint, std::string rest, Endpoint* e) {
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (!rest.empty() && rest[0] == '[') return Bad(endpoint, "IPv6 hosts are not supported");
  size_t colon = rest.rfind(':');
  e->host = rest.substr(0, colon);
  bool host_ok = !e->host.empty() && std::all_of(e->host.begin(), e->host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
  if (!host_ok) {
    return Bad(endpoint, fmt::format("'{}' is not a host name or address", Printable(e->host)));
  }
  for (char& c : e->host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (colon != std::string::npos) {
    std::string port = rest.substr(colon + 1);
    bool digits =
        !port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    e->port = digits ? std::stoi(port) : 0;
    if (e->port < 1 || e->port > 65535) {
      return Bad(endpoint, fmt::format("port '{}' is not 1-65535", Printable(port)));
    }
  }
  return Status::OK();
}

bool IsOssHost(const std::string& host) {
  return host.rfind("oss-", 0) == 0 && EndsWith(host, ".aliyuncs.com");
}

void FillAddressing(Endpoint* e) {
  e->path_style = IsIpOrLocalhost(e->host);
  std::smatch m;
  if (e->protocol == Protocol::kS3) {
    static const std::regex kRegion(R"(^(?:.*\.)?s3[.-]([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$)");
    if (std::regex_match(e->host, m, kRegion) && m[1] != "external-1") e->region = m[1];
  } else {
    static const std::regex kRegion(R"(^oss-([a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$)");
    if (std::regex_match(e->host, m, kRegion)) e->region = m[1];
  }
}

}  // namespace

std::string Endpoint::HostHeader() const {
  return port == 0 ? host : host + ":" + std::to_string(port);
}

std::string Endpoint::BucketHost(const std::string& bucket) const {
  std::string h = path_style ? host : bucket + "." + host;
  return port == 0 ? h : h + ":" + std::to_string(port);
}

Result<Endpoint> ParseEndpoint(const std::string& endpoint) {
  Endpoint e;
  constexpr std::string_view kFile = "file://";
  if (endpoint.rfind(kFile, 0) == 0) {
    e.folder = endpoint.substr(kFile.size());
    if (!std::filesystem::path(e.folder).is_absolute()) {
      return Bad(endpoint, "a file endpoint needs an absolute path, file:///ABS/DIR");
    }
    return e;
  }
  struct Scheme {
    const char* prefix;
    bool https;
    int protocol;  // 0: by host, 1: S3, 2: OSS
  };
  static const Scheme kSchemes[] = {{"s3+https://", true, 1},  {"s3+http://", false, 1},
                                    {"oss+https://", true, 2}, {"oss+http://", false, 2},
                                    {"https://", true, 0},     {"http://", false, 0}};
  for (const Scheme& s : kSchemes) {
    if (endpoint.rfind(s.prefix, 0) != 0) continue;
    e.https = s.https;
    TL_RETURN_IF_ERROR(ParseHostPort(endpoint, endpoint.substr(strlen(s.prefix)), &e));
    e.protocol =
        s.protocol == 2 || (s.protocol == 0 && IsOssHost(e.host)) ? Protocol::kOss : Protocol::kS3;
    FillAddressing(&e);
    return e;
  }
  if (endpoint.find("://") == std::string::npos && endpoint.find('/') == std::string::npos) {
    TL_RETURN_IF_ERROR(ParseHostPort(endpoint, endpoint, &e));
    if (IsOssHost(e.host)) {
      e.protocol = Protocol::kOss;
      FillAddressing(&e);
      return e;
    }
  }
  if (!endpoint.empty() && endpoint[0] == '/') {
    return Bad(endpoint, fmt::format("a path, not an endpoint: a local folder is file://{}",
                                     Printable(endpoint)));
  }
  return Bad(endpoint,
             "not one of file:///ABS/DIR, http(s)://HOST[:PORT], s3+http(s)://HOST[:PORT], "
             "oss+http(s)://HOST[:PORT] or an OSS endpoint such as oss-cn-hangzhou.aliyuncs.com");
}

}  // namespace tablelake::objectstore
