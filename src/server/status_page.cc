#include "server/status_page.h"

#include <algorithm>
#include <random>

#include "common/crypto.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"

namespace tablelake::server {

extern const char* const kStatusPageHtml;  // status_page_html.cc, generated from the .html

namespace {

using json = nlohmann::ordered_json;

constexpr int64_t kNonceLifetimeMs = 2 * 60 * 1000;
constexpr int64_t kSessionLifetimeMs = 12 * 3600 * 1000;
constexpr size_t kMaxNonces = 1000;  // challenges not yet answered; older ones are dropped
constexpr size_t kMaxRecentFiles = 5;
constexpr const char* kCookie = "tablelake_session";

WebReply Reply(int status, const std::string& content_type, std::string body) {
  return {status, {{"content-type", content_type}, {"cache-control", "no-store"}}, std::move(body)};
}
WebReply JsonReply(int status, const json& j) {
  return Reply(status, "application/json", j.dump());
}
WebReply Refused(int status, const std::string& why) { return JsonReply(status, {{"error", why}}); }

std::string RandomHex(size_t bytes) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  std::string raw;
  for (size_t i = 0; i < bytes; ++i) raw.push_back(static_cast<char>(rng() & 0xff));
  return Hex(raw);
}

const std::string* Header(const WebRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return &v;
  }
  return nullptr;
}

std::string CookieValue(const WebRequest& r, const std::string& name) {
  const std::string* cookies = Header(r, "cookie");
  if (cookies == nullptr) return "";
  for (size_t start = 0; start < cookies->size();) {
    size_t end = cookies->find(';', start);
    if (end == std::string::npos) end = cookies->size();
    std::string pair = cookies->substr(start, end - start);
    pair.erase(0, pair.find_first_not_of(' '));
    if (pair.rfind(name + "=", 0) == 0) return pair.substr(name.size() + 1);
    start = end + 1;
  }
  return "";
}

// Constant time, so that a wrong proof tells nothing of how much of it was right.
bool SameBytes(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

json TablesJson(TableStore& store) {
  json tables = json::array();
  auto names = store.ListTable();
  if (!names.ok()) return tables;
  for (const auto& name : *names) {
    auto d = store.DescribeTable(name);
    if (!d.ok()) continue;  // dropped meanwhile
    json pk = json::array();
    for (const auto& k : d->meta.primary_key) {
      pk.push_back({{"name", k.name}, {"type", PrimaryKeyTypeName(k.type)}});
    }
    tables.push_back({{"name", name},
                      {"primary_key", pk},
                      {"stream", d->stream.enabled},
                      {"stream_hours", d->stream.expiration_hours}});
  }
  return tables;
}

json RecentFilesJson(DeliveryService& delivery, const std::string& table, const std::string& name) {
  json files = json::array();
  auto all = delivery.ListDeliveredFiles(table, name);
  if (!all.ok()) return files;
  std::sort(all->begin(), all->end(),
            [](const DeliveredFile& a, const DeliveredFile& b) { return a.time_ms > b.time_ms; });
  for (size_t i = 0; i < all->size() && i < kMaxRecentFiles; ++i) {
    const DeliveredFile& f = (*all)[i];
    files.push_back({{"key", f.key}, {"rows", f.rows}, {"bytes", f.bytes}, {"time_ms", f.time_ms}});
  }
  return files;
}

json TasksJson(DeliveryService& delivery) {
  json tasks = json::array();
  auto list = delivery.ListDeliveryTask("");
  if (!list.ok()) return tasks;
  for (const auto& t : *list) {
    auto d = delivery.DescribeDeliveryTask(t.table, t.name);
    if (!d.ok()) continue;  // deleted meanwhile
    const DeliveryTaskStatus& s = d->status;
    tasks.push_back({{"table", t.table},
                     {"name", t.name},
                     {"type", DeliveryTaskTypeName(d->type)},
                     {"phase", SyncPhaseName(s.phase)},
                     {"finished", s.finished},
                     {"current_sync_timestamp", s.current_sync_timestamp_ns},
                     {"lag_ms", s.lag_ms},
                     {"rows_delivered", s.rows_delivered},
                     {"dirty_rows", s.dirty_rows},
                     {"deletes_skipped", s.deletes_skipped},
                     {"files_written", s.files_written},
                     {"bytes_written", s.bytes_written},
                     {"error_code", s.error_code},
                     {"error_detail", s.error_detail},
                     {"bucket", d->config.oss_bucket},
                     {"prefix", d->config.oss_prefix},
                     {"recent_files", RecentFilesJson(delivery, t.table, t.name)}});
  }
  return tasks;
}

}  // namespace

StatusPage::StatusPage(std::vector<StatusInstance> instances,
                       std::map<std::string, std::string> keys, std::shared_ptr<Clock> clock)
    : instances_(std::move(instances)),
      keys_(std::move(keys)),
      clock_(clock ? std::move(clock) : Clock::System()) {}

int64_t StatusPage::NowMs() const { return clock_->NowMillis(); }

