#include "client/wire_caller.h"

#include <chrono>
#include <random>
#include <thread>

#include "common/base64.h"
#include "common/crypto.h"
#include "fmt/format.h"
#include "objectstore/http_client.h"
#include "proto/tablestore.pb.h"
#include "server/ots_auth.h"

namespace tablelake::client {
namespace {

using objectstore::HttpClient;
using objectstore::HttpResponse;

std::string IsoNow() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::gmtime(&secs));
  return fmt::format("{}.{:03d}Z", buf, ms % 1000);
}

}  // namespace

Status FromOtsError(const std::string& code, const std::string& message, long http_status) {
  static const std::pair<const char*, StatusCode> kCodes[] = {
      {"OTSParameterInvalid", StatusCode::kInvalidArgument},
      {"OTSObjectNotExist", StatusCode::kNotFound},
      {"OTSObjectAlreadyExist", StatusCode::kAlreadyExists},
      {"OTSConditionCheckFail", StatusCode::kConditionFailed},
      {"OTSInvalidPK", StatusCode::kInvalidPrimaryKey},
      {"OTSQuotaExhausted", StatusCode::kQuotaExhausted},
      {"OTSAuthFailed", StatusCode::kPermissionDenied},
      {"OTSTrimmedDataAccess", StatusCode::kTrimmedData},
      {"OTSServerUnavailable", StatusCode::kUnavailable},
  };
  for (const auto& [name, status_code] : kCodes) {
    if (code == name) return Status(status_code, message);
  }
  static const char* kRetryable[] = {"OTSServerBusy",
                                     "OTSPartitionUnavailable",
                                     "OTSTableNotReady",
                                     "OTSRowOperationConflict",
                                     "OTSTimeout",
                                     "OTSNotEnoughCapacityUnit",
                                     "OTSInternalServerError"};
  for (const char* name : kRetryable) {
    if (code == name) return Status::Unavailable(fmt::format("{}: {}", code, message));
  }
  Status s = Status::Internal(
      fmt::format("{} (HTTP {}): {}", code.empty() ? "no error code" : code, http_status, message));
  return http_status >= 500 ? Status::Unavailable(s.message()) : s;
}

WireCaller::WireCaller(std::string endpoint, std::string instance, std::string key_id,
                       std::string secret, ClientOptions options)
    : endpoint_(std::move(endpoint)),
      instance_(std::move(instance)),
      key_id_(std::move(key_id)),
      secret_(std::move(secret)),
      options_(options) {
  size_t scheme = endpoint_.find("://");
  https_ = endpoint_.rfind("https://", 0) == 0;
  bool http = https_ || endpoint_.rfind("http://", 0) == 0 || scheme == std::string::npos;
  if (!http) return;  // host_ stays empty: every call says so
  std::string rest = endpoint_.substr(scheme == std::string::npos ? 0 : scheme + 3);
  host_ = rest.substr(0, rest.find('/'));
}

WireCaller::~WireCaller() = default;

Result<std::string> WireCaller::Call(const std::string& op,
                                     const google::protobuf::Message& request,
                                     google::protobuf::Message* response) {
  if (host_.empty()) {
    return Status::InvalidArgument(
        fmt::format("the endpoint '{}' is not http://HOST:PORT or https://HOST", endpoint_));
  }
  std::string body = request.SerializePartialAsString();
  std::mt19937_64 rng(std::random_device{}());
  std::string request_id;
  for (int attempt = 0;; ++attempt) {
    Status s = Once(op, body, response, &request_id);
    if (s.ok() || !s.IsRetryable() || attempt >= options_.max_retries) {
      if (!s.ok()) return s.WithContext(op);
      return request_id;
    }
    int64_t backoff = options_.retry_base_ms << attempt;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff / 2 + rng() % (backoff / 2 + 1)));
  }
}

Status WireCaller::Once(const std::string& op, const std::string& body,
                        google::protobuf::Message* out, std::string* request_id) {
  objectstore::HttpRequest r;
  r.method = "POST";
  r.https = https_;
  r.host = host_;
  r.path = "/" + op;
  r.body = body;
  server::Headers signed_headers = {{"x-ots-accesskeyid", key_id_},
                                    {"x-ots-apiversion", "2015-12-31"},
                                    {"x-ots-contentmd5", Base64Encode(Md5(body))},
                                    {"x-ots-date", IsoNow()},
                                    {"x-ots-instancename", instance_}};
  for (const auto& [name, value] : signed_headers) r.SetHeader(name, value);
  r.SetHeader("x-ots-signature",
              server::SignV2(secret_, server::RequestStringToSign(op, signed_headers)));
  r.SetHeader("content-type", "application/x-protobuf");
  std::unique_ptr<HttpClient> http = Acquire();
  Result<HttpResponse> reply = http->Send(r);
  Release(std::move(http));
  if (!reply.ok()) return reply.status();
  *request_id = reply->Header("x-ots-requestid");
  if (reply->status == 200) {
    if (reply->Header("x-ots-contentmd5") != Base64Encode(Md5(reply->body))) {
      return Status::Unavailable("the reply's body does not match its x-ots-contentmd5");
    }
    if (!out->ParseFromString(reply->body)) {
      return Status::Corruption(
          fmt::format("the reply is not a valid {}", out->GetDescriptor()->name()));
    }
    return Status::OK();
  }
  wire::Error error;
  if (!error.ParseFromString(reply->body)) {
    return FromOtsError("", fmt::format("HTTP {} without a Tablestore error", reply->status),
                        reply->status);
  }
  return FromOtsError(error.code(), error.message(), reply->status);
}

std::unique_ptr<HttpClient> WireCaller::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty() || created_ < options_.max_connections; });
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }
  ++created_;
  objectstore::HttpOptions http;
  http.connect_timeout_ms = options_.connect_timeout_ms;
  http.stall_timeout_ms = options_.request_timeout_ms;
  return std::make_unique<HttpClient>(http);
}

void WireCaller::Release(std::unique_ptr<HttpClient> c) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(c));
  }
  cv_.notify_one();
}

}  // namespace tablelake::client
