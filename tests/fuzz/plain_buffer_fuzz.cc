// libFuzzer target: PlainBuffer decoding of any bytes. Whatever decodes must encode back to a
// buffer that decodes to the same rows (AddressSanitizer catches any read past the input).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "server/plain_buffer.h"

using namespace tablelake;
using namespace tablelake::server;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto rows = DecodeRows(in);
  (void)DecodeRow(in);
  (void)DecodeVariant(in);
  if (!rows.ok()) return 0;
  std::string again;
  AppendHeader(&again);
  for (const auto& r : *rows) AppendWireRow(&again, r);
  auto back = DecodeRows(again);
  if (!back.ok() || back->size() != rows->size()) std::abort();
  for (size_t i = 0; i < rows->size(); ++i) {
    if ((*back)[i].primary_key != (*rows)[i].primary_key ||
        (*back)[i].cells.size() != (*rows)[i].cells.size() ||
        (*back)[i].delete_marker != (*rows)[i].delete_marker) {
      std::abort();
    }
  }
  return 0;
}