std::optional<WebReply> StatusPage::Handle(const WebRequest& r) {
  std::string path = r.target.substr(0, r.target.find('?'));
  if (r.method == "GET") {
    if (path == "/" || path == "/index.html") {
      return Reply(200, "text/html; charset=utf-8", kStatusPageHtml);
    }
    if (path == "/status.json") return StatusJson(r);
    if (path == "/status/challenge") return Challenge();
    return std::nullopt;
  }
  if (r.method != "POST") return std::nullopt;
  // A form another site posts cannot carry this content type without the browser asking first.
  const std::string* type = Header(r, "content-type");
  if (type == nullptr || type->rfind("application/json", 0) != 0) {
    return Refused(415, "the page's requests are application/json");
  }
  if (path == "/status/login") return Login(r);
  if (path == "/status/logout") return Logout(r);
  if (path == "/status/action") return Action(r);
  return std::nullopt;
}

WebReply StatusPage::StatusJson(const WebRequest& r) {
  json instances = json::array();
  for (const auto& i : instances_) {
    instances.push_back({{"name", i.name},
                         {"tables", TablesJson(*i.store)},
                         {"tasks", i.delivery ? TasksJson(*i.delivery) : json::array()}});
  }
  std::optional<std::string> who = SignedIn(r);
  return JsonReply(200, {{"time_ms", NowMs()},
                         {"signed_in", who ? json(*who) : json(nullptr)},
                         {"instances", instances}});
}

WebReply StatusPage::Challenge() {
  std::string nonce = RandomHex(16);
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = NowMs();
  std::erase_if(nonces_, [&](const auto& n) { return n.second < now; });
  if (nonces_.size() >= kMaxNonces) nonces_.erase(nonces_.begin());
  nonces_[nonce] = now + kNonceLifetimeMs;
  return JsonReply(200, {{"nonce", nonce}});
}

WebReply StatusPage::Login(const WebRequest& r) {
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body["key_id"].is_string() || !body["nonce"].is_string() ||
      !body["proof"].is_string()) {
    return Refused(400, "sign-in takes key_id, nonce and proof");
  }
  std::string key_id = body["key_id"], nonce = body["nonce"], proof = body["proof"];
  std::lock_guard<std::mutex> lock(mu_);
  auto n = nonces_.find(nonce);
  bool fresh = n != nonces_.end() && n->second >= NowMs();
  if (n != nonces_.end()) nonces_.erase(n);  // one use, whatever the outcome
  if (!fresh) return Refused(403, "the sign-in challenge expired: try again");
  auto key = keys_.find(key_id);
  std::string expected =
      key == keys_.end() ? ""
                         : Hex(HmacSha256(key->second, fmt::format("tablelake-status-login\n{}\n{}",
                                                                   nonce, key_id)));
  if (key == keys_.end() || !SameBytes(proof, expected)) {
    return Refused(403, "unknown access key id or wrong secret");
  }
  std::string token = RandomHex(32);
  int64_t now = NowMs();
  std::erase_if(sessions_, [&](const auto& s) { return s.second.expires_ms < now; });
  sessions_[token] = {key_id, now + kSessionLifetimeMs};
  WebReply reply = JsonReply(200, {{"signed_in", key_id}});
  reply.headers.emplace_back(
      "set-cookie", fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}", kCookie,
                                token, kSessionLifetimeMs / 1000));
  return reply;
}

WebReply StatusPage::Logout(const WebRequest& r) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(CookieValue(r, kCookie));
  }
  WebReply reply = JsonReply(200, {{"signed_in", nullptr}});
  reply.headers.emplace_back(
      "set-cookie", fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0", kCookie));
  return reply;
}

std::optional<std::string> StatusPage::SignedIn(const WebRequest& r) {
  std::string token = CookieValue(r, kCookie);
  if (token.empty()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  auto s = sessions_.find(token);
  if (s == sessions_.end() || s->second.expires_ms < NowMs()) return std::nullopt;
  return s->second.key_id;
}

WebReply StatusPage::Action(const WebRequest& r) {
  if (!SignedIn(r)) return Refused(403, "sign in with an access key to change tasks");
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (!body.is_object()) return Refused(400, "an action is a JSON object");
  std::string action = body.value("action", ""), instance = body.value("instance", "");
  std::string table = body.value("table", ""), task = body.value("task", "");
  auto i = std::find_if(instances_.begin(), instances_.end(),
                        [&](const StatusInstance& s) { return s.name == instance; });
  if (i == instances_.end() || i->delivery == nullptr) {
    return Refused(404, fmt::format("no instance '{}' with delivery tasks", instance));
  }
  if (auto d = i->delivery->DescribeDeliveryTask(table, task); !d.ok()) {
    return Refused(404, d.status().message());
  }
  auto notify = [&](const auto& event) {
    if (event) event(table, task);
  };
  if (action == "restart") {
    notify(i->events.updating);
    notify(i->events.updated);
  } else if (action == "delete") {
    notify(i->events.deleting);
    if (Status s = i->delivery->DeleteDeliveryTask(table, task); !s.ok()) {
      return Refused(500, s.message());
    }
  } else {
    return Refused(400, fmt::format("unknown action '{}': restart or delete", action));
  }
  return JsonReply(200, {{"done", action}});
}

}  // namespace tablelake::server
