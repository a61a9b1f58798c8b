// Time zones for partition paths: UTC, fixed offsets (+08:00) and IANA names read from the
// system's tzdata (/usr/share/zoneinfo, TZif files).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tablelake/status.h"

namespace tablelake::delivery {

class TimeZone {
 public:
  static Result<TimeZone> Parse(const std::string& name);
  static TimeZone Utc() { return TimeZone("UTC", 0); }

  // Seconds east of UTC in force at `utc_seconds`.
  int64_t OffsetAt(int64_t utc_seconds) const;
  const std::string& name() const { return name_; }

 private:
  TimeZone(std::string name, int64_t fixed) : name_(std::move(name)), fixed_offset_(fixed) {}

  std::string name_;
  int64_t fixed_offset_ = 0;
  // IANA zones: offset changes at these instants (sorted); `offsets_[i]` holds from
  // `transitions_[i]` on, `initial_offset_` before the first.
  std::shared_ptr<const std::vector<int64_t>> transitions_;
  std::shared_ptr<const std::vector<int64_t>> offsets_;
  int64_t initial_offset_ = 0;
};

struct CivilTime {
  int64_t year;
  int month, day, hour, minute, second;
};

// The local civil time of `utc_ms` in `zone`.
CivilTime ToCivil(int64_t utc_ms, const TimeZone& zone);
// Days since 1970-01-01 of a proleptic Gregorian date, and back.
// A UTC offset "+hh:mm" or "+hhmm" (or '-'), as written: its range is the caller's to check.
struct UtcOffset {
  bool east = true;
  int hours = 0, minutes = 0;
  int64_t seconds() const { return (hours * 3600 + minutes * 60) * (east ? 1 : -1); }
};
std::optional<UtcOffset> ParseUtcOffset(std::string_view text);

int64_t DaysFromCivil(int64_t y, int m, int d);
void CivilFromDays(int64_t days, int64_t* y, int* m, int* d);

}  // namespace tablelake::delivery
