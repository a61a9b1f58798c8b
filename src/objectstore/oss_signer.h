// Alibaba Cloud OSS's request signature, version 1:
//   Authorization: OSS <AccessKeyId>:base64(HMAC-SHA1(secret, VERB \n Content-MD5 \n
//     Content-Type \n Date \n CanonicalizedOSSHeaders CanonicalizedResource))
// with x-oss-* headers lower-cased and sorted, and the resource "/bucket/key" (not encoded)
// followed by the request's sub-resources (uploads, uploadId, partNumber, ...) sorted.
// https://www.alibabacloud.com/help/en/oss/developer-reference/include-signatures-in-the-authorization-header
#pragma once

#include <cstdint>
#include <string>

#include "objectstore/http_request.h"
#include "tablelake/credentials.h"

namespace tablelake::objectstore {

// OSS's signature version 4 (OSS4-HMAC-SHA256), chosen by a credential set's
// `oss_signature = "v4"`: SigV4's scheme with OSS's names - the canonical URI is
// /bucket/key encoded once, x-oss-* and content headers are signed, the scope is
// date/region/oss/aliyun_v4_request and the key derives from "aliyun_v4" + secret.
class OssSigner {
 public:
  // `region` (cn-hangzhou) scopes V4 signatures; V1 needs none.
  OssSigner(CredentialSet keys, std::string bucket, std::string region = "")
      : keys_(std::move(keys)), bucket_(std::move(bucket)), region_(std::move(region)) {}

  // Adds Host, Date and x-oss-date (`unix_seconds`), x-oss-security-token (with a session token)
  // and Authorization. `request.path` is the object's path as the endpoint addresses it.
  void Sign(HttpRequest* request, int64_t unix_seconds) const;

  // The string that is signed (for tests).
  std::string StringToSign(const HttpRequest& request) const;

 private:
  void SignV4(HttpRequest* request, int64_t unix_seconds) const;
  // "/bucket/key" whatever the addressing: a path-style path starts with the bucket already.
  std::string Resource(const HttpRequest& request) const;

  CredentialSet keys_;
  std::string bucket_;
  std::string region_;
};

// "Tue, 01 Dec 2026 23:45:29 GMT".
std::string HttpDate(int64_t unix_seconds);

}  // namespace tablelake::objectstore
