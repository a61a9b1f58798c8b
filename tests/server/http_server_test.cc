// The HTTP layer over real sockets: what a broken or hostile client can send (garbage, a body
// past the limit, a request cut short, too many connections) gets a clear refusal or a closed
// connection, and the server keeps serving everyone else.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace tablelake::server {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerOptions o;
    o.max_body_bytes = 1 << 20;
    o.max_connections = 8;
    o.read_timeout = std::chrono::seconds(2);
    o.idle_timeout = std::chrono::seconds(2);
    auto s = HttpServer::Start(o, [this](const WireRequest& r) {
      ++handled_;
      WireReply reply;
      reply.body = r.operation + ":" + std::to_string(r.body.size());
      reply.headers = {{"x-ots-requestid", "1"}};
      return reply;
    });
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }
  void TearDown() override { server_->Stop(std::chrono::seconds(1)); }

  int Connect() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server_->port());
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  }
  static void Send(int fd, const std::string& bytes) {
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Everything the server sends until it closes the connection (or 5 s pass).
  static std::string ReadAll(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
  }
  std::string Exchange(const std::string& request) {
    int fd = Connect();
    Send(fd, request);
    return ReadAll(fd);
  }
  static std::string Post(const std::string& op, const std::string& body, bool close = true) {
    return "POST /" + op +
           " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
           (close ? "\r\nConnection: close" : "") + "\r\n\r\n" + body;
  }
  void ExpectServing() {
    std::string reply = Exchange(Post("ListTable", "abc"));
    EXPECT_NE(reply.find("HTTP/1.1 200"), std::string::npos) << reply;
    EXPECT_NE(reply.find("ListTable:3"), std::string::npos) << reply;
  }

  std::unique_ptr<HttpServer> server_;
  std::atomic<int> handled_{0};
};

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  int fd = Connect();
  for (int i = 0; i < 3; ++i) Send(fd, Post("GetRow", std::string(i, 'x'), /*close=*/false));
  Send(fd, Post("GetRow", "last"));
  std::string replies = ReadAll(fd);
  EXPECT_NE(replies.find("GetRow:0"), std::string::npos);
  EXPECT_NE(replies.find("GetRow:2"), std::string::npos);
  EXPECT_NE(replies.find("GetRow:4"), std::string::npos);
  EXPECT_EQ(handled_, 4);
}

TEST_F(HttpServerTest, ABodyPastTheLimitIsRefusedBeforeItIsRead) {
  int fd = Connect();
  // Announce 50 MB and send none of it: the refusal must not wait for the body.
  Send(fd, "POST /PutRow HTTP/1.1\r\nHost: x\r\nContent-Length: 52428800\r\n\r\n");
  std::string reply = ReadAll(fd);
  EXPECT_NE(reply.find("HTTP/1.1 413"), std::string::npos) << reply;
  EXPECT_NE(reply.find("OTSRequestBodyTooLarge"), std::string::npos) << reply;
  EXPECT_EQ(handled_, 0);
  ExpectServing();
}

TEST_F(HttpServerTest, GarbageAndCutRequestsNeverReachTheHandler) {
  EXPECT_EQ(Exchange("\x16\x03\x01 this is not http\r\n\r\n").find("200"), std::string::npos);
  // Headers, then the connection goes before the promised body.
  int fd = Connect();
  Send(fd, "POST /PutRow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort");
  ::shutdown(fd, SHUT_WR);
  ReadAll(fd);
  std::string huge_header = "GET /healthz HTTP/1.1\r\nX: " + std::string(100000, 'a') + "\r\n\r\n";
  EXPECT_EQ(Exchange(huge_header).find("200 OK"), std::string::npos);
  EXPECT_EQ(handled_, 0);
  std::string get = Exchange("GET /PutRow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(get.find("HTTP/1.1 405"), std::string::npos) << get;
  EXPECT_NE(get.find("OTSMethodNotAllowed"), std::string::npos);
  std::string query = Exchange(Post("GetRow?x=1", ""));
  EXPECT_NE(query.find("HTTP/1.1 400"), std::string::npos) << query;
  std::string health = Exchange("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(health.find("200 OK"), std::string::npos);
  ExpectServing();
}

TEST_F(HttpServerTest, ConnectionsPastTheCapAreClosedAndOthersServed) {
  std::vector<int> idle;
  for (int i = 0; i < 8; ++i) idle.push_back(Connect());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int extra = Connect();
  Send(extra, Post("GetRow", ""));
  EXPECT_EQ(ReadAll(extra).find("200"), std::string::npos);  // closed unanswered
  for (int fd : idle) ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ExpectServing();
}

TEST_F(HttpServerTest, IdleConnectionsTimeOut) {
  int fd = Connect();
  auto start = std::chrono::steady_clock::now();
  ReadAll(fd);  // the server closes it after the idle timeout (2 s here)
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  ExpectServing();
}

}  // namespace
}  // namespace tablelake::server
