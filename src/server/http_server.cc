#include "server/http_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "fmt/format.h"
#include "proto/tablestore.pb.h"

namespace tablelake::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// What every session shares with the server: the handler and the counts Stop waits on.
struct Shared {
  HttpServer::Handler handler;
  HttpServerOptions options;
  std::atomic<size_t> connections{0};
  std::atomic<size_t> in_flight{0};
  std::atomic<bool> stopping{false};
};

// An Error reply for requests refused before they reach the wire service (too large, not a
// POST): Tablestore's Error message, so that SDKs report it as they would the cloud's.
std::string ErrorBody(const char* code, const std::string& message) {
  wire::Error e;
  e.set_code(code);
  e.set_message(message);
  return e.SerializeAsString();
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {
    ++shared_->connections;
  }
  ~Session() { --shared_->connections; }

  void Start() { Read(shared_->options.idle_timeout); }

 private:
  void Read(std::chrono::seconds timeout) {
    parser_.emplace();
    parser_->body_limit(shared_->options.max_body_bytes);
    parser_->header_limit(64 << 10);
    stream_.expires_after(timeout);
    // The whole request (headers and body) must arrive within the read timeout once it starts;
    // an idle kept-alive connection waits up to the idle timeout for its first byte.
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    // A Content-Length past the limit is refused as soon as the header says so.
    if (ec == http::error::body_limit) return OnRead(ec);
    if (ec) return Close(ec);
    stream_.expires_after(shared_->options.read_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Refuse(
          http::status::payload_too_large, "OTSRequestBodyTooLarge",
          fmt::format("the request body is larger than {} bytes", shared_->options.max_body_bytes));
    }
    if (ec) return Close(ec);
    auto& req = parser_->get();
    std::string target(req.target());
    if (req.method() == http::verb::get && target == "/healthz") {
      return Send(http::status::ok, {{"content-type", "text/plain"}}, "ok\n", req.keep_alive());
    }
    if (req.method() == http::verb::get && target == "/metrics" && shared_->options.metrics) {
      return Send(http::status::ok, {{"content-type", "text/plain; version=0.0.4"}},
                  shared_->options.metrics(), req.keep_alive());
    }
    bool page = req.method() == http::verb::get ||
                (req.method() == http::verb::post && target.rfind("/status/", 0) == 0);
    if (page) return ServePage(req, std::move(target));
    if (req.method() != http::verb::post) {
      return Refuse(http::status::method_not_allowed, "OTSMethodNotAllowed",
                    "only POST /<Operation> is served");
    }
    if (target.size() < 2 || target[0] != '/' ||
        target.find_first_of("/?", 1) != std::string::npos) {
      return Refuse(http::status::bad_request, "OTSParameterInvalid",
                    "the request path must be /<Operation>");
    }
    WireRequest w;
    w.operation = target.substr(1);
    w.headers = HeadersOf(req);
    w.body = std::move(req.body());
    bool keep_alive = req.keep_alive();
    ++shared_->in_flight;
    WireReply reply = shared_->handler(w);
    --shared_->in_flight;
    Send(static_cast<http::status>(reply.http_status), reply.headers, std::move(reply.body),
         keep_alive);
  }

  // Header names in lower case, as the handlers look them up.
  static Headers HeadersOf(const http::request<http::string_body>& req) {
    Headers headers;
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      headers.emplace_back(std::move(name), std::string(field.value()));
    }
    return headers;
  }

  void ServePage(http::request<http::string_body>& req, std::string target) {
    std::optional<WebReply> reply;
    if (shared_->options.web) {
      WebRequest w{std::string(req.method_string()), std::move(target), HeadersOf(req),
                   std::move(req.body())};
      ++shared_->in_flight;
      reply = shared_->options.web(w);
      --shared_->in_flight;
    }
    if (!reply && req.method() == http::verb::get) {
      return Refuse(http::status::method_not_allowed, "OTSMethodNotAllowed",
                    "only POST /<Operation> is served (and GET of the status page, /healthz and "
                    "/metrics)");
    }
    if (!reply) {
      return Send(http::status::not_found, {{"content-type", "text/plain"}}, "not found\n",
                  req.keep_alive());
    }
    Send(static_cast<http::status>(reply->status), reply->headers, std::move(reply->body),
         req.keep_alive());
  }

  void Refuse(http::status status, const char* code, const std::string& message) {
    // The connection goes after the reply: what is left of a refused body is never read.
    Send(status, {{"x-ots-contenttype", "protocol buffer"}}, ErrorBody(code, message), false);
  }

  void Send(http::status status, const Headers& headers, std::string body, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    for (const auto& [name, value] : headers) res->set(name, value);
    res->body() = std::move(body);
    res->keep_alive(keep_alive && !shared_->stopping);
    res->prepare_payload();
    stream_.expires_after(shared_->options.read_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        if (ec || !res->keep_alive()) return self->Close(ec);
                        self->Read(self->shared_->options.idle_timeout);
                      });
  }

  void Close(beast::error_code) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Shared> shared_;
};

