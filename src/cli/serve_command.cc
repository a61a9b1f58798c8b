// `tablelake serve`: the table store over Tablestore's wire protocol, so that the official SDKs
// work against it, with the folder's delivery tasks running in the background as `delivery run`
// runs them. Keys come from the environment, standard input or a config file, never the
// command line.
#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/cli_util.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "server/http_server.h"
#include "tablelake/delivery.h"

namespace tablelake::cli {
namespace {

struct ServeArgs {
  std::string listen = "127.0.0.1:8800";
  std::string instance;
  std::string access_key_id;
  std::string secret_env = "TABLELAKE_ACCESS_KEY_SECRET";
  std::string config;
  int threads = 0;
  int64_t memory_mb = 0;
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
// --config {"instance": "...", "keys": [{"access_key_id": "...", "secret_env": "VAR"} or
// {"access_key_id": "...", "secret": "..."}]}.
Status LoadKeys(const ServeArgs& a, server::WireServiceOptions* o) {
  o->instance = a.instance;
  if (!a.config.empty()) {
    std::ifstream in(a.config);
    if (!in) return Status::InvalidArgument(fmt::format("--config: cannot read '{}'", a.config));
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return Status::InvalidArgument(fmt::format("--config '{}' is not a JSON object", a.config));
    }
    if (j.contains("instance") && o->instance.empty()) o->instance = j.value("instance", "");
    for (const auto& k : j.value("keys", nlohmann::json::array())) {
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
      o->keys[id] = secret;
    }
  }
  if (!a.access_key_id.empty()) {
    std::string secret;
    if (const char* v = std::getenv(a.secret_env.c_str())) {
      secret = v;
    } else if (!std::getline(std::cin, secret) || secret.empty()) {
      return Status::InvalidArgument(
          fmt::format("no secret for access key '{}': set {} or give it on standard input",
                      a.access_key_id, a.secret_env));
    }
    o->keys[a.access_key_id] = secret;
  }
  if (o->instance.empty()) return Status::InvalidArgument("serve: --instance is required");
  if (o->keys.empty()) {
    return Status::InvalidArgument("serve: give --access-key-id (or keys in --config)");
  }
  return Status::OK();
}

Status Serve(const GlobalOptions& g, const ServeArgs& a) {
  TL_ASSIGN_OR_RETURN(auto listen, ParseListen(a.listen));
  server::WireServiceOptions wire_options;
  TL_RETURN_IF_ERROR(LoadKeys(a, &wire_options));
  TL_ASSIGN_OR_RETURN(auto store, OpenStore(g, Access::kCreate));
  DeliveryOptions delivery_options;
  delivery_options.progress = stderr;
  if (a.memory_mb != 0) delivery_options.memory_budget_bytes = a.memory_mb << 20;
  TL_ASSIGN_OR_RETURN(auto delivery, DeliveryService::Open(store.get(), delivery_options));
  server::WireService wire(store.get(), wire_options);

  std::signal(SIGINT, OnServeSignal);
  std::signal(SIGTERM, OnServeSignal);
  // The folder's delivery tasks run meanwhile, each until the server stops.
  std::vector<std::thread> tasks;
  TL_ASSIGN_OR_RETURN(auto list, delivery->ListDeliveryTask(""));
  for (const auto& t : list) {
    tasks.emplace_back([&delivery, t] {
      Status s = delivery->RunTask(t.table, t.name, &g_serve_stop);
      if (!s.ok()) std::fprintf(stderr, "serve: %s\n", s.ToString().c_str());
    });
  }

  server::HttpServerOptions http;
  http.host = listen.first;
  http.port = listen.second;
  http.threads = a.threads;
  auto started = server::HttpServer::Start(
      http, [&wire](const server::WireRequest& r) { return wire.Handle(r); });
  if (!started.ok()) {
    g_serve_stop = true;
    for (auto& t : tasks) t.join();
    return started.status();
  }
  auto& server = *started;
  std::fprintf(stderr,
               "tablelake: instance '%s' listening on %s:%u (%zu keys, %zu delivery tasks)\n",
               wire_options.instance.c_str(), listen.first.c_str(), server->port(),
               wire_options.keys.size(), tasks.size());
  while (!g_serve_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::fprintf(stderr, "tablelake: stopping\n");
  server->Stop(std::chrono::seconds(10));
  for (auto& t : tasks) t.join();
  return Status::OK();
}

}  // namespace

void RegisterServeCommand(CLI::App& app, GlobalOptions& g, Status& status) {
  auto args = std::make_shared<ServeArgs>();
  auto* serve = app.add_subcommand(
      "serve", "serve the tables over Tablestore's wire protocol (the official SDKs work)");
  AddGlobalOptions(serve, &g);
  serve->add_option("--listen", args->listen, "HOST:PORT to listen on (port 0: any free port)");
  serve->add_option("--instance", args->instance, "the instance name clients give");
  serve->add_option("--access-key-id", args->access_key_id,
                    "an access key id; its secret comes from $TABLELAKE_ACCESS_KEY_SECRET (or "
                    "--secret-env) or standard input");
  serve->add_option("--secret-env", args->secret_env, "the variable holding the secret");
  serve->add_option("--config", args->config, "a JSON file with the instance and more keys");
  serve->add_option("--threads", args->threads, "threads serving requests (default: the cores)");
  serve->add_option("--memory-mb", args->memory_mb, "delivery's memory budget (default 256)");
  serve->callback([&g, &status, args] { status = Serve(g, *args); });
}

}  // namespace tablelake::cli
