// `tablelake serve`: the table store over Tablestore's wire protocol, so that the official SDKs
// work against it, with the folder's delivery tasks running in the background as `delivery run`
// runs them. Keys come from the environment, standard input or a config file, never the
// command line.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cli/cli_util.h"
#include "common/printable.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "proto/tablestore.pb.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/status_page.h"
#include "tablelake/delivery.h"

namespace tablelake::cli {
namespace {

struct ServeArgs {
  std::string listen = "127.0.0.1:8800";
  std::string access_key_id;
  std::string secret_env = "TABLELAKE_ACCESS_KEY_SECRET";
  std::string config;
  int threads = 0;
  int64_t memory_mb = 0;
  int ranges = 0;  // 0: delivery's default (by the cores)
};

std::atomic<bool> g_serve_stop{false};
void OnServeSignal(int) { g_serve_stop = true; }

Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument(fmt::format("--listen takes HOST:PORT, got '{}'", listen));
  }
  std::string port = listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    return Status::InvalidArgument(fmt::format("--listen '{}': '{}' is not a port", listen, port));
  }
  return std::make_pair(listen.substr(0, colon), static_cast<uint16_t>(std::stoi(port)));
}

// Keys: --access-key-id with its secret from the environment (or standard input), plus any in
// --config:
//   {"instance": "...", "keys": [{"access_key_id": "...", "secret_env": "VAR"} or
//    {"access_key_id": "...", "secret": "..."}], "instances": [{"name": "...", "data": "DIR"}]}
// Every key opens every instance. A key with "admin": true (and --access-key-id's, the
// operator's own) may also manage the credential sets tasks' roles name.
struct ServeConfig {
  std::map<std::string, std::string> keys;
  std::set<std::string> admin_keys;
  std::vector<std::pair<std::string, std::string>> instances;  // name, data folder
};

Status LoadConfig(const GlobalOptions& g, const ServeArgs& a, ServeConfig* c) {
  std::string primary = g.instance;
  if (!a.config.empty()) {
    std::ifstream in(a.config);
    if (!in) return Status::InvalidArgument(fmt::format("--config: cannot read '{}'", a.config));
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return Status::InvalidArgument(fmt::format("--config '{}' is not a JSON object", a.config));
    }
    if (primary.empty() && j.contains("instance") && j["instance"].is_string()) {
      primary = j["instance"].get<std::string>();
    }
    for (const auto& k : j.value("keys", nlohmann::json::array())) {
      if (!k.is_object()) return Status::InvalidArgument("--config: keys holds a non-object");
      std::string id = k.value("access_key_id", ""), secret = k.value("secret", "");
      if (k.contains("secret_env")) {
        const char* v = std::getenv(k.value("secret_env", "").c_str());
        if (v == nullptr) {
          return Status::InvalidArgument(fmt::format("--config: key '{}': variable {} is not set",
                                                     id, k.value("secret_env", "")));
        }
        secret = v;
      }
      if (id.empty() || secret.empty()) {
        return Status::InvalidArgument("--config: every key needs access_key_id and a secret");
      }
      c->keys[id] = secret;
      if (k.value("admin", false)) c->admin_keys.insert(id);
    }
    for (const auto& i : j.value("instances", nlohmann::json::array())) {
      if (!i.is_object() || i.value("name", "").empty() || i.value("data", "").empty()) {
        return Status::InvalidArgument("--config: every instance needs a name and a data folder");
      }
      c->instances.emplace_back(i.value("name", ""), i.value("data", ""));
    }
  }
  if (primary.empty()) return Status::InvalidArgument("serve: --instance is required");
  if (!a.access_key_id.empty()) {
    std::string secret;
    if (const char* v = std::getenv(a.secret_env.c_str())) {
      secret = v;
    } else if (!std::getline(std::cin, secret) || secret.empty()) {
      return Status::InvalidArgument(
          fmt::format("no secret for access key '{}': set {} or give it on standard input",
                      a.access_key_id, a.secret_env));
    }
    c->keys[a.access_key_id] = secret;
    c->admin_keys.insert(a.access_key_id);
  }
  if (c->keys.empty()) {
    return Status::InvalidArgument("serve: give --access-key-id (or keys in --config)");
  }
  c->instances.insert(c->instances.begin(), {primary, g.data_dir});
  std::set<std::string> names, folders;
  for (const auto& [name, data] : c->instances) {
    if (!names.insert(name).second || !folders.insert(data).second) {
      return Status::InvalidArgument(
          fmt::format("serve: instance '{}' or its folder '{}' is given twice", name, data));
    }
  }
  return Status::OK();
}

// An instance's delivery tasks, each on a thread of its own until the server stops or the
// task is deleted or redefined over the wire.
class TaskThreads {
 public:
  explicit TaskThreads(DeliveryService* delivery) : delivery_(delivery) {}
  ~TaskThreads() { StopAll(); }

