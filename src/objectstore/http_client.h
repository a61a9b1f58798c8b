// HTTP/1.1 over Debian's libcurl: one connection kept alive and reused across requests (and
// TLS through the system's CA store). Not thread-safe: one client per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "objectstore/http_request.h"
#include "tablelake/status.h"

namespace tablelake::objectstore {

struct HttpResponse {
  long status = 0;
  Pairs headers;  // names in lower case
  std::string body;
  std::string Header(std::string_view name) const;  // "" when absent
};

struct HttpOptions {
  int64_t connect_timeout_ms = 10000;  // Default: 10 s
  // A transfer slower than 1 KiB/s for this long is abandoned (a stalled connection).
  int64_t stall_timeout_ms = 30000;  // Default: 30 s
  // PEM file of the certificate authorities that https endpoints are checked against, for a
  // store whose certificate a private CA signed. Default: $TABLELAKE_CA_BUNDLE, else the
  // system's CA store.
  std::string ca_file;
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request and reads the whole reply. A reply of any status is a response; only
  // transport failures are errors: refused, reset, timed out are retryable, a certificate
  // that does not verify is not.
  Result<HttpResponse> Send(const HttpRequest& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tablelake::objectstore
