// Tablestore's operations over a table store, its streams (wire_stream.h) and its delivery tasks
// (wire_delivery.h), one request at a time: authentication (the x-ots-* headers, the V2 or V4
// signature, the date window, the body's MD5, the instance), the protobuf request, the store
// call, and the reply with the headers the SDKs check (its MD5, content type, date, request id
// and response signature) or Tablestore's Error message with the code and HTTP status the SDKs
// expect. Knows nothing of sockets: the HTTP server hands it requests (wire-protocol.md,
// sections 1, 2 and 4). Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "server/ots_auth.h"
#include "server/wire_delivery.h"
#include "tablelake/options.h"
#include "tablelake/table_store.h"

namespace tablelake::server {

struct WireServiceOptions {
  std::string instance;                           // the instance name requests must carry
  std::map<std::string, std::string> keys;        // access key id -> secret
  std::set<std::string> admin_keys;               // ids of keys that may manage credential sets
  DeliveryService* delivery = nullptr;            // the instance's tasks (borrowed); none: refused
  TaskEvents task_events;                         // what the server does as tasks come and go
  int64_t max_date_skew_ms = 15 * 60 * 1000;      // x-ots-date this far from now is refused.
                                                  // Default: 15 minutes
  std::shared_ptr<Clock> clock;                   // Default: Clock::System()
  int64_t iterator_lifetime_ms = 30 * 60 * 1000;  // a shard iterator is refused this long
                                                  // after it was given out. Default: 30 min
};

struct WireRequest {
  std::string operation;  // the path without its '/': "PutRow"
  Headers headers;        // names in lower case
  std::string body;
};

struct WireReply {
  int http_status = 200;
  Headers headers;
  std::string body;
  std::string error_code;  // Tablestore's code when the request failed, for logs and metrics
};

class WireService {
 public:
  WireService(TableStore* store, WireServiceOptions options);
  ~WireService();
  WireReply Handle(const WireRequest& request);

  // Every operation the service answers; any other is refused as not supported.
  static const std::vector<std::string>& Operations();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The HTTP status Tablestore answers a failed request with.
int HttpStatusOf(const Status& status);

}  // namespace tablelake::server
