// Split points of a table by stored size: keys that cut it into ranges of about a given size,
// for ComputeSplitPointsBySize and parallel scans. Each point is found by bisecting the key
// space with RocksDB's size estimates (index blocks and memtables, so a table just loaded is
// sized too) and seeking to the first row there: a few dozen seeks per point, no scan.
// Approximate to a data block, as the cloud's are.
#pragma once

#include <cstdint>
#include <vector>

#include "rocksdb/db.h"
#include "tablelake/status.h"
#include "tablelake/types.h"

namespace tablelake::store {

Result<std::vector<PrimaryKey>> ComputeSplitPoints(rocksdb::DB* db,
                                                   rocksdb::ColumnFamilyHandle* data,
                                                   uint32_t table_id,
                                                   const std::vector<PrimaryKeySchema>& schema,
                                                   int64_t split_bytes, int32_t limit);

// At most `parts - 1` points that cut the table into ranges of about equal stored size, each at
// least `min_part_bytes` (so fewer, or none, for a small table).
Result<std::vector<PrimaryKey>> SplitIntoParts(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* data,
                                               uint32_t table_id,
                                               const std::vector<PrimaryKeySchema>& schema,
                                               int32_t parts, int64_t min_part_bytes);

}  // namespace tablelake::store
