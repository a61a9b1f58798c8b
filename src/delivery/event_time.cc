#include "delivery/event_time.h"

#include <regex>

#include "delivery/time_zone.h"
#include "fmt/format.h"

namespace tablelake::delivery {
namespace {

int MonthOf(const std::string& abbr) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (abbr == kMonths[i]) return i + 1;
  }
  return 0;
}

bool ZoneOffset(const std::string& zone, int64_t* seconds) {
  static const std::pair<const char*, int> kZones[] = {
      {"UT", 0},   {"UTC", 0},  {"GMT", 0},  {"Z", 0},    {"EST", -5}, {"EDT", -4},
      {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
  for (const auto& [name, hours] : kZones) {
    if (zone == name) {
      *seconds = hours * 3600;
      return true;
    }
  }
  static const std::regex kNumeric(R"(^([+-])(\d{2}):?(\d{2})$)");
  std::smatch m;
  if (!std::regex_match(zone, m, kNumeric)) return false;
  *seconds = (std::stoi(m[2]) * 3600 + std::stoi(m[3]) * 60) * (m[1] == "-" ? -1 : 1);
  return true;
}

Status Bad(const std::string& text, EventTimeFormat f, const std::string& why = "") {
  return Status::InvalidArgument(fmt::format("event time '{}' is not {}{}{}", text,
                                             EventTimeFormatName(f), why.empty() ? "" : ": ", why));
}

// Event times name the years 0000 to 9999 only, as $yyyy does in four digits, in any time zone
// a task may use: instants from 0000-01-02 to 9999-12-30 UTC. A larger Unix time is most often
// milliseconds or microseconds given as seconds, and would make a partition of a year past 50000.
constexpr int64_t kFirstSeconds = -62167132800;  // 0000-01-02T00:00:00Z
constexpr int64_t kLastSeconds = 253402214399;   // 9999-12-30T23:59:59Z

Status OutOfRange(const std::string& text, bool late) {
  return Status::InvalidArgument(
      fmt::format("event time {} is outside the years $yyyy names (0000-01-02 to 9999-12-30 UTC){}",
                  text, late ? " (milliseconds given as seconds?)" : ""));
}

Result<int64_t> UnixMs(int64_t seconds, const std::string& text) {
  if (seconds < kFirstSeconds || seconds > kLastSeconds) {
    return OutOfRange(text, seconds > kLastSeconds);
  }
  return seconds * 1000;
}

// Builds the instant, checking the fields' ranges.
Result<int64_t> Compose(const std::string& text, EventTimeFormat f, int64_t year, int month,
                        int day, int hour, int minute, int second, int64_t nanos,
                        const std::string& zone) {
  int64_t offset;
  if (!ZoneOffset(zone, &offset)) return Bad(text, f, fmt::format("unknown zone '{}'", zone));
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] ||
      (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 60) {
    return Bad(text, f, "a field is out of range");
  }
  const int64_t seconds =
      DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  if (seconds < kFirstSeconds || seconds > kLastSeconds) return OutOfRange("'" + text + "'", false);
  return seconds * 1000 + nanos / 1000000;
}

int64_t TwoDigitYear(int yy) { return yy >= 69 ? 1900 + yy : 2000 + yy; }

}  // namespace

Result<int64_t> ParseEventTime(const Value& value, EventTimeFormat f) {
  if (f == EventTimeFormat::kUnix) {
    if (value.type() == ValueType::kInteger) {
      return UnixMs(value.integer(), std::to_string(value.integer()));
    }
    if (value.type() == ValueType::kString) {
      static const std::regex kDigits(R"(^-?\d{1,12}$)");
      if (std::regex_match(value.bytes(), kDigits)) {
        return UnixMs(std::stoll(value.bytes()), "'" + value.bytes() + "'");
      }
      return Bad(value.bytes(), f, "not whole seconds");
    }
    return Status::InvalidArgument(
        fmt::format("event time {} is not Unix seconds", value.DebugString()));
  }
  if (value.type() != ValueType::kString) {
    return Status::InvalidArgument(fmt::format("event time {} is not a {} string",
                                               value.DebugString(), EventTimeFormatName(f)));
  }
  const std::string& s = value.bytes();
  std::smatch m;
  switch (f) {
    case EventTimeFormat::kRfc822: {
      static const std::regex re(R"(^(\d{2}) ([A-Z][a-z]{2}) (\d{2}) (\d{2}):(\d{2}) (\S+)$)");
      if (!std::regex_match(s, m, re)) return Bad(s, f);
      return Compose(s, f, TwoDigitYear(std::stoi(m[3])), MonthOf(m[2]), std::stoi(m[1]),
                     std::stoi(m[4]), std::stoi(m[5]), 0, 0, m[6]);
    }
    case EventTimeFormat::kRfc850: {
      static const std::regex re(
          R"(^[A-Z][a-z]+day, (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) (\S+)$)");
      if (!std::regex_match(s, m, re)) return Bad(s, f);
      return Compose(s, f, TwoDigitYear(std::stoi(m[3])), MonthOf(m[2]), std::stoi(m[1]),
                     std::stoi(m[4]), std::stoi(m[5]), std::stoi(m[6]), 0, m[7]);
    }
    case EventTimeFormat::kRfc1123: {
      static const std::regex re(
          R"(^[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (\S+)$)");
      if (!std::regex_match(s, m, re)) return Bad(s, f);
      return Compose(s, f, std::stoll(m[3]), MonthOf(m[2]), std::stoi(m[1]), std::stoi(m[4]),
                     std::stoi(m[5]), std::stoi(m[6]), 0, m[7]);
    }
    case EventTimeFormat::kRfc3339: {
      static const std::regex re(
          R"(^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$)");
      if (!std::regex_match(s, m, re)) return Bad(s, f);
      std::string frac = m[7].str();
      int64_t nanos = frac.empty() ? 0 : std::stoll(frac + std::string(9 - frac.size(), '0'));
      std::string zone = m[8].str() == "z" ? "Z" : m[8].str();
      return Compose(s, f, std::stoll(m[1]), std::stoi(m[2]), std::stoi(m[3]), std::stoi(m[4]),
                     std::stoi(m[5]), std::stoi(m[6]), nanos, zone);
    }
    default:
      return Bad(s, f, "unknown format");
  }
}

}  // namespace tablelake::delivery
