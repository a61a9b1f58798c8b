#include "objectstore/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "common/crypto.h"

namespace tablelake::objectstore {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Header values are trimmed and inner runs of spaces collapse to one.
std::string Trim(const std::string& v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::map<std::string, std::string> CanonicalHeaders(const HttpRequest& r) {
  std::map<std::string, std::string> headers;
  for (const auto& [k, v] : r.headers) {
    std::string name = Lower(k);
    auto [it, fresh] = headers.emplace(name, Trim(v));
    if (!fresh) it->second += "," + Trim(v);
  }
  return headers;
}

}  // namespace

std::string AmzDate(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  tm utc;
  gmtime_r(&t, &utc);
  char buf[20];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &utc);
  return buf;
}

std::string SigV4Signer::SignedHeaders(const HttpRequest& r) {
  std::string out;
  for (const auto& [name, value] : CanonicalHeaders(r)) out += (out.empty() ? "" : ";") + name;
  return out;
}

std::string SigV4Signer::CanonicalRequest(const HttpRequest& r, const std::string& signed_headers) {
  std::string headers;
  for (const auto& [name, value] : CanonicalHeaders(r)) headers += name + ":" + value + "\n";
  std::string payload = r.Header("x-amz-content-sha256");
  if (payload.empty()) payload = Hex(Sha256(r.body));
  return r.method + "\n" + UriEncode(r.path, false) + "\n" + CanonicalQuery(r.query) + "\n" +
         headers + "\n" + signed_headers + "\n" + payload;
}

void SigV4Signer::Sign(HttpRequest* r, int64_t unix_seconds, bool sign_payload) const {
  std::string amz_date = AmzDate(unix_seconds);
  std::string day = amz_date.substr(0, 8);
  // A request signed again (a retry) drops its old signature first.
  r->headers.erase(std::remove_if(r->headers.begin(), r->headers.end(),
                                  [](const auto& h) { return Lower(h.first) == "authorization"; }),
                   r->headers.end());
  r->SetHeader("Host", r->host);
  r->SetHeader("x-amz-date", amz_date);
  r->SetHeader("x-amz-content-sha256", sign_payload ? Hex(Sha256(r->body)) : "UNSIGNED-PAYLOAD");
  if (!keys_.security_token.empty()) r->SetHeader("x-amz-security-token", keys_.security_token);
  std::string signed_headers = SignedHeaders(*r);
  std::string scope = day + "/" + scope_.region + "/" + scope_.service + "/aws4_request";
  std::string to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" +
                        Hex(Sha256(CanonicalRequest(*r, signed_headers)));
  std::string key = HmacSha256("AWS4" + keys_.access_key_secret, day);
  key = HmacSha256(key, scope_.region);
  key = HmacSha256(key, scope_.service);
  key = HmacSha256(key, "aws4_request");
  r->SetHeader("Authorization", "AWS4-HMAC-SHA256 Credential=" + keys_.access_key_id + "/" + scope +
                                    ", SignedHeaders=" + signed_headers +
                                    ", Signature=" + Hex(HmacSha256(key, to_sign)));
}

}  // namespace tablelake::objectstore
