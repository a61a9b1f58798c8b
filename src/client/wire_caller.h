// Sends Tablestore wire requests to an endpoint: signed as the SDKs sign them (V2), over a
// bounded pool of keep-alive connections, retrying what the SDKs retry with exponential backoff
// and jitter; a failure becomes a Status with Tablestore's code. Thread-safe. Shared by the
// Go-shaped TableStoreClient and the remote TableStore the CLI's --endpoint uses.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tablelake/client.h"
#include "tablelake/status.h"

namespace google::protobuf {
class Message;
}
namespace tablelake::objectstore {
class HttpClient;
}

namespace tablelake::client {

// Tablestore's error code and message as a Status: codes the store has a StatusCode for map to
// it; those the SDKs retry become kUnavailable; others keep their name in the message.
Status FromOtsError(const std::string& code, const std::string& message, long http_status);

class WireCaller {
 public:
  WireCaller(std::string endpoint, std::string instance, std::string key_id, std::string secret,
             ClientOptions options);
  ~WireCaller();

  // Sends `op` and fills `response`; returns the reply's request id.
  Result<std::string> Call(const std::string& op, const google::protobuf::Message& request,
                           google::protobuf::Message* response);

 private:
  Status Once(const std::string& op, const std::string& body, google::protobuf::Message* out,
              std::string* request_id);
  std::unique_ptr<objectstore::HttpClient> Acquire();
  void Release(std::unique_ptr<objectstore::HttpClient> c);

  const std::string endpoint_, instance_, key_id_, secret_;
  const ClientOptions options_;
  bool https_ = false;
  std::string host_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<objectstore::HttpClient>> idle_;
  size_t created_ = 0;
};

}  // namespace tablelake::client
