// HTTP/1.1 for the wire protocol, on Boost.Beast: keep-alive connections, a fixed pool of
// threads running the handlers, a cap on connections, read and idle timeouts, and a body limit
// enforced while the body arrives (a larger one is refused with 413 before it is read whole).
// Tablestore's requests are `POST /<Operation>` with a protobuf body; `GET /healthz` answers
// "ok" for probes, `GET /metrics` what HttpServerOptions::metrics renders, other GETs (and POSTs
// under /status/) what HttpServerOptions::web answers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/wire_service.h"
#include "tablelake/status.h"

namespace tablelake::server {

// A request for a page rather than an operation (a GET, or a POST under /status/).
struct WebRequest {
  std::string method;  // "GET", "POST"
  std::string target;  // the path and query
  Headers headers;     // names in lower case
  std::string body;
};
struct WebReply {
  int status = 200;
  Headers headers;
  std::string body;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // Default: 127.0.0.1
  uint16_t port = 0;               // 0: any free port (port() says which). Default: 0
  int threads = 0;                 // threads serving requests; 0: the cores, at least 2
  size_t max_connections = 1024;   // more are closed as they arrive. Default: 1024
  // Tablestore's limit on a request body is 5 MB; a little over it leaves room for framing.
  uint64_t max_body_bytes = (5 << 20) + (64 << 10);
  std::chrono::seconds read_timeout{30};   // a request must arrive whole within this. Default 30 s
  std::chrono::seconds idle_timeout{120};  // a kept-alive connection idle this long is closed
  // GET /metrics: Prometheus' text format. None: 404.
  std::function<std::string()> metrics;
  // Pages: every GET but /healthz and /metrics, and POSTs under /status/. None, or std::nullopt
  // from it: 404.
  std::function<std::optional<WebReply>(const WebRequest&)> web;
};

class HttpServer {
 public:
  using Handler = std::function<WireReply(const WireRequest&)>;

  // Listens and serves `handler` until Stop or destruction.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   Handler handler);
  virtual ~HttpServer() = default;

  virtual uint16_t port() const = 0;
  // Stops accepting, lets requests in flight finish (within `grace`), closes every connection.
  virtual void Stop(std::chrono::milliseconds grace) = 0;
};

}  // namespace tablelake::server
