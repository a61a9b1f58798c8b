#include "objectstore/remote_bucket.h"

#include <tinyxml2.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "common/base64.h"
#include "fmt/format.h"
#include "common/crypto.h"
#include "objectstore/http_client.h"
#include "objectstore/oss_signer.h"
#include "objectstore/sigv4.h"

namespace tablelake::objectstore {
namespace {

using Signer = std::function<void(HttpRequest*, int64_t unix_seconds)>;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The text of <Tag> directly under the document's root element, or "".
std::string XmlField(const tinyxml2::XMLElement* parent, const char* tag) {
  const tinyxml2::XMLElement* e = parent ? parent->FirstChildElement(tag) : nullptr;
  return e && e->GetText() ? e->GetText() : "";
}

class RemoteBucket;

// One object being written: parts upload as they fill (see the header).
class RemoteSink : public Sink {
 public:
  RemoteSink(RemoteBucket* bucket, std::string key, bool if_absent)
      : bucket_(bucket), key_(std::move(key)), if_absent_(if_absent) {}
  ~RemoteSink() override { Abort(); }
  Status Append(std::string_view data) override;
  Status Commit() override;
  void Abort() override;
  int64_t Tell() const override { return written_; }

 private:
  Status StartUpload();
  // Sends a full part on a thread of its own, after waiting for the oldest part when
  // `parts_in_flight` are on the way already.
  Status SendPart(std::string data);
  Status WaitForParts(size_t keep);  // until at most `keep` parts are in flight

  // The publishing request (PUT or CompleteMultipartUpload), refusing to replace an object
  // when asked and the store can.
  Status Publish(HttpRequest r);

  RemoteBucket* bucket_;
  std::string key_;
  bool if_absent_;
  std::string buffer_;
  std::string upload_id_;
  std::vector<std::string> etags_;  // by part number - 1
  struct SentPart {
    Result<std::string> etag;
    std::string buffer;  // to be reused
  };
  std::string SpareBuffer();  // an empty buffer, with the capacity of a sent part's if any

  // Parts on the way, oldest first: part number and its ETag to come.
  std::deque<std::pair<size_t, std::future<SentPart>>> in_flight_;
  std::vector<std::string> spare_;
  int64_t written_ = 0;
  bool done_ = false;
};

class RemoteBucket : public ObjectStore {
 public:
  RemoteBucket(Endpoint endpoint, std::string bucket, Signer signer, RemoteBucketOptions options)
      : endpoint_(std::move(endpoint)),
        bucket_(std::move(bucket)),
        signer_(std::move(signer)),
        options_(options) {}

  Result<std::unique_ptr<Sink>> NewObject(const std::string& key) override {
    TL_RETURN_IF_ERROR(ValidateObjectKey(key));
    return std::unique_ptr<Sink>(std::make_unique<RemoteSink>(this, key, false));
  }
  Result<std::unique_ptr<Sink>> NewObjectIfAbsent(const std::string& key) override {
    TL_RETURN_IF_ERROR(ValidateObjectKey(key));
    return std::unique_ptr<Sink>(std::make_unique<RemoteSink>(this, key, true));
  }

  // S3 (and MinIO, RGW) take If-None-Match: *, OSS x-oss-forbid-overwrite; a store that answers
  // 501 to it is asked no more.
  void AddNoReplaceHeader(HttpRequest* r) const {
    if (!conditional_writes_) return;
    if (endpoint_.protocol == Protocol::kOss) {
      r->SetHeader("x-oss-forbid-overwrite", "true");
    } else {
      r->SetHeader("If-None-Match", "*");
    }
  }
  void DropConditionalWrites() { conditional_writes_ = false; }

