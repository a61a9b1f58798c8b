// AWS Signature Version 4 for S3 and S3-compatible stores (MinIO, Ceph RGW, ...):
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
// The canonical request encodes the path once (S3 does not double-encode), sorts the query, and
// signs every header the request carries plus host, x-amz-date and x-amz-content-sha256.
#pragma once

#include <cstdint>
#include <string>

#include "objectstore/http_request.h"
#include "tablelake/credentials.h"

namespace tablelake::objectstore {

struct SigV4Scope {
  std::string region = "us-east-1";
  std::string service = "s3";
};

class SigV4Signer {
 public:
  SigV4Signer(CredentialSet keys, SigV4Scope scope) : keys_(std::move(keys)), scope_(scope) {}

  // Adds Host, x-amz-date, x-amz-content-sha256 (the body's hash, or UNSIGNED-PAYLOAD when
  // `sign_payload` is false), x-amz-security-token (with a session token) and Authorization.
  // `unix_seconds` is the request's time.
  void Sign(HttpRequest* request, int64_t unix_seconds, bool sign_payload = true) const;

  // The pieces, for tests against the documented examples.
  static std::string CanonicalRequest(const HttpRequest& request,
                                      const std::string& signed_headers);
  static std::string SignedHeaders(const HttpRequest& request);

 private:
  CredentialSet keys_;
  SigV4Scope scope_;
};

// "20260501T120000Z" and "20260501" for a time.
std::string AmzDate(int64_t unix_seconds);

}  // namespace tablelake::objectstore
