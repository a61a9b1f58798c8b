// Writes one column chunk of a row group: pages (data page V1), an optional dictionary page,
// and the chunk's statistics. The file writer owns one per column.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/sink.h"
#include "parquet/codec.h"
#include "parquet/column_vector.h"
#include "parquet/schema.h"

namespace tablelake::parquet {

using tablelake::NewFileSink;
using tablelake::NewStringSink;
using tablelake::Sink;

struct WriterOptions {
  Codec codec = Codec::kSnappy;         // Default: SNAPPY
  int compression_level = 0;            // 0: the codec's default (zstd 3, gzip 6)
  int64_t row_group_bytes = 128 << 20;  // a row group ends past this many buffered bytes.
                                        // Default: 128 MiB (memory is bounded by one row group)
  int64_t max_row_group_rows = 0;       // also end it at this many rows; 0: no limit. Default: 0
  int64_t page_bytes = 1 << 20;         // a page ends past this many encoded bytes. Default: 1 MiB
  int64_t dictionary_bytes = 1 << 20;   // a dictionary past this falls back to PLAIN for the
                                        // rest of the chunk. Default: 1 MiB
  bool dictionary_must_pay_off = true;  // give the dictionary up after a chunk's first page
                                        // unless it beat PLAIN there. Default: true
  // Written into the footer's key-value metadata (writer, source table, task...).
  std::vector<std::pair<std::string, std::string>> key_value_metadata;
};

// What the footer says of a finished chunk.
struct ChunkMetadata {
  std::vector<int32_t> encodings;  // format Encoding values used by the chunk's pages
  int64_t num_values = 0;          // rows, nulls included
  int64_t null_count = 0;
  int64_t total_uncompressed_size = 0;
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  int64_t dictionary_page_offset = -1;              // -1: none
  std::optional<std::string> min_value, max_value;  // PLAIN-encoded, absent where not allowed
};

class ColumnChunkWriter {
 public:
  // `leaf`: the leaf column (a flat column, or a LIST's elements / a MAP's keys or values),
  // with its maximum definition and repetition levels.
  ColumnChunkWriter(ColumnSpec leaf, int max_definition, int max_repetition,
                    const WriterOptions& options, Compressor* compressor);
  ~ColumnChunkWriter();
  ColumnChunkWriter(const ColumnChunkWriter&) = delete;
  ColumnChunkWriter& operator=(const ColumnChunkWriter&) = delete;

  // Appends rows [row_begin, row_end) of a flat column; `value_begin` is the index of their
  // first value; `*values` receives how many values (non-null rows) they held.
  Status Append(const ColumnVector& v, size_t row_begin, size_t row_end, size_t value_begin,
                size_t* values);
  // Appends `n` levels of a nested leaf and the `values` values from `v` at `value_begin`
  // (one per level at the maximum definition). Must end at a row boundary.
  Status AppendLevels(const uint8_t* definition, const uint8_t* repetition, size_t n,
                      const ColumnVector& v, size_t value_begin, size_t values);
  // Bytes this chunk holds in memory: finished pages, the open page, the dictionary.
  int64_t BufferedBytes() const;
  // Ends the chunk: writes its pages to `sink` at sink->Tell(), fills `meta`, and resets for
  // the next row group.
  Status Flush(Sink* sink, ChunkMetadata* meta);

  const ColumnSpec& spec() const { return spec_; }

 private:
  class Impl;
  ColumnSpec spec_;
  Impl* impl_;
};

// Serializes a page header (thrift compact). `type`: 0 data page, 2 dictionary page.
void AppendPageHeader(int32_t type, int32_t uncompressed, int32_t compressed, int32_t num_values,
                      int32_t encoding, std::string* out);

}  // namespace tablelake::parquet