  Result<std::string> GetObject(const std::string& key) override {
    TL_RETURN_IF_ERROR(ValidateObjectKey(key));
    TL_ASSIGN_OR_RETURN(HttpResponse r, Call(Request("GET", key), key));
    return std::move(r.body);
  }

  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    std::vector<ObjectInfo> out;
    std::string token;
    do {
      HttpRequest r = Request("GET", "");
      r.query = {
          {"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(options_.list_page)}};
      if (!token.empty()) r.query.emplace_back("continuation-token", token);
      TL_ASSIGN_OR_RETURN(HttpResponse reply, Call(std::move(r), prefix));
      tinyxml2::XMLDocument doc;
      if (doc.Parse(reply.body.data(), reply.body.size()) != tinyxml2::XML_SUCCESS) {
        return Status::IOError(fmt::format("{}: the listing is not XML", Url(prefix)));
      }
      const tinyxml2::XMLElement* root = doc.RootElement();
      for (auto* c = root ? root->FirstChildElement("Contents") : nullptr; c;
           c = c->NextSiblingElement("Contents")) {
        out.push_back({XmlField(c, "Key"), std::atoll(XmlField(c, "Size").c_str())});
      }
      token =
          XmlField(root, "IsTruncated") == "true" ? XmlField(root, "NextContinuationToken") : "";
    } while (!token.empty());
    return out;
  }

  Status DeleteObject(const std::string& key) override {
    TL_RETURN_IF_ERROR(ValidateObjectKey(key));
    auto r = Call(Request("DELETE", key), key);
    if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
    return Status::OK();
  }

  // ListMultipartUploads, page by page, aborting the matching ones.
  Status AbortIncompleteUploads(
      const std::string& prefix,
      const std::function<bool(const std::string& name)>& matches) override {
    std::string key_marker, id_marker;
    while (true) {
      HttpRequest r = Request("GET", "");
      r.query = {{"uploads", ""}, {"prefix", prefix}};
      if (!key_marker.empty()) {
        r.query.emplace_back("key-marker", key_marker);
        r.query.emplace_back("upload-id-marker", id_marker);
      }
      TL_ASSIGN_OR_RETURN(HttpResponse reply, Call(std::move(r), prefix));
      tinyxml2::XMLDocument doc;
      if (doc.Parse(reply.body.data(), reply.body.size()) != tinyxml2::XML_SUCCESS) {
        return Status::IOError(fmt::format("{}: the upload listing is not XML", Url(prefix)));
      }
      const tinyxml2::XMLElement* root = doc.RootElement();
      for (auto* u = root ? root->FirstChildElement("Upload") : nullptr; u;
           u = u->NextSiblingElement("Upload")) {
        std::string key = XmlField(u, "Key");
        size_t slash = key.rfind('/');
        if (!matches(slash == std::string::npos ? key : key.substr(slash + 1))) continue;
        HttpRequest abort = Request("DELETE", key);
        abort.query = {{"uploadId", XmlField(u, "UploadId")}};
        auto aborted = Call(std::move(abort), key);
        if (!aborted.ok() && aborted.status().code() != StatusCode::kNotFound) {
          return aborted.status();
        }
      }
      if (XmlField(root, "IsTruncated") != "true") return Status::OK();
      key_marker = XmlField(root, "NextKeyMarker");
      id_marker = XmlField(root, "NextUploadIdMarker");
      if (key_marker.empty()) return Status::OK();
    }
  }

  std::string Url(const std::string& key = "") const override {
    return fmt::format("{}://{}/{}", endpoint_.protocol == Protocol::kOss ? "oss" : "s3", bucket_,
                       key);
  }

  // Whether the bucket answers: HEAD on the bucket.
  Status Check() { return Call(Request("HEAD", ""), "").status(); }

  HttpRequest Request(const std::string& method, const std::string& key) const {
    HttpRequest r;
    r.method = method;
    r.https = endpoint_.https;
    r.host = endpoint_.BucketHost(bucket_);
    r.path = endpoint_.path_style ? "/" + bucket_ + "/" + key : "/" + key;
    return r;
  }

  // Sends `r` (signed afresh for each try), retrying what may succeed later.
  Result<HttpResponse> Call(HttpRequest r, const std::string& key) {
    Status last;
    for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
      if (attempt > 0) Backoff(attempt);
      signer_(&r, NowSeconds());
      auto reply = Send(r);
      if (!reply.ok()) {
        last = reply.status().WithContext(Url(key));
        if (!last.IsRetryable()) return last;
        continue;  // refused, reset, timed out: worth another try
      }
      if (reply->status >= 200 && reply->status < 300) return reply;
      last = ErrorOf(r, *reply, key);
      if (!last.IsRetryable()) return last;
    }
    return last;
  }

  const RemoteBucketOptions& options() const { return options_; }

 private:
  Result<HttpResponse> Send(const HttpRequest& r) {
    std::unique_ptr<HttpClient> client;
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        client = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!client) client = std::make_unique<HttpClient>();
    auto reply = client->Send(r);
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(client));  // its connection stays open for the next request
    return reply;
  }

