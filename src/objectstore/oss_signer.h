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

class OssSigner {
 public:
  OssSigner(CredentialSet keys, std::string bucket)
      : keys_(std::move(keys)), bucket_(std::move(bucket)) {}

  // Adds Host, Date and x-oss-date (`unix_seconds`), x-oss-security-token (with a session token)
  // and Authorization. `request.path` is the object's path as the endpoint addresses it.
  void Sign(HttpRequest* request, int64_t unix_seconds) const;

  // The string that is signed (for tests).
  std::string StringToSign(const HttpRequest& request) const;

 private:
  CredentialSet keys_;
  std::string bucket_;
};

// "Tue, 01 Dec 2026 23:45:29 GMT".
std::string HttpDate(int64_t unix_seconds);

}  // namespace tablelake::objectstore
