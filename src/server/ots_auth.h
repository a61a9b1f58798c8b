// Tablestore's request and response signatures (../shared/spec/wire-protocol.md, 1.3-1.5).
//
// A request is signed over "/<Op>\nPOST\n\n" and then every x-ots-* header but the signatures,
// sorted by name, each "name:value\n"; the signature is base64(HMAC-SHA1(secret, that)). A
// reply is signed over its own x-ots-* headers the same way followed by "/<Op>", and sent as
// "Authorization: OTS <AccessKeyId>:<signature>". The Java SDK's opt-in V4 signs the request's
// string plus "ots" with HMAC-SHA256 under a key derived from the secret, the day and region.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tablelake::server {

// Header names in lower case, values as received.
using Headers = std::vector<std::pair<std::string, std::string>>;

std::string RequestStringToSign(std::string_view operation, const Headers& headers);
std::string ResponseStringToSign(std::string_view operation, const Headers& headers);
// base64(HMAC-SHA1(secret, string_to_sign)): requests (V2) and replies.
std::string SignV2(std::string_view secret, std::string_view string_to_sign);
// V4: the signing key for `sign_date` (yyyyMMdd) and `region`, as the base64 text the SDK keys
// its MACs with, and the request signature under it.
std::string V4SigningKey(std::string_view secret, std::string_view sign_date,
                         std::string_view region);
std::string SignV4(std::string_view signing_key, std::string_view string_to_sign);

// Compares two signatures in time independent of where they differ.
bool SignaturesEqual(std::string_view a, std::string_view b);

}  // namespace tablelake::server