class HttpServerImpl : public HttpServer {
 public:
  HttpServerImpl(const HttpServerOptions& options, Handler handler)
      : shared_(std::make_shared<Shared>()) {
    shared_->handler = std::move(handler);
    shared_->options = options;
    // One io_context per thread, each connection bound to one of them: a connection's handlers
    // never run on two threads at once, so they need no strand and asio no locks (a third more
    // GetRow requests/s than one shared context with a strand per connection).
    int threads = options.threads > 0
                      ? options.threads
                      : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
    for (int i = 0; i < threads; ++i) contexts_.push_back(std::make_unique<asio::io_context>(1));
    acceptor_.emplace(*contexts_[0]);
  }
  ~HttpServerImpl() override { Stop(std::chrono::milliseconds(0)); }

  Status Listen() {
    beast::error_code ec;
    auto address = asio::ip::make_address(shared_->options.host, ec);
    if (ec) {
      return Status::InvalidArgument(
          fmt::format("listen address '{}': {}", shared_->options.host, ec.message()));
    }
    tcp::endpoint endpoint(address, shared_->options.port);
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::IOError(fmt::format("cannot listen on {}:{}: {}", shared_->options.host,
                                         shared_->options.port, ec.message()));
    }
    port_ = acceptor_->local_endpoint().port();
    Accept();
    for (auto& context : contexts_) {
      // Idle contexts keep running until Stop.
      guards_.push_back(asio::make_work_guard(*context));
      threads_.emplace_back([&context] { context->run(); });
    }
    return Status::OK();
  }

  uint16_t port() const override { return port_; }

  void Stop(std::chrono::milliseconds grace) override {
    if (stopped_.exchange(true)) return;
    shared_->stopping = true;
    asio::post(*contexts_[0], [this] {
      beast::error_code ignored;
      acceptor_->close(ignored);
    });
    auto until = std::chrono::steady_clock::now() + grace;
    while (shared_->in_flight > 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& context : contexts_) context->stop();
    for (auto& t : threads_) t.join();
  }

 private:
  void Accept() {
    auto& context = *contexts_[next_context_++ % contexts_.size()];
    acceptor_->async_accept(context, [this](beast::error_code ec, tcp::socket s) {
      if (ec) return;  // closed by Stop
      if (shared_->connections >= shared_->options.max_connections) {
        beast::error_code ignored;
        s.close(ignored);
      } else {
        std::make_shared<Session>(std::move(s), shared_)->Start();
      }
      Accept();
    });
  }

  std::shared_ptr<Shared> shared_;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::optional<tcp::acceptor> acceptor_;
  size_t next_context_ = 0;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      Handler handler) {
  auto server = std::make_unique<HttpServerImpl>(options, std::move(handler));
  TL_RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace tablelake::server
