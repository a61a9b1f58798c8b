#include "server/ots_auth.h"

#include <algorithm>

#include "common/base64.h"
#include "common/crypto.h"

namespace tablelake::server {
namespace {

bool Signed(const std::string& name) {
  return name.rfind("x-ots-", 0) == 0 && name != "x-ots-signature" && name != "x-ots-signaturev4";
}

std::string CanonicalHeaders(const Headers& headers) {
  Headers signed_headers;
  for (const auto& h : headers) {
    if (Signed(h.first)) signed_headers.push_back(h);
  }
  std::sort(signed_headers.begin(), signed_headers.end());
  std::string out;
  for (const auto& [name, value] : signed_headers) out += name + ":" + value + "\n";
  return out;
}

}  // namespace

std::string RequestStringToSign(std::string_view operation, const Headers& headers) {
  return "/" + std::string(operation) + "\nPOST\n\n" + CanonicalHeaders(headers);
}

std::string ResponseStringToSign(std::string_view operation, const Headers& headers) {
  return CanonicalHeaders(headers) + "/" + std::string(operation);
}

std::string SignV2(std::string_view secret, std::string_view string_to_sign) {
  return Base64Encode(HmacSha1(secret, string_to_sign));
}

std::string V4SigningKey(std::string_view secret, std::string_view sign_date,
                         std::string_view region) {
  std::string k = HmacSha256("aliyun_v4" + std::string(secret), sign_date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, "ots");
  k = HmacSha256(k, "aliyun_v4_request");
  return Base64Encode(k);
}

std::string SignV4(std::string_view signing_key, std::string_view string_to_sign) {
  return Base64Encode(HmacSha256(signing_key, std::string(string_to_sign) + "ots"));
}

bool SignaturesEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace tablelake::server
