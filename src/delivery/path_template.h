// Object key prefixes with the time variables $yyyy $MM $dd $HH $mm, filled per row.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "delivery/time_zone.h"
#include "tablelake/status.h"

namespace tablelake::delivery {

class PathTemplate {
 public:
  // Accepts only the five variables; any other '$' is an error naming it.
  static Result<PathTemplate> Parse(const std::string& prefix);

  bool has_variables() const { return has_variables_; }
  bool has_minutes() const { return has_minutes_; }
  // The prefix with the variables filled from `utc_ms` in `zone`.
  std::string Expand(int64_t utc_ms, const TimeZone& zone) const;
  // The part before the first variable: where every partition of the task lives.
  std::string StaticPrefix() const;

 private:
  enum class Part { kText, kYear, kMonth, kDay, kHour, kMinute };
  std::vector<std::pair<Part, std::string>> parts_;
  bool has_variables_ = false;
  bool has_minutes_ = false;
};

// A template's partitions by time, remembered per block of time: a minute when the template
// has $mm, else a quarter of an hour (zones' offsets are whole quarter hours, so hours and days
// begin on one). A block is remembered only when its first and last millisecond expand alike,
// so odd historic offsets are expanded row by row, never misfiled. Rows of a scan arrive in
// any time order: this spares formatting a string per row.
class PartitionNames {
 public:
  PartitionNames(const PathTemplate& prefix, const TimeZone& zone)
      : prefix_(prefix), zone_(zone), block_ms_(prefix.has_minutes() ? 60000 : 900000) {}
  // Valid until the next call.
  const std::string& For(int64_t utc_ms);

 private:
  static constexpr size_t kMaxBlocks = 1 << 17;  // about 10 MB of names; then start over
  const PathTemplate& prefix_;
  const TimeZone& zone_;
  const int64_t block_ms_;
  std::unordered_map<int64_t, std::string> blocks_;
  const std::string* last_ = nullptr;
  int64_t last_block_ = 0;
  std::string uncached_;
};

// Joins a prefix and a file name with exactly one '/'.
std::string JoinKey(const std::string& prefix, const std::string& name);

}  // namespace tablelake::delivery