  void Start(const std::string& table, const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& task = running_[table + "/" + name];
    if (task && !task->done) return;
    if (task) task->thread.join();
    task = std::make_unique<Task>();
    Task* t = task.get();
    t->thread = std::thread([this, t, table, name] {
      // A failing task (a missing bucket, refused keys) is run again after a pause that doubles
      // up to a minute: the problem may be mended while the server runs. Its status keeps the
      // error meanwhile.
      for (int64_t pause_ms = 1000; !t->stop; pause_ms = std::min<int64_t>(2 * pause_ms, 60000)) {
        Status s = delivery_->RunTask(table, name, &t->stop);
        if (s.ok() || t->stop) break;
        if (delivery_->DescribeDeliveryTask(table, name).status().code() == StatusCode::kNotFound) {
          break;  // the task (or its table) is gone
        }
        std::fprintf(stderr, "serve: %s (again in %lld s)\n", s.ToString().c_str(),
                     static_cast<long long>(pause_ms / 1000));
        for (int64_t waited = 0; waited < pause_ms && !t->stop; waited += 100) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
      t->done = true;
    });
  }
  // Stops the task's run (its checkpoint saved) and waits for it.
  void Stop(const std::string& table, const std::string& name) {
    std::unique_ptr<Task> task;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = running_.find(table + "/" + name);
      if (it == running_.end()) return;
      task = std::move(it->second);
      running_.erase(it);
    }
    task->stop = true;
    task->thread.join();
  }
  void StopAll() {
    std::map<std::string, std::unique_ptr<Task>> tasks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks.swap(running_);
    }
    for (auto& [key, t] : tasks) t->stop = true;
    for (auto& [key, t] : tasks) t->thread.join();
  }

 private:
  struct Task {
    std::atomic<bool> stop{false};
    std::atomic<bool> done{false};
    std::thread thread;
  };
  DeliveryService* delivery_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Task>> running_;
};

// One instance: its store, its delivery tasks (running until the server stops) and its wire
// service.
struct Instance {
  std::unique_ptr<TableStore> store;
  std::unique_ptr<DeliveryService> delivery;
  std::unique_ptr<TaskThreads> tasks;
  std::unique_ptr<server::WireService> wire;
  server::TaskEvents task_events;  // what the server does as tasks come and go
  size_t started = 0;              // tasks started with the server
};

Result<std::unique_ptr<Instance>> OpenInstance(const std::string& name, const std::string& data,
                                               const ServeConfig& c, const ServeArgs& a) {
  auto i = std::make_unique<Instance>();
  GlobalOptions g;
  g.data_dir = data;
  TL_ASSIGN_OR_RETURN(i->store, OpenStore(g, Access::kCreate));
  DeliveryOptions delivery_options;
  delivery_options.progress = stderr;
  if (a.memory_mb != 0) delivery_options.memory_budget_bytes = a.memory_mb << 20;
  delivery_options.scan_ranges = a.ranges;
  TL_ASSIGN_OR_RETURN(i->delivery, DeliveryService::Open(i->store.get(), delivery_options));
  i->tasks = std::make_unique<TaskThreads>(i->delivery.get());
  TaskThreads* tasks = i->tasks.get();
  server::WireServiceOptions wire_options;
  wire_options.instance = name;
  wire_options.keys = c.keys;
  wire_options.admin_keys = c.admin_keys;
  wire_options.delivery = i->delivery.get();
  auto start = [tasks](const std::string& t, const std::string& n) { tasks->Start(t, n); };
  auto stop = [tasks](const std::string& t, const std::string& n) { tasks->Stop(t, n); };
  i->task_events = {start, stop, start, stop};
  wire_options.task_events = i->task_events;
  i->wire = std::make_unique<server::WireService>(i->store.get(), wire_options);
  TL_ASSIGN_OR_RETURN(auto list, i->delivery->ListDeliveryTask(""));
  for (const auto& t : list) tasks->Start(t.table, t.name);
  i->started = list.size();
  return i;
}

// Refused requests are logged (operation, key id, reason: never a secret or a signature), at
// most a few a second so that a misconfigured client cannot flood the log.
void LogRefusal(const server::WireRequest& r, const server::WireReply& reply) {
  static std::atomic<int64_t> last_second{0};
  static std::atomic<int> in_second{0};
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  if (last_second.exchange(now) != now) in_second = 0;
  if (++in_second > 5) return;
  std::string key;
  for (const auto& [name, value] : r.headers) {
    if (name == "x-ots-accesskeyid") key = value;
  }
  wire::Error e;
  e.ParseFromString(reply.body);
  std::fprintf(stderr, "tablelake: refused %s from key '%s': %s %s\n",
               Printable(r.operation, 64).c_str(), Printable(key, 64).c_str(), e.code().c_str(),
               Printable(e.message(), 200).c_str());
}

// Tells commands refused a served folder where to send them instead (cli_util's ServedHint).
// Best effort: a folder it cannot be written to only loses the hint.
void WriteServing(const ServeConfig& config, const std::string& host, uint16_t port) {
  bool any = host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
  std::string endpoint = fmt::format("http://{}:{}", any ? "127.0.0.1" : host, port);
  for (const auto& [name, data] : config.instances) {
    nlohmann::json j = {{"pid", ::getpid()}, {"endpoint", endpoint}, {"instance", name}};
    std::ofstream(data + "/SERVING") << j.dump() << "\n";
  }
}

