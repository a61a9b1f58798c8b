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
// any time order: this spares formatting a string per row, and numbering the partitions spares
// hashing their names (a scan over years of hours meets tens of thousands of them at random).
class PartitionNames {
 public:
  PartitionNames(const PathTemplate& prefix, const TimeZone& zone)
      : prefix_(prefix), zone_(zone), block_ms_(prefix.has_minutes() ? 60000 : 900000) {}
  // The number of a time's partition: the same name always gets the same number, counting
  // from 0 in the order they are met.
  uint32_t Id(int64_t utc_ms);
  const std::string& Name(uint32_t id) const { return *names_[id]; }
  const std::string& For(int64_t utc_ms) { return Name(Id(utc_ms)); }

 private:
  uint32_t Intern(std::string name);

  // Blocks near the first one met are found in an array (3.6 years of quarter hours, 91 days
  // of minutes: 512 KiB), others in a map that starts over past as many.
  static constexpr int64_t kWindow = 1 << 17;
  const PathTemplate& prefix_;
  const TimeZone& zone_;
  const int64_t block_ms_;
  std::vector<uint32_t> window_;  // block - window_start_ -> id + 1, 0 while unknown
  int64_t window_start_ = 0;
  std::unordered_map<int64_t, uint32_t> outside_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<const std::string*> names_;  // the keys of ids_
  bool has_last_ = false;
  int64_t last_block_ = 0;
  uint32_t last_id_ = 0;
};

// Joins a prefix and a file name with exactly one '/'.
std::string JoinKey(const std::string& prefix, const std::string& name);

}  // namespace tablelake::delivery
