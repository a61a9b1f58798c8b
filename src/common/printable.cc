#include "common/printable.h"

#include "fmt/format.h"

namespace tablelake {

std::string Printable(std::string_view text, size_t max_bytes) {
  std::string out;
  std::string_view shown = text.substr(0, max_bytes);
  // Do not cut a UTF-8 sequence in half: back up to the start of the last one.
  if (shown.size() < text.size()) {
    while (!shown.empty() && (static_cast<unsigned char>(text[shown.size()]) & 0xC0) == 0x80) {
      shown.remove_suffix(1);
    }
  }
  for (char c : shown) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out.push_back(c);
    }
  }
  if (shown.size() < text.size()) out += fmt::format("...({} bytes)", text.size());
  return out;
}

}  // namespace tablelake
