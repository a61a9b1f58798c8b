#include "parquet/column_vector.h"

namespace tablelake::parquet {

std::string DecimalToFixed(__int128 unscaled, int32_t width) {
  std::string out(width, '\0');
  unsigned __int128 u = static_cast<unsigned __int128>(unscaled);
  for (int32_t i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>(static_cast<uint8_t>(u & 0xff));
    u >>= 8;
  }
  return out;
}

std::string Int96FromNanos(__int128 nanos) {
  constexpr int64_t kNanosPerDay = 86400LL * 1000000000LL;
  constexpr int64_t kJulianDayOfEpoch = 2440588;
  __int128 days = nanos / kNanosPerDay;
  __int128 rem = nanos % kNanosPerDay;
  if (rem < 0) {  // floor, for instants before 1970
    rem += kNanosPerDay;
    --days;
  }
  uint64_t nanos_of_day = static_cast<uint64_t>(rem);
  uint32_t julian = static_cast<uint32_t>(days + kJulianDayOfEpoch);
  std::string out(12, '\0');
  std::memcpy(out.data(), &nanos_of_day, 8);
  std::memcpy(out.data() + 8, &julian, 4);
  return out;
}

std::string IntervalBytes(uint32_t months, uint32_t days, uint32_t millis) {
  std::string out(12, '\0');
  std::memcpy(out.data(), &months, 4);
  std::memcpy(out.data() + 4, &days, 4);
  std::memcpy(out.data() + 8, &millis, 4);
  return out;
}

}  // namespace tablelake::parquet