Status Serve(const GlobalOptions& g, const ServeArgs& a) {
  if (g.remote()) {
    return Status::InvalidArgument(
        "serve serves a data folder (--data); --endpoint is for commands sent to a server");
  }
  TL_ASSIGN_OR_RETURN(auto listen, ParseListen(a.listen));
  ServeConfig config;
  TL_RETURN_IF_ERROR(LoadConfig(g, a, &config));
  std::signal(SIGINT, OnServeSignal);
  std::signal(SIGTERM, OnServeSignal);
  std::map<std::string, std::unique_ptr<Instance>> instances;
  auto stop_tasks = [&] {
    g_serve_stop = true;
    for (auto& [name, i] : instances) i->tasks->StopAll();
  };
  size_t tasks = 0;
  for (const auto& [name, data] : config.instances) {
    auto i = OpenInstance(name, data, config, a);
    if (!i.ok()) {
      stop_tasks();
      return i.status().WithContext("instance '" + name + "'");
    }
    tasks += (*i)->started;
    instances[name] = std::move(*i);
  }
  server::WireService* primary = instances[config.instances[0].first]->wire.get();
  server::HttpServerOptions http;
  http.host = listen.first;
  http.port = listen.second;
  http.threads = a.threads;
  server::RequestMetrics requests;
  http.metrics = [&] {
    std::string out;
    requests.Render(&out);
    std::vector<std::pair<std::string, DeliveryService*>> deliveries;
    for (const auto& [name, i] : instances) deliveries.push_back({name, i->delivery.get()});
    server::RenderTaskMetrics(deliveries, &out);
    return out;
  };
  std::vector<server::StatusInstance> pages;
  for (const auto& [name, data] : config.instances) {
    Instance& i = *instances[name];
    pages.push_back({name, i.store.get(), i.delivery.get(), i.task_events});
  }
  server::StatusPage status_page(std::move(pages), config.keys);
  http.web = [&](const server::WebRequest& r) { return status_page.Handle(r); };
  auto started = server::HttpServer::Start(http, [&](const server::WireRequest& r) {
    auto start = std::chrono::steady_clock::now();
    // The instance a request names answers it; an unknown one is refused by the first.
    server::WireService* wire = primary;
    for (const auto& [name, value] : r.headers) {
      if (name != "x-ots-instancename") continue;
      auto it = instances.find(value);
      if (it != instances.end()) wire = it->second->wire.get();
    }
    server::WireReply reply = wire->Handle(r);
    requests.Observe(
        r.operation, reply.error_code,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (reply.http_status == 403 && reply.error_code == "OTSAuthFailed") LogRefusal(r, reply);
    return reply;
  });
  if (!started.ok()) {
    stop_tasks();
    return started.status();
  }
  auto& server = *started;
  std::string names;
  for (const auto& [name, data] : config.instances)
    names += (names.empty() ? "'" : ", '") + name + "'";
  std::fprintf(stderr, "tablelake: instance %s listening on %s:%u (%zu keys, %zu delivery tasks)\n",
               names.c_str(), listen.first.c_str(), server->port(), config.keys.size(), tasks);
  WriteServing(config, listen.first, server->port());
  while (!g_serve_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::fprintf(stderr, "tablelake: stopping\n");
  for (const auto& [name, data] : config.instances) std::remove((data + "/SERVING").c_str());
  server->Stop(std::chrono::seconds(10));
  stop_tasks();
  return Status::OK();
}

}  // namespace

void RegisterServeCommand(CLI::App& app, GlobalOptions& g, Status& status) {
  auto args = std::make_shared<ServeArgs>();
  auto* serve = app.add_subcommand(
      "serve", "serve the tables over Tablestore's wire protocol (the official SDKs work)");
  AddGlobalOptions(serve, &g);
  serve->add_option("--listen", args->listen, "HOST:PORT to listen on (port 0: any free port)");
  serve->add_option("--access-key-id", args->access_key_id,
                    "an access key id; its secret comes from $TABLELAKE_ACCESS_KEY_SECRET (or "
                    "--secret-env) or standard input");
  serve->add_option("--secret-env", args->secret_env, "the variable holding the secret");
  serve->add_option("--config", args->config, "a JSON file with the instance and more keys");
  serve->add_option("--threads", args->threads, "threads serving requests (default: the cores)");
  serve->add_option("--memory-mb", args->memory_mb, "delivery's memory budget (default 256)")
      ->check(CLI::Range(32, 1 << 20));
  serve
      ->add_option("--ranges", args->ranges,
                   "key ranges a full delivery scans at once (default: a core each; at most 8)")
      ->check(CLI::Range(1, 64));
  serve->callback([&g, &status, args] { status = Serve(g, *args); });
}

}  // namespace tablelake::cli
