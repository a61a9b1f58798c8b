// User-supplied text (names, values) inside error messages: control bytes escaped, so that a
// NUL cannot cut a message and a newline cannot split it; long text shortened, so that a
// 100 KB name is not echoed whole.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tablelake {

// `text` with bytes below 0x20 and 0x7f written as \xNN, and past `max_bytes` cut and
// followed by "...(N bytes)".
std::string Printable(std::string_view text, size_t max_bytes = 80);

}  // namespace tablelake
