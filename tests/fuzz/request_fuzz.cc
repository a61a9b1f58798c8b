// libFuzzer target: the request parser. The first byte picks a request message; the rest is
// parsed as that message and converted as the server converts it (rows, keys, conditions,
// filters, time ranges). Errors are fine; crashes, leaks and reads out of bounds are not.
#include <cstddef>
#include <cstdint>

#include "proto/tablestore.pb.h"
#include "server/wire_convert.h"

using namespace tablelake;
using namespace tablelake::server;

namespace {

template <typename Request>
bool Parse(std::string_view body, Request* r) {
  return r->ParseFromArray(body.data(), static_cast<int>(body.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {
      wire::PutRowRequest r;
      if (Parse(body, &r)) {
        (void)PutFromWire(r.table_name(), r.row());
        (void)FromWire(r.condition());
      }
      break;
    }
    case 1: {
      wire::UpdateRowRequest r;
      if (Parse(body, &r)) (void)UpdateFromWire(r.table_name(), r.row_change());
      break;
    }
    case 2: {
      wire::DeleteRowRequest r;
      if (Parse(body, &r)) (void)DeleteFromWire(r.table_name(), r.primary_key());
      break;
    }
    case 3: {
      wire::GetRangeRequest r;
      if (Parse(body, &r)) {
        (void)KeyFromWire(r.inclusive_start_primary_key(), "start");
        (void)KeyFromWire(r.exclusive_end_primary_key(), "end");
        if (r.has_filter()) (void)FilterFromWire(r.filter());
        if (r.has_time_range()) (void)FromWire(r.time_range());
      }
      break;
    }
    case 4: {
      wire::CreateTableRequest r;
      if (Parse(body, &r)) (void)FromWire(r.table_meta());
      break;
    }
    default:
      (void)FilterFromWire(std::string(body));
      break;
  }
  return 0;
}
