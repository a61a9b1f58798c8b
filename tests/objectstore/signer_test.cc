// The request signers: the providers' documented examples, and differential tests against
// independent signers from the npm registry (@smithy/signature-v4 for SigV4, ali-oss's own
// signing code for OSS) on hundreds of generated requests whose keys, queries and headers
// hold what signers trip over: spaces, + = ~ % &, non-ASCII, empty query values.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>

#include "common/base64.h"
#include "nlohmann/json.hpp"
#include "common/crypto.h"
#include "objectstore/oss_signer.h"
#include "objectstore/sigv4.h"

namespace tablelake::objectstore {
namespace {

// AWS's worked example "GET Object" (S3 API reference, "Examples: Signature Calculations").
TEST(SigV4, TheDocumentedGetObjectExample) {
  CredentialSet keys{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", ""};
  SigV4Signer signer(keys, {"us-east-1", "s3"});
  HttpRequest r;
  r.https = true;
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/test.txt";
  r.SetHeader("Range", "bytes=0-9");
  signer.Sign(&r, 1369353600);  // 2013-05-24T00:00:00Z
  EXPECT_EQ(r.Header("Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// OSS's worked example of a V1 signature (API reference, "Include signatures in the
// Authorization header"): a PUT with Content-MD5, a content type and two x-oss-* headers,
// dated by its Date header (the signer itself also sends x-oss-date, as ali-oss does, which
// then takes the Date slot and is signed too).
TEST(OssSigner, TheDocumentedPutObjectExample) {
  CredentialSet keys{"44CF9590006BF252F707", "OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV", "", ""};
  OssSigner signer(keys, "oss-example");
  HttpRequest r;
  r.method = "PUT";
  r.host = "oss-example.oss-cn-hangzhou.aliyuncs.com";
  r.path = "/nelson";
  r.SetHeader("Content-MD5", "ODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=");
  r.SetHeader("Content-Type", "text/html");
  r.SetHeader("Date", "Thu, 17 Nov 2005 18:49:58 GMT");
  r.SetHeader("X-OSS-Meta-Author", "foo@bar.com");
  r.SetHeader("X-OSS-Magic", "abracadabra");
  std::string to_sign = signer.StringToSign(r);
  EXPECT_EQ(to_sign,
            "PUT\nODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=\ntext/html\n"
            "Thu, 17 Nov 2005 18:49:58 GMT\nx-oss-magic:abracadabra\n"
            "x-oss-meta-author:foo@bar.com\n/oss-example/nelson");
  EXPECT_EQ(Base64Encode(HmacSha1(keys.access_key_secret, to_sign)),
            "26NBxoKdsyly4EDv6inkoDft/yA=");
}

TEST(UriEncode, FollowsS3Rules) {
  EXPECT_EQ(UriEncode("sample/year=2026/month=05/a b+c~.parquet", false),
            "sample/year%3D2026/month%3D05/a%20b%2Bc~.parquet");
  EXPECT_EQ(UriEncode("a/b", true), "a%2Fb");
  EXPECT_EQ(UriEncode("\xc3\xa9%", false), "%C3%A9%25");
}

// Requests with awkward keys, queries and headers, seeded so a failure repeats.
std::vector<HttpRequest> GeneratedRequests(int n, std::vector<int64_t>* times) {
  std::mt19937 rng(20261201);
  // Bodies are views: the texts live for the whole program.
  auto pick = [&](const std::vector<std::string>& from) -> const std::string& {
    return from[rng() % from.size()];
  };
  static const std::vector<std::string> parts = {"a",
                                                 "b c",
                                                 "x+y",
                                                 "k=v",
                                                 "t~",
                                                 "100%",
                                                 "&amp",
                                                 "d\xc3\xa9j\xc3\xa0",
                                                 "\xe6\x97\xa5\xe6\x9c\xac",
                                                 "year=2026",
                                                 "part-00001.parquet",
                                                 "a(1)",
                                                 "!'*"};
  static const std::vector<std::string> methods = {"GET", "PUT", "POST", "DELETE", "HEAD"};
  std::vector<HttpRequest> out;
  for (int i = 0; i < n; ++i) {
    HttpRequest r;
    r.method = pick(methods);
    r.host =
        rng() % 2 ? "127.0.0.1:" + std::to_string(1024 + rng() % 60000) : "bkt.s3.amazonaws.com";
    r.path = "/";
    int depth = 1 + rng() % 4;
    for (int d = 0; d < depth; ++d) r.path += (d ? "/" : "") + pick(parts);
    // Each name once, as real requests have them (a signer keyed by name keeps one).
    std::vector<std::string> names = {"uploads",   "uploadId",           "partNumber", "prefix",
                                      "list-type", "continuation-token", "max-keys"};
    std::shuffle(names.begin(), names.end(), rng);
    int queries = rng() % 4;
    for (int q = 0; q < queries; ++q) {
      r.query.emplace_back(names[q], rng() % 3 == 0 ? "" : pick(parts));
    }
    static const std::vector<std::string> types = {"application/xml", "text/plain; charset=utf-8"};
    if (rng() % 2) r.SetHeader("Content-Type", pick(types));
    if (rng() % 2) r.SetHeader("x-amz-meta-note", "  two  spaces " + pick(parts));
    if (rng() % 2) r.SetHeader("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==");
    if (r.method == "PUT" || r.method == "POST") r.body = pick(parts);
    out.push_back(r);
    times->push_back(1700000000 + static_cast<int64_t>(rng() % 200000000));
  }
  return out;
}

// Runs tests/interop/sign_check.mjs over the requests; its answers, one per request.
std::vector<nlohmann::json> SignIndependently(const std::vector<nlohmann::json>& requests) {
  // Tests run as parallel processes: each its own file.
  std::string in = ::testing::TempDir() + "sign_requests_" + std::to_string(getpid()) + ".jsonl";
  std::ofstream(in) << [&] {
    std::string s;
    for (const auto& r : requests) s += r.dump() + "\n";
    return s;
  }();
  std::string cmd = std::string("node '") + TABLELAKE_SOURCE_DIR +
                    "/tests/interop/sign_check.mjs' < '" + in + "'";
  FILE* p = popen(cmd.c_str(), "r");
  std::vector<nlohmann::json> out;
  char line[4096];
  while (p && std::fgets(line, sizeof(line), p)) out.push_back(nlohmann::json::parse(line));
  EXPECT_EQ(pclose(p), 0);
  std::remove(in.c_str());
  return out;
}

// Our Authorization headers against the independent signer's, request by request; the first
// few differences are shown whole.
void ExpectSameAuthorizations(const std::vector<nlohmann::json>& inputs,
                              const std::vector<std::string>& ours) {
  auto theirs = SignIndependently(inputs);
  ASSERT_EQ(theirs.size(), ours.size());
  int mismatches = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    if (theirs[i].value("authorization", "") != ours[i] && ++mismatches <= 3) {
      ADD_FAILURE() << inputs[i].dump() << "\nours:   " << ours[i]
                    << "\ntheirs: " << theirs[i].dump();
    }
  }
  EXPECT_EQ(mismatches, 0);
}

nlohmann::json PairsJson(const Pairs& pairs) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& [k, v] : pairs) a.push_back({k, v});
  return a;
}

TEST(SigV4, AgreesWithSmithysSignerOnGeneratedRequests) {
  std::vector<int64_t> times;
  auto requests = GeneratedRequests(300, &times);
  std::vector<nlohmann::json> inputs;
  std::vector<std::string> ours;
  for (size_t i = 0; i < requests.size(); ++i) {
    HttpRequest r = requests[i];
    CredentialSet keys{"AKID" + std::to_string(i), "secret/" + std::to_string(i) + "+key",
                       i % 3 == 0 ? "token" + std::to_string(i) : "", ""};
    std::string region = i % 2 ? "us-east-1" : "cn-north-1";
    nlohmann::json input = {{"signer", "sigv4"},
                            {"method", r.method},
                            {"host", r.host},
                            {"path", r.path},
                            {"query", PairsJson(r.query)},
                            {"body", std::string(r.body)},
                            {"time", times[i]},
                            {"key", keys.access_key_id},
                            {"secret", keys.access_key_secret},
                            {"token", keys.security_token},
                            {"region", region}};
    Pairs headers = r.headers;
    headers.emplace_back("host", r.host);
    input["headers"] = PairsJson(headers);
    inputs.push_back(input);
    SigV4Signer(keys, {region, "s3"}).Sign(&r, times[i]);
    ours.push_back(r.Header("Authorization"));
  }
  ExpectSameAuthorizations(inputs, ours);
}

// The i-th request's keys: a secret with '/' and '+', an STS token on every third.
CredentialSet OssKeys(size_t i, const std::string& signature) {
  return {"LTAI" + std::to_string(i), "oss/secret+" + std::to_string(i),
          i % 3 == 0 ? "sts" + std::to_string(i) : "", "", signature};
}

TEST(OssSigner, AgreesWithAliOssOnGeneratedRequests) {
  std::vector<int64_t> times;
  auto requests = GeneratedRequests(300, &times);
  std::vector<nlohmann::json> inputs;
  std::vector<std::string> ours;
  for (size_t i = 0; i < requests.size(); ++i) {
    HttpRequest r = requests[i];
    CredentialSet keys = OssKeys(i, "");
    OssSigner(keys, "bkt").Sign(&r, times[i]);
    ours.push_back(r.Header("Authorization"));
    // What ali-oss signs: the resource /bkt/<path> and the sub-resources among the query.
    Pairs parameters;
    for (const auto& [k, v] : r.query) {
      if (k == "uploads" || k == "uploadId" || k == "partNumber" || k == "continuation-token") {
        parameters.emplace_back(k, v);
      }
    }
    inputs.push_back({{"signer", "oss"},
                      {"method", r.method},
                      {"resource", "/bkt" + r.path},
                      {"headers", PairsJson(r.headers)},
                      {"parameters", PairsJson(parameters)},
                      {"key", keys.access_key_id},
                      {"secret", keys.access_key_secret}});
  }
  ExpectSameAuthorizations(inputs, ours);
}

TEST(OssSigner, V4AgreesWithAliOssOnGeneratedRequests) {
  std::vector<int64_t> times;
  auto requests = GeneratedRequests(300, &times);
  std::vector<nlohmann::json> inputs;
  std::vector<std::string> ours;
  for (size_t i = 0; i < requests.size(); ++i) {
    HttpRequest r = requests[i];
    CredentialSet keys = OssKeys(i, "v4");
    std::string region = i % 2 ? "cn-hangzhou" : "ap-southeast-1";
    OssSigner(keys, "bkt", region).Sign(&r, times[i]);
    ours.push_back(r.Header("Authorization"));
    nlohmann::json query = nlohmann::json::array();
    for (const auto& [k, v] : r.query) {
      bool sub =
          k == "uploads" || k == "uploadId" || k == "partNumber" || k == "continuation-token";
      query.push_back({k, v, sub});
    }
    Pairs headers;
    for (const auto& h : r.headers) {
      if (h.first != "Authorization") headers.push_back(h);
    }
    inputs.push_back({{"signer", "oss4"},
                      {"method", r.method},
                      {"bucket", "bkt"},
                      {"object", r.path.substr(1)},
                      {"headers", PairsJson(headers)},
                      {"query", query},
                      {"region", region},
                      {"key", keys.access_key_id},
                      {"secret", keys.access_key_secret}});
  }
  ExpectSameAuthorizations(inputs, ours);
}

}  // namespace
}  // namespace tablelake::objectstore
