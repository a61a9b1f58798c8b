#include "delivery/time_zone.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <string_view>

#include "common/text_scanner.h"
#include "fmt/format.h"

namespace tablelake::delivery {
namespace {

int64_t BigEndian(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

// From Howard Hinnant's public-domain date algorithms.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = FloorDiv(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

std::optional<UtcOffset> ParseUtcOffset(std::string_view text) {
  TextScanner in(text);
  char sign;
  UtcOffset offset;
  if (!in.OneOf("+-", &sign) || !in.Digits(2, &offset.hours)) return std::nullopt;
  in.Text(":");
  if (!in.Digits(2, &offset.minutes) || !in.done()) return std::nullopt;
  offset.east = sign == '+';
  return offset;
}

Result<TimeZone> TimeZone::Parse(const std::string& name) {
  std::string upper = name;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.empty() || upper == "UTC" || upper == "Z" || upper == "GMT") return Utc();
  std::string_view offset_text = upper;
  if (offset_text.starts_with("UTC") || offset_text.starts_with("GMT"))
    offset_text.remove_prefix(3);
  if (std::optional<UtcOffset> offset = ParseUtcOffset(offset_text)) {
    if (offset->hours > 14 || offset->minutes > 59) {
      return Status::InvalidArgument(fmt::format("time zone '{}': offset out of range", name));
    }
    return TimeZone(name, offset->seconds());
  }
  if (name.find("..") != std::string::npos || name.front() == '/') {
    return Status::InvalidArgument(fmt::format("time zone '{}' is not a zone name", name));
  }
  std::ifstream in("/usr/share/zoneinfo/" + name, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && data.empty()) {
    return Status::InvalidArgument(fmt::format(
        "time zone '{}' is unknown: use UTC, an offset like +08:00, or an IANA name such as "
        "Asia/Shanghai",
        name));
  }
  // TZif: a v1 block (32-bit times) then, for version >= 2, a v2 block with 64-bit times.
  auto bad = [&] {
    return Status::Corruption(fmt::format("time zone file for '{}' is not TZif", name));
  };
  if (data.size() < 44 || data.compare(0, 4, "TZif") != 0) return bad();
  auto counts = [&](size_t at, int64_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = BigEndian(data, at + 20 + 4 * i, 4);
  };
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  size_t at = 44;
  int time_bytes = 4;
  if (data[4] >= '2') {
    at += c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (data.size() < at + 44) return bad();
    counts(at, c);
    at += 44;
    time_bytes = 8;
  }
  size_t need = at + c[3] * time_bytes + c[3] + c[4] * 6;
  if (data.size() < need || c[4] == 0) return bad();
  auto transitions = std::make_shared<std::vector<int64_t>>();
  auto offsets = std::make_shared<std::vector<int64_t>>();
  std::vector<int64_t> type_offsets(c[4]);
  size_t types_at = at + c[3] * time_bytes + c[3];
  for (int64_t t = 0; t < c[4]; ++t) type_offsets[t] = BigEndian(data, types_at + t * 6, 4);
  for (int64_t i = 0; i < c[3]; ++i) {
    transitions->push_back(BigEndian(data, at + i * time_bytes, time_bytes));
    uint8_t type = static_cast<uint8_t>(data[at + c[3] * time_bytes + i]);
    if (type >= type_offsets.size()) return bad();
    offsets->push_back(type_offsets[type]);
  }
  TimeZone zone(name, 0);
  zone.transitions_ = transitions;
  zone.offsets_ = offsets;
  zone.initial_offset_ = type_offsets[0];
  return zone;
}

int64_t TimeZone::OffsetAt(int64_t utc_seconds) const {
  if (!transitions_) return fixed_offset_;
  auto it = std::upper_bound(transitions_->begin(), transitions_->end(), utc_seconds);
  if (it == transitions_->begin()) return initial_offset_;
  // Past the last transition the last offset holds (the TZif footer rule is not applied;
  // tzdata lists transitions to 2037 for zones that still change).
  return (*offsets_)[it - transitions_->begin() - 1];
}

CivilTime ToCivil(int64_t utc_ms, const TimeZone& zone) {
  int64_t seconds = FloorDiv(utc_ms, 1000);
  int64_t local = seconds + zone.OffsetAt(seconds);
  int64_t days = FloorDiv(local, 86400);
  int64_t rem = local - days * 86400;
  CivilTime t{};
  CivilFromDays(days, &t.year, &t.month, &t.day);
  t.hour = static_cast<int>(rem / 3600);
  t.minute = static_cast<int>(rem % 3600 / 60);
  t.second = static_cast<int>(rem % 60);
  return t;
}

}  // namespace tablelake::delivery
