// Hashes and MACs the request signers need, on OpenSSL.
#pragma once

#include <string>
#include <string_view>

namespace tablelake {

std::string Sha256(std::string_view data);                            // 32 raw bytes
std::string HmacSha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string HmacSha1(std::string_view key, std::string_view data);    // 20 raw bytes
std::string Md5(std::string_view data);                               // 16 raw bytes
std::string Hex(std::string_view bytes);                              // lowercase

}  // namespace tablelake