  void Backoff(int attempt) {
    int64_t ceiling = std::min(options_.max_backoff_ms, options_.backoff_ms << (attempt - 1));
    std::uniform_int_distribution<int64_t> jitter(0, ceiling);
    int64_t ms;
    {
      std::lock_guard lock(mu_);
      ms = jitter(random_);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }

  // "s3://bucket/key: PUT returned 503 SlowDown: Please reduce your request rate".
  Status ErrorOf(const HttpRequest& r, const HttpResponse& reply, const std::string& key) const {
    tinyxml2::XMLDocument doc;
    std::string code, message;
    if (doc.Parse(reply.body.data(), reply.body.size()) == tinyxml2::XML_SUCCESS) {
      code = XmlField(doc.RootElement(), "Code");
      message = XmlField(doc.RootElement(), "Message");
    }
    std::string text =
        fmt::format("{}: {} returned {}{}{}{}", Url(key), r.method, reply.status,
                    code.empty() ? "" : " " + code, message.empty() ? "" : ": ", message);
    long s = reply.status;
    if (s >= 500 && s != 501) return Status::Unavailable(text).WithRetryable(true);
    if (s == 429 || s == 408) return Status::Unavailable(text).WithRetryable(true);
    Status refused = s == 403 || s == 401   ? Status::PermissionDenied(text)
                     : s == 404             ? Status::NotFound(text)
                     : s == 412 || s == 409 ? Status::AlreadyExists(text)
                     : s == 501             ? Status::NotSupported(text)
                                            : Status::InvalidArgument(text);
    return refused.WithRetryable(false);
  }

  Endpoint endpoint_;
  std::string bucket_;
  Signer signer_;
  RemoteBucketOptions options_;
  std::atomic<bool> conditional_writes_{true};
  std::mutex mu_;
  std::vector<std::unique_ptr<HttpClient>> idle_;
  std::mt19937_64 random_{std::random_device{}()};
};

std::string ContentMd5(std::string_view data) { return Base64Encode(Md5(data)); }

// A part's bytes are copied once, into the buffer: the buffer itself travels to the request
// (the remainder past the part moves into a recycled one), and sent parts' buffers come back
// for reuse, so a large upload neither regrows nor faults in fresh memory for each part.
Status RemoteSink::Append(std::string_view data) {
  const size_t part = static_cast<size_t>(bucket_->options().part_bytes);
  // Small objects grow as they go; one that will be large gets a whole part at once.
  if (buffer_.capacity() < part && buffer_.size() + data.size() > (1 << 20)) buffer_.reserve(part);
  buffer_.append(data);
  written_ += static_cast<int64_t>(data.size());
  while (buffer_.size() >= part) {
    std::string rest = SpareBuffer();
    rest.assign(buffer_, part);
    buffer_.resize(part);
    TL_RETURN_IF_ERROR(SendPart(std::exchange(buffer_, std::move(rest))));
  }
  return Status::OK();
}

std::string RemoteSink::SpareBuffer() {
  if (spare_.empty()) return {};
  std::string b = std::move(spare_.back());
  spare_.pop_back();
  b.clear();
  return b;
}

Status RemoteSink::StartUpload() {
  HttpRequest start = bucket_->Request("POST", key_);
  start.query = {{"uploads", ""}};
  TL_ASSIGN_OR_RETURN(HttpResponse reply, bucket_->Call(std::move(start), key_));
  tinyxml2::XMLDocument doc;
  doc.Parse(reply.body.data(), reply.body.size());
  upload_id_ = XmlField(doc.RootElement(), "UploadId");
  if (upload_id_.empty()) {
    return Status::IOError(bucket_->Url(key_) + ": the multipart upload has no UploadId");
  }
  return Status::OK();
}

Status RemoteSink::SendPart(std::string data) {
  if (upload_id_.empty()) TL_RETURN_IF_ERROR(StartUpload());
  size_t limit = static_cast<size_t>(std::max(1, bucket_->options().parts_in_flight));
  TL_RETURN_IF_ERROR(WaitForParts(limit - 1));
  size_t number = etags_.size() + 1;
  etags_.emplace_back();
  auto send = [this, number, data = std::move(data)]() mutable -> SentPart {
    HttpRequest r = bucket_->Request("PUT", key_);
    r.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id_}};
    r.SetHeader("Content-MD5", ContentMd5(data));
    r.body = data;
    auto reply = bucket_->Call(std::move(r), key_);
    return SentPart{reply.ok() ? Result<std::string>(reply->Header("etag"))
                               : Result<std::string>(reply.status()),
                    std::move(data)};
  };
  in_flight_.emplace_back(number, std::async(std::launch::async, std::move(send)));
  return Status::OK();
}

