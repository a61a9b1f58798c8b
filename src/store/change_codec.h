// Encoding of change records in the stream column family.
//
// Key: table id (4 bytes BE) + sequence (8 bytes BE), so one table's records are contiguous and
// in commit order. Value: fixed64 commit time µs, u8 op, length-prefixed encoded primary key,
// varint column count, per column: u8 op, length-prefixed name, varint ts+1, value if any;
// then, for UPDATE only, the row image as a length-prefixed row value (row_codec.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tablelake/status.h"
#include "tablelake/table_store.h"

namespace tablelake::store {

std::string StreamKey(uint32_t table_id, uint64_t sequence);
// The sequence of a stream key; false when `key` is too short to be one.
bool StreamKeySequence(std::string_view key, uint64_t* sequence);

std::string EncodeChange(int64_t commit_time_us, ChangeOp op, std::string_view encoded_pk,
                         const std::vector<ColumnUpdate>& columns,
                         const std::vector<Cell>& update_image);

// The record EncodeChange writes for a put of these cells (see EncodeCells of views).
std::string EncodePutChange(int64_t commit_time_us, std::string_view encoded_pk,
                            const std::vector<ColumnView>& cells, int64_t timestamp);

// Reads the commit time without decoding the rest (compaction uses it).
bool ChangeCommitTime(std::string_view value, int64_t* commit_time_us);

Status DecodeChange(const std::vector<PrimaryKeySchema>& schema, std::string_view value,
                    ChangeRecord* record);

}  // namespace tablelake::store
