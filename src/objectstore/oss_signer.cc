#include "objectstore/oss_signer.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <set>

#include "common/base64.h"
#include "objectstore/crypto.h"

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
  // The resource is /bucket/key whatever the addressing: strip a path-style bucket.
  std::string key = r.path;
  std::string bucket_path = "/" + bucket_ + "/";
  if (key.rfind(bucket_path, 0) == 0) key = key.substr(bucket_path.size() - 1);
  std::string resource = "/" + bucket_ + key;
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

void OssSigner::Sign(HttpRequest* r, int64_t unix_seconds) const {
  r->headers.erase(std::remove_if(r->headers.begin(), r->headers.end(),
                                  [](const auto& h) { return Lower(h.first) == "authorization"; }),
                   r->headers.end());
  r->SetHeader("Host", r->host);
  r->SetHeader("Date", HttpDate(unix_seconds));
  r->SetHeader("x-oss-date", HttpDate(unix_seconds));
  if (!keys_.security_token.empty()) r->SetHeader("x-oss-security-token", keys_.security_token);
  std::string signature = Base64Encode(HmacSha1(keys_.access_key_secret, StringToSign(*r)));
  r->SetHeader("Authorization", "OSS " + keys_.access_key_id + ":" + signature);
}

}  // namespace tablelake::objectstore