Status RemoteSink::WaitForParts(size_t keep) {
  Status first;
  while (in_flight_.size() > keep) {
    auto [number, sent] = std::move(in_flight_.front());
    in_flight_.pop_front();
    SentPart part = sent.get();
    spare_.push_back(std::move(part.buffer));
    Result<std::string>& got = part.etag;
    if (got.ok()) {
      etags_[number - 1] = std::move(got).value();
    } else if (first.ok()) {
      first = got.status();
    }
  }
  return first;
}

Status RemoteSink::Commit() {
  if (done_) return Status::Internal(bucket_->Url(key_) + ": committed twice");
  Status s = [&]() -> Status {
    if (upload_id_.empty()) {  // small: one PUT
      HttpRequest r = bucket_->Request("PUT", key_);
      r.body = buffer_;
      r.SetHeader("Content-MD5", ContentMd5(buffer_));
      return Publish(std::move(r));
    }
    if (!buffer_.empty()) TL_RETURN_IF_ERROR(SendPart(std::move(buffer_)));
    TL_RETURN_IF_ERROR(WaitForParts(0));
    std::string xml = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags_.size(); ++i) {
      xml +=
          fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", i + 1, etags_[i]);
    }
    xml += "</CompleteMultipartUpload>";
    HttpRequest r = bucket_->Request("POST", key_);
    r.query = {{"uploadId", upload_id_}};
    r.body = xml;
    r.SetHeader("Content-Type", "application/xml");
    return Publish(std::move(r));
  }();
  if (!s.ok()) {
    Abort();
    return s;
  }
  done_ = true;
  buffer_ = std::string();
  spare_.clear();
  return Status::OK();
}

Status RemoteSink::Publish(HttpRequest r) {
  HttpRequest plain = r;  // for a store that refuses the condition
  if (if_absent_) bucket_->AddNoReplaceHeader(&r);
  auto reply = bucket_->Call(std::move(r), key_);
  if (!reply.ok() && reply.status().code() == StatusCode::kNotSupported && if_absent_) {
    bucket_->DropConditionalWrites();
    reply = bucket_->Call(std::move(plain), key_);
  }
  if (!reply.ok()) return reply.status();
  // S3 may answer 200 with an error in the body when completing an upload fails late.
  if (reply->body.find("<Error>") != std::string::npos) {
    return Status::Unavailable(bucket_->Url(key_) +
                               ": publishing failed: " + reply->body.substr(0, 300));
  }
  return Status::OK();
}

void RemoteSink::Abort() {
  if (done_) return;
  done_ = true;
  (void)WaitForParts(0);  // parts still on the way would land after the abort
  buffer_ = std::string();
  spare_.clear();
  if (upload_id_.empty()) return;
  HttpRequest r = bucket_->Request("DELETE", key_);
  r.query = {{"uploadId", upload_id_}};
  (void)bucket_->Call(std::move(r), key_);  // an upload left open is found by recovery
}

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenRemoteBucket(const Endpoint& endpoint,
                                                      const std::string& bucket,
                                                      const CredentialSet& keys,
                                                      const std::string& region,
                                                      RemoteBucketOptions options) {
  Signer signer;
  if (endpoint.protocol == Protocol::kS3) {
    SigV4Scope scope;
    scope.region = !endpoint.region.empty() ? endpoint.region
                   : !region.empty()        ? region
                                            : "us-east-1";
    signer = [s = SigV4Signer(keys, scope)](HttpRequest* r, int64_t now) { s.Sign(r, now); };
  } else {
    if (keys.oss_signature == "v4" && endpoint.region.empty() && region.empty()) {
      return Status::InvalidArgument(
          "OSS signature v4 needs a region: the endpoint names none, so give the credential set "
          "one (--region cn-hangzhou)");
    }
    OssSigner oss(keys, bucket, endpoint.region.empty() ? region : endpoint.region);
    signer = [s = std::move(oss)](HttpRequest* r, int64_t now) { s.Sign(r, now); };
  }
  auto store = std::make_unique<RemoteBucket>(endpoint, bucket, std::move(signer), options);
  TL_RETURN_IF_ERROR(store->Check());
  return std::unique_ptr<ObjectStore>(std::move(store));
}

}  // namespace tablelake::objectstore
