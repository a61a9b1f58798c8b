#include "objectstore/oss_signer.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <set>

#include "common/base64.h"
#include "common/crypto.h"
#include "objectstore/sigv4.h"

namespace tablelake::objectstore {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsSubResource(const std::string& name) {
  static const std::set<std::string> kNames = {"acl",
                                               "uploads",
                                               "location",
                                               "cors",
                                               "logging",
                                               "website",
                                               "referer",
                                               "lifecycle",
                                               "delete",
                                               "append",
                                               "tagging",
                                               "objectMeta",
                                               "uploadId",
                                               "partNumber",
                                               "security-token",
                                               "position",
                                               "symlink",
                                               "restore",
                                               "continuation-token",
                                               "response-content-type",
                                               "response-content-language",
                                               "response-expires",
                                               "response-cache-control",
                                               "response-content-disposition",
                                               "response-content-encoding"};
  return kNames.count(name) > 0;
}

std::string Trim(const std::string& v) {
  size_t b = v.find_first_not_of(" \t");
  size_t e = v.find_last_not_of(" \t");
  return b == std::string::npos ? "" : v.substr(b, e - b + 1);
}

}  // namespace

std::string HttpDate(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  tm utc;
  gmtime_r(&t, &utc);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[utc.tm_wday],
                utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return buf;
}

std::string OssSigner::StringToSign(const HttpRequest& r) const {
  std::map<std::string, std::string> oss_headers;
  for (const auto& [k, v] : r.headers) {
    std::string name = Lower(k);
    if (name.rfind("x-oss-", 0) == 0) oss_headers[name] = v;
  }
  std::string canonical;
  for (const auto& [k, v] : oss_headers) canonical += k + ":" + v + "\n";
  std::string resource = Resource(r);
  std::vector<std::pair<std::string, std::string>> sub;
  for (const auto& [k, v] : r.query) {
    if (IsSubResource(k)) sub.emplace_back(k, v);
  }
  std::sort(sub.begin(), sub.end());
  for (size_t i = 0; i < sub.size(); ++i) {
    resource +=
        (i == 0 ? "?" : "&") + sub[i].first + (sub[i].second.empty() ? "" : "=" + sub[i].second);
  }
  // As OSS's own SDKs do, the time travels as x-oss-date, which takes the Date slot.
  std::string date = r.Header("x-oss-date");
  if (date.empty()) date = r.Header("Date");
  return r.method + "\n" + r.Header("Content-MD5") + "\n" + r.Header("Content-Type") + "\n" + date +
         "\n" + canonical + resource;
}

std::string OssSigner::Resource(const HttpRequest& r) const {
  std::string bucket_path = "/" + bucket_ + "/";
  if (r.path.rfind(bucket_path, 0) == 0) return r.path;
  return "/" + bucket_ + r.path;
}

void OssSigner::SignV4(HttpRequest* r, int64_t unix_seconds) const {
  std::string stamp = AmzDate(unix_seconds);  // 20261202T012300Z
  std::string day = stamp.substr(0, 8);
  r->SetHeader("x-oss-date", stamp);
  r->SetHeader("x-oss-content-sha256", "UNSIGNED-PAYLOAD");
  if (!keys_.security_token.empty()) r->SetHeader("x-oss-security-token", keys_.security_token);
  std::map<std::string, std::string> signed_headers;
  for (const auto& [k, v] : r->headers) {
    std::string name = Lower(k);
    if (name == "content-type" || name == "content-md5" || name.rfind("x-oss-", 0) == 0) {
      signed_headers[name] = Trim(v);
    }
  }
  std::string headers;
  for (const auto& [k, v] : signed_headers) headers += k + ":" + v + "\n";
  // A sub-resource without a value is signed as its name alone ("uploads"); any other
  // parameter as "name=value", even when the value is empty (as OSS's SDKs sign them).
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [k, v] : r->query) {
    bool bare = v.empty() && IsSubResource(k);
    query.emplace_back(UriEncode(k, true), bare ? "" : "=" + UriEncode(v, true));
  }
  std::sort(query.begin(), query.end());
  std::string canonical_query;
  for (const auto& [k, v] : query) canonical_query += (canonical_query.empty() ? "" : "&") + k + v;
  std::string canonical = r->method + "\n" + UriEncode(Resource(*r), false) + "\n" +
                          canonical_query + "\n" + headers + "\n\n" + "UNSIGNED-PAYLOAD";
  std::string scope = day + "/" + region_ + "/oss/aliyun_v4_request";
  std::string to_sign = "OSS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + Hex(Sha256(canonical));
  std::string key = HmacSha256("aliyun_v4" + keys_.access_key_secret, day);
  key = HmacSha256(key, region_);
  key = HmacSha256(key, "oss");
  key = HmacSha256(key, "aliyun_v4_request");
  r->SetHeader("Authorization", "OSS4-HMAC-SHA256 Credential=" + keys_.access_key_id + "/" + scope +
                                    ",Signature=" + Hex(HmacSha256(key, to_sign)));
}

void OssSigner::Sign(HttpRequest* r, int64_t unix_seconds) const {
  r->headers.erase(std::remove_if(r->headers.begin(), r->headers.end(),
                                  [](const auto& h) { return Lower(h.first) == "authorization"; }),
                   r->headers.end());
  r->SetHeader("Host", r->host);
  if (keys_.oss_signature == "v4") return SignV4(r, unix_seconds);
  r->SetHeader("Date", HttpDate(unix_seconds));
  r->SetHeader("x-oss-date", HttpDate(unix_seconds));
  if (!keys_.security_token.empty()) r->SetHeader("x-oss-security-token", keys_.security_token);
  std::string signature = Base64Encode(HmacSha1(keys_.access_key_secret, StringToSign(*r)));
  r->SetHeader("Authorization", "OSS " + keys_.access_key_id + ":" + signature);
}

}  // namespace tablelake::objectstore
