// An HTTP request as the object-store clients build it and the signers sign it: the path and
// query hold decoded text, encoded once, the same way, for the URL and for the signature.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tablelake::objectstore {

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  bool https = false;
  std::string host;        // with ":port" when the port is not the scheme's default
  std::string path = "/";  // decoded: "/bucket/a b+c.parquet"
  Pairs query;             // decoded names and values; a name with an empty value is "?name"
  Pairs headers;           // names as given; signers add theirs
  std::string_view body;

  // The header's value, or "" (names compare without case).
  std::string Header(std::string_view name) const;
  void SetHeader(std::string name, std::string value);
  // "https://host/enc%20oded/path?a=1&b" as sent.
  std::string Url() const;
};

// RFC 3986 percent-encoding of everything but A-Z a-z 0-9 - . _ ~ (and '/' unless
// `encode_slash`), as SigV4 and S3 want it: "a b+c~" -> "a%20b%2Bc~".
std::string UriEncode(std::string_view text, bool encode_slash);
// The query, sorted by name then value, each encoded: SigV4's canonical query string, and
// the URL's.
std::string CanonicalQuery(const Pairs& query);

}  // namespace tablelake::objectstore
