// Event times for partitioning, in the formats Tablestore's EventColumn names. The layouts are
// Go's time package constants, which the service's names follow:
//   RFC822   "02 Jan 06 15:04 MST"             (or a -0700 offset for the zone)
//   RFC850   "Monday, 02-Jan-06 15:04:05 MST"
//   RFC1123  "Mon, 02 Jan 2006 15:04:05 MST"   (or -0700)
//   RFC3339  "2006-01-02T15:04:05Z07:00", fractional seconds allowed
//   Unix     seconds since the epoch: an INTEGER cell or a STRING of digits
// Zone names: UT, UTC, GMT, Z and the RFC 822 North American zones (EST EDT CST CDT MST MDT
// PST PDT); two-digit years are 1969-2068, as Go reads them.
#pragma once

#include <cstdint>
#include <string>

#include "tablelake/delivery.h"
#include "tablelake/status.h"
#include "tablelake/types.h"

namespace tablelake::delivery {

// Milliseconds since the epoch, or an error saying why the value does not parse.
Result<int64_t> ParseEventTime(const ValueView& value, EventTimeFormat format);
inline Result<int64_t> ParseEventTime(const Value& value, EventTimeFormat format) {
  return ParseEventTime(value.view(), format);
}

}  // namespace tablelake::delivery
