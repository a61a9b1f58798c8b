// Base64 (RFC 4648, standard alphabet, padded) for binary values in JSON.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tablelake {

std::string Base64Encode(std::string_view in);
// std::nullopt when `in` is not valid padded base64.
std::optional<std::string> Base64Decode(std::string_view in);

}  // namespace tablelake
