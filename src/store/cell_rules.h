// Tablestore's rules for names, cells and versions, kept apart from storage so they are
// testable alone and shared by writes, reads and background compaction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tablelake/status.h"
#include "tablelake/table_store.h"
#include "tablelake/types.h"

namespace tablelake::store {

constexpr size_t kMaxNameBytes = 255;
constexpr size_t kMaxAttributeValueBytes = 2 << 20;

// Table and column names: 1-255 bytes of [A-Za-z0-9_], not starting with a digit.
bool IsValidName(std::string_view name);
Status ValidateName(const std::string& what, const std::string& name);
Status ValidateTableMeta(const TableMeta& meta);
Status ValidateTableOptions(const std::string& table, const TableOptions& options);
Status ValidateStream(const std::string& table, const StreamSpecification& stream);

// A STRING value (of an attribute or a key column) that is not UTF-8: refused as Tablestore
// refuses it, since every reader of a STRING (JSON output, Parquet UTF8) needs text.
Status NotUtf8(const std::string& table, const std::string& column);
// Checks an attribute value written to `column` (type allowed, UTF-8 STRING, size within
// limit).
Status ValidateAttributeValue(const std::string& table, const std::string& column, const Value& v);
// Checks a caller-given version against the table's allowed deviation from now.
Status ValidateCellTimestamp(const std::string& table, const std::string& column, int64_t ts_ms,
                             const TableOptions& options, int64_t now_ms);

// Drops versions past the TTL and beyond max_versions per column. `cells` sorted (SortCells).
// Returns true when anything was dropped.
bool ApplyRetention(const TableOptions& options, int64_t now_ms, std::vector<Cell>* cells);

// False when retention cannot drop anything from a row whose columns hold at most
// `max_versions` versions each (as DecodeCells counts them): one version and no TTL.
inline bool RetentionMayDrop(const TableOptions& options, uint64_t max_versions) {
  return max_versions > 1 || options.time_to_live >= 0;
}

// Keeps what a read asked for: the columns, versions in the time range, the newest
// `max_versions` per column (0 = 1 without a time range, unlimited with one).
void SelectForRead(const std::vector<std::string>& columns_to_get,
                   const std::optional<TimeRange>& time_range, int32_t max_versions,
                   std::vector<Cell>* cells);

// Applies one UpdateRow to the row's stored cells; `resolved` receives the updates as they
// took effect (timestamps filled in, increments turned into puts of the new value).
Status ApplyUpdates(const std::string& table, const std::vector<ColumnUpdate>& updates,
                    int64_t now_ms, std::vector<Cell>* cells, std::vector<ColumnUpdate>* resolved);

// Keeps the newest version of each column that is within the TTL, in place: one pass for scans.
void KeepNewestLiveVersion(const TableOptions& options, int64_t now_ms, std::vector<Cell>* cells);
// Keeps the newest version of each column, in place.
void KeepNewestVersion(std::vector<Cell>* cells);
// The newest version of each column.
std::vector<Cell> LatestImage(const std::vector<Cell>& cells);

}  // namespace tablelake::store
