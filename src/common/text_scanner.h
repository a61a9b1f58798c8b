// Reads fields off the front of a string as a fixed layout says, with no regular expression:
// std::regex takes microseconds a match, more than the rest of the work done for a row or a file
// name. Each method takes what it reads off the front and says whether it was there; after a
// false the position is unspecified (a layout that fails is refused whole).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tablelake {

class TextScanner {
 public:
  explicit TextScanner(std::string_view s) : s_(s) {}

  bool done() const { return s_.empty(); }
  std::string_view rest() const { return s_; }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  // What std::isspace says in the C locale.
  static bool IsSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

  // Drops spaces at both ends.
  void TrimSpaces() {
    while (!s_.empty() && IsSpace(s_.front())) s_.remove_prefix(1);
    while (!s_.empty() && IsSpace(s_.back())) s_.remove_suffix(1);
  }
  // Exactly `text`.
  bool Text(std::string_view text) {
    if (s_.substr(0, text.size()) != text) return false;
    s_.remove_prefix(text.size());
    return true;
  }
  // One of `chars`; which, in `*got`.
  bool OneOf(std::string_view chars, char* got = nullptr) {
    if (s_.empty() || chars.find(s_.front()) == std::string_view::npos) return false;
    if (got != nullptr) *got = s_.front();
    s_.remove_prefix(1);
    return true;
  }
  // From `min` to `max` ASCII digits, as many as there are; their text in `*out`.
  bool DigitRun(size_t min, size_t max = std::string_view::npos, std::string_view* out = nullptr) {
    size_t n = 0;
    while (n < s_.size() && n < max && IsDigit(s_[n])) ++n;
    if (n < min) return false;
    if (out != nullptr) *out = s_.substr(0, n);
    s_.remove_prefix(n);
    return true;
  }
  // Exactly `n` ASCII digits, as a number.
  template <typename Int>
  bool Digits(size_t n, Int* out) {
    std::string_view digits;
    if (!DigitRun(n, n, &digits)) return false;
    *out = static_cast<Int>(Value(digits));
    return true;
  }
  // An upper-case ASCII letter, then from `min` to `max` lower-case ones.
  bool Capitalized(size_t min, size_t max, std::string_view* out) {
    if (s_.empty() || s_.front() < 'A' || s_.front() > 'Z') return false;
    size_t n = 1;
    while (n < s_.size() && n - 1 < max && s_[n] >= 'a' && s_[n] <= 'z') ++n;
    if (n - 1 < min) return false;
    *out = s_.substr(0, n);
    s_.remove_prefix(n);
    return true;
  }
  // What is left, when it is one word (no spaces) of a character or more.
  bool RestIsWord(std::string_view* out) {
    if (s_.empty()) return false;
    for (char c : s_) {
      if (IsSpace(c)) return false;
    }
    *out = s_;
    s_ = {};
    return true;
  }

  // The number ASCII `digits` spell (at most 18 of them, or it overflows).
  static int64_t Value(std::string_view digits) {
    int64_t v = 0;
    for (char c : digits) v = v * 10 + (c - '0');
    return v;
  }

 private:
  std::string_view s_;
};

}  // namespace tablelake
