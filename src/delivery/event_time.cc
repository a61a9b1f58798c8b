#include "delivery/event_time.h"

#include <string_view>

#include "common/text_scanner.h"
#include "delivery/time_zone.h"
#include "fmt/format.h"

namespace tablelake::delivery {
namespace {

int MonthOf(std::string_view abbr) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (abbr == kMonths[i]) return i + 1;
  }
  return 0;
}

// A day's name: [A-Z][a-z]+day.
bool DayName(TextScanner* in) {
  std::string_view name;
  return in->Capitalized(4, std::string_view::npos, &name) && name.ends_with("day");
}

bool ZoneOffset(std::string_view zone, int64_t* seconds) {
  static const std::pair<const char*, int> kZones[] = {
      {"UT", 0},   {"UTC", 0},  {"GMT", 0},  {"Z", 0},    {"EST", -5}, {"EDT", -4},
      {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
  for (const auto& [name, hours] : kZones) {
    if (zone == name) {
      *seconds = hours * 3600;
      return true;
    }
  }
  std::optional<UtcOffset> offset = ParseUtcOffset(zone);
  if (offset) *seconds = offset->seconds();
  return offset.has_value();
}

Status Bad(std::string_view text, EventTimeFormat f, const std::string& why = "") {
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

// `text()` names the value in the error (made only then: this runs for every row).
template <typename Text>
Result<int64_t> UnixMs(int64_t seconds, const Text& text) {
  if (seconds < kFirstSeconds || seconds > kLastSeconds) {
    return OutOfRange(text(), seconds > kLastSeconds);
  }
  return seconds * 1000;
}

// Builds the instant, checking the fields' ranges.
Result<int64_t> Compose(std::string_view text, EventTimeFormat f, int64_t year, int month, int day,
                        int hour, int minute, int second, int64_t nanos, std::string_view zone) {
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
  if (seconds < kFirstSeconds || seconds > kLastSeconds) {
    return OutOfRange(fmt::format("'{}'", text), false);
  }
  return seconds * 1000 + nanos / 1000000;
}

int64_t TwoDigitYear(int yy) { return yy >= 69 ? 1900 + yy : 2000 + yy; }

}  // namespace

Result<int64_t> ParseEventTime(const ValueView& value, EventTimeFormat f) {
  if (f == EventTimeFormat::kUnix) {
    if (value.type() == ValueType::kInteger) {
      return UnixMs(value.integer(), [&] { return std::to_string(value.integer()); });
    }
    if (value.type() == ValueType::kString) {
      TextScanner in(value.bytes());
      const bool negative = in.Text("-");
      std::string_view digits;
      if (in.DigitRun(1, 12, &digits) && in.done()) {
        const int64_t seconds = TextScanner::Value(digits);
        return UnixMs(negative ? -seconds : seconds,
                      [&] { return fmt::format("'{}'", value.bytes()); });
      }
      return Bad(value.bytes(), f, "not whole seconds");
    }
    return Status::InvalidArgument(
        fmt::format("event time {} is not Unix seconds", value.ToValue().DebugString()));
  }
  if (value.type() != ValueType::kString) {
    return Status::InvalidArgument(fmt::format("event time {} is not an {} string",
                                               value.ToValue().DebugString(),
                                               EventTimeFormatName(f)));
  }
  const std::string_view s = value.bytes();
  TextScanner in(s);
  int64_t year = 0;
  int month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t nanos = 0;
  std::string_view month_name, zone, skip;
  switch (f) {
    case EventTimeFormat::kRfc822: {  // 02 Jan 06 15:04 MST
      int yy;
      if (!in.Digits(2, &day) || !in.Text(" ") || !in.Capitalized(2, 2, &month_name) ||
          !in.Text(" ") || !in.Digits(2, &yy) || !in.Text(" ") || !in.Digits(2, &hour) ||
          !in.Text(":") || !in.Digits(2, &minute) || !in.Text(" ") || !in.RestIsWord(&zone)) {
        return Bad(s, f);
      }
      return Compose(s, f, TwoDigitYear(yy), MonthOf(month_name), day, hour, minute, 0, 0, zone);
    }
    case EventTimeFormat::kRfc850: {  // Monday, 02-Jan-06 15:04:05 MST
      int yy;
      if (!DayName(&in) || !in.Text(", ") || !in.Digits(2, &day) || !in.Text("-") ||
          !in.Capitalized(2, 2, &month_name) || !in.Text("-") || !in.Digits(2, &yy) ||
          !in.Text(" ") || !in.Digits(2, &hour) || !in.Text(":") || !in.Digits(2, &minute) ||
          !in.Text(":") || !in.Digits(2, &second) || !in.Text(" ") || !in.RestIsWord(&zone)) {
        return Bad(s, f);
      }
      return Compose(s, f, TwoDigitYear(yy), MonthOf(month_name), day, hour, minute, second, 0,
                     zone);
    }
    case EventTimeFormat::kRfc1123: {  // Mon, 02 Jan 2006 15:04:05 MST
      if (!in.Capitalized(2, 2, &skip) || !in.Text(", ") || !in.Digits(2, &day) || !in.Text(" ") ||
          !in.Capitalized(2, 2, &month_name) || !in.Text(" ") || !in.Digits(4, &year) ||
          !in.Text(" ") || !in.Digits(2, &hour) || !in.Text(":") || !in.Digits(2, &minute) ||
          !in.Text(":") || !in.Digits(2, &second) || !in.Text(" ") || !in.RestIsWord(&zone)) {
        return Bad(s, f);
      }
      return Compose(s, f, year, MonthOf(month_name), day, hour, minute, second, 0, zone);
    }
    case EventTimeFormat::kRfc3339: {  // 2006-01-02T15:04:05[.999999999]Z07:00
      std::string_view fraction;
      if (!in.Digits(4, &year) || !in.Text("-") || !in.Digits(2, &month) || !in.Text("-") ||
          !in.Digits(2, &day) || !in.OneOf("Tt") || !in.Digits(2, &hour) || !in.Text(":") ||
          !in.Digits(2, &minute) || !in.Text(":") || !in.Digits(2, &second) ||
          (in.Text(".") && !in.DigitRun(1, 9, &fraction))) {
        return Bad(s, f);
      }
      zone = in.rest();
      int hh, mm;
      if (in.OneOf("Zz")) {
        zone = "Z";
      } else if (!in.OneOf("+-") || !in.Digits(2, &hh) || !in.Text(":") || !in.Digits(2, &mm)) {
        return Bad(s, f);
      }
      if (!in.done()) return Bad(s, f);
      for (size_t i = 0; i < 9; ++i) {
        nanos = nanos * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
      }
      return Compose(s, f, year, month, day, hour, minute, second, nanos, zone);
    }
    default:
      return Bad(s, f, "unknown format");
  }
}

}  // namespace tablelake::delivery
