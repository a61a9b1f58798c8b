// UTF-8 validity (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
#pragma once

#include <string_view>

namespace tablelake {

bool IsValidUtf8(std::string_view text);

}  // namespace tablelake
