// Object key prefixes with the time variables $yyyy $MM $dd $HH $mm, filled per row.
#pragma once

#include <string>
#include <vector>

#include "delivery/time_zone.h"
#include "tablelake/status.h"

namespace tablelake::delivery {

class PathTemplate {
 public:
  // Accepts only the five variables; any other '$' is an error naming it.
  static Result<PathTemplate> Parse(const std::string& prefix);

  bool has_variables() const { return has_variables_; }
  // The prefix with the variables filled from `utc_ms` in `zone`.
  std::string Expand(int64_t utc_ms, const TimeZone& zone) const;
  // The part before the first variable: where every partition of the task lives.
  std::string StaticPrefix() const;

 private:
  enum class Part { kText, kYear, kMonth, kDay, kHour, kMinute };
  std::vector<std::pair<Part, std::string>> parts_;
  bool has_variables_ = false;
};

// Joins a prefix and a file name with exactly one '/'.
std::string JoinKey(const std::string& prefix, const std::string& name);

}  // namespace tablelake::delivery
