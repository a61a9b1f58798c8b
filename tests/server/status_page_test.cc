// The status page's sign-in and actions in process (the browser test in tests/interop drives
// the page itself): a proof of the secret over a one-time challenge, sessions that expire, and
// task actions only for a signed-in viewer.
#include "server/status_page.h"

#include <gtest/gtest.h>

#include "../store/store_fixture.h"
#include "common/crypto.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"

namespace tablelake::server {
namespace {

using json = nlohmann::json;

class StatusPageTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    delivery_ = std::move(DeliveryService::Open(store_.get())).value();
    auto note = [this](const char* what) {
      return [this, what](const std::string& table, const std::string& name) {
        events_.push_back(fmt::format("{} {}/{}", what, table, name));
      };
    };
    StatusInstance instance{"inst",
                            store_.get(),
                            delivery_.get(),
                            {note("created"), note("updating"), note("updated"), note("deleting")}};
    page_ =
        std::make_unique<StatusPage>(std::vector<StatusInstance>{instance},
                                     std::map<std::string, std::string>{{"KEY", "SECRET"}}, clock_);
    CreateSample();
    DeliveryTaskConfig config;
    config.oss_bucket = "b";
    config.oss_endpoint = "file:///tmp";
    config.schema = {{"PK1", "PK1", "INT64"}};
    ASSERT_TRUE(
        delivery_->CreateDeliveryTask("sampleTable", "lake", config, DeliveryTaskType::kBase).ok());
  }
  void TearDown() override {
    page_.reset();
    delivery_.reset();
    StoreTest::TearDown();
  }

  WebReply Call(const std::string& method, const std::string& target, const std::string& body = "",
                const std::string& cookie = "") {
    WebRequest r{method, target, {{"content-type", "application/json"}}, body};
    if (!cookie.empty()) r.headers.emplace_back("cookie", "other=1; " + cookie);
    auto reply = page_->Handle(r);
    EXPECT_TRUE(reply.has_value()) << target;
    return reply.value_or(WebReply{});
  }
  std::string Nonce() { return json::parse(Call("GET", "/status/challenge").body)["nonce"]; }
  static std::string Proof(const std::string& secret, const std::string& nonce) {
    return Hex(HmacSha256(secret, fmt::format("tablelake-status-login\n{}\nKEY", nonce)));
  }
  WebReply Login(const std::string& nonce, const std::string& proof) {
    return Call("POST", "/status/login",
                json{{"key_id", "KEY"}, {"nonce", nonce}, {"proof", proof}}.dump());
  }
  // The session cookie a successful login sets ("name=token").
  static std::string CookieOf(const WebReply& reply) {
    for (const auto& [name, value] : reply.headers) {
      if (name == "set-cookie") return value.substr(0, value.find(';'));
    }
    return "";
  }

  std::unique_ptr<DeliveryService> delivery_;
  std::unique_ptr<StatusPage> page_;
  std::vector<std::string> events_;
};

TEST_F(StatusPageTest, ServesThePageAndTheStatusOfTablesAndTasks) {
  WebReply html = Call("GET", "/");
  EXPECT_EQ(html.status, 200);
  EXPECT_NE(html.body.find("<title>Tablelake</title>"), std::string::npos);
  EXPECT_EQ(html.body.find("https://"), std::string::npos) << "nothing from elsewhere";
  json s = json::parse(Call("GET", "/status.json?t=1").body);
  EXPECT_TRUE(s["signed_in"].is_null());
  EXPECT_EQ(s["instances"][0]["tables"][0]["name"], "sampleTable");
  EXPECT_EQ(s["instances"][0]["tasks"][0]["name"], "lake");
  EXPECT_EQ(s["instances"][0]["tasks"][0]["type"], "BaseTask");
  EXPECT_FALSE(page_->Handle({"GET", "/elsewhere", {}, ""}).has_value());
}

TEST_F(StatusPageTest, SignInProvesTheSecretOverAOneTimeChallenge) {
  std::string nonce = Nonce();
  EXPECT_EQ(Login(nonce, Proof("WRONG", nonce)).status, 403);
  EXPECT_EQ(Login(nonce, Proof("SECRET", nonce)).status, 403) << "a challenge is used once";
  std::string late = Nonce();
  clock_->AdvanceSeconds(3 * 60);
  EXPECT_EQ(Login(late, Proof("SECRET", late)).status, 403) << "an expired challenge";
  std::string fresh = Nonce();
  WebReply ok = Login(fresh, Proof("SECRET", fresh));
  ASSERT_EQ(ok.status, 200) << ok.body;
  std::string cookie = CookieOf(ok);
  EXPECT_EQ(json::parse(Call("GET", "/status.json", "", cookie).body)["signed_in"], "KEY");
  clock_->AdvanceSeconds(13 * 3600);
  EXPECT_TRUE(json::parse(Call("GET", "/status.json", "", cookie).body)["signed_in"].is_null())
      << "sessions expire";
}

TEST_F(StatusPageTest, ActionsNeedASessionAndReachTheTasks) {
  json restart = {
      {"action", "restart"}, {"instance", "inst"}, {"table", "sampleTable"}, {"task", "lake"}};
  EXPECT_EQ(Call("POST", "/status/action", restart.dump()).status, 403);
  std::string nonce = Nonce();
  std::string cookie = CookieOf(Login(nonce, Proof("SECRET", nonce)));
  WebRequest form{"POST", "/status/action", {{"cookie", cookie}}, restart.dump()};
  EXPECT_EQ(page_->Handle(form)->status, 415) << "only application/json";
  EXPECT_EQ(Call("POST", "/status/action", restart.dump(), cookie).status, 200);
  json unknown = restart;
  unknown["task"] = "nope";
  EXPECT_EQ(Call("POST", "/status/action", unknown.dump(), cookie).status, 404);
  json del = restart;
  del["action"] = "delete";
  EXPECT_EQ(Call("POST", "/status/action", del.dump(), cookie).status, 200);
  EXPECT_EQ(events_,
            (std::vector<std::string>{"updating sampleTable/lake", "updated sampleTable/lake",
                                      "deleting sampleTable/lake"}));
  EXPECT_TRUE(delivery_->ListDeliveryTask("")->empty());
  Call("POST", "/status/logout", "{}", cookie);
  EXPECT_EQ(Call("POST", "/status/action", restart.dump(), cookie).status, 403);
}

}  // namespace
}  // namespace tablelake::server
