// The status page at `/`: tables, and for every delivery task its phase, current sync time, lag,
// counters, error and recent files, refreshed live by a little JavaScript from /status.json
// (src/server/status_page.html, compiled into the binary; nothing is fetched from elsewhere).
// Anyone who reaches the server may look; changing anything (restarting or deleting a task)
// needs signing in with a key the server knows: the page proves the secret with an
// HMAC-SHA256 of a one-time challenge, so the secret never travels, and gets a session cookie
// (HttpOnly, SameSite=Strict) for 12 hours.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/http_server.h"
#include "server/wire_delivery.h"
#include "tablelake/delivery.h"
#include "tablelake/options.h"
#include "tablelake/table_store.h"

namespace tablelake::server {

struct StatusInstance {
  std::string name;
  TableStore* store = nullptr;          // borrowed
  DeliveryService* delivery = nullptr;  // borrowed
  TaskEvents events;                    // restart: updating then updated; delete: deleting
};

class StatusPage {
 public:
  StatusPage(std::vector<StatusInstance> instances, std::map<std::string, std::string> keys,
             std::shared_ptr<Clock> clock = nullptr);

  // GET /, /status.json, /status/challenge; POST /status/login, /status/logout,
  // /status/action. std::nullopt: not a path of the page.
  std::optional<WebReply> Handle(const WebRequest& request);

 private:
  WebReply StatusJson(const WebRequest& r);
  WebReply Challenge();
  WebReply Login(const WebRequest& r);
  WebReply Logout(const WebRequest& r);
  WebReply Action(const WebRequest& r);
  // The key id of the request's session, if it has a live one.
  std::optional<std::string> SignedIn(const WebRequest& r);
  int64_t NowMs() const;

  const std::vector<StatusInstance> instances_;
  const std::map<std::string, std::string> keys_;
  std::shared_ptr<Clock> clock_;
  std::mutex mu_;
  std::map<std::string, int64_t> nonces_;  // challenge -> expiry (ms)
  struct Session {
    std::string key_id;
    int64_t expires_ms;
  };
  std::map<std::string, Session> sessions_;  // cookie token -> session
};

}  // namespace tablelake::server
