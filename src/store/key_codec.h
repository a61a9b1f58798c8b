// Order-preserving encoding of primary keys (see docs/key_format.md).
//
// Encoded keys compare bytewise exactly as Tablestore orders rows: column by column, INTEGER by
// signed value, STRING and BINARY bytewise, INF_MIN below and INF_MAX above every value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tablelake/status.h"
#include "tablelake/types.h"

namespace tablelake::store {

constexpr size_t kMaxPrimaryKeyValueBytes = 1024;

// Which special values a key may hold: full row keys hold none, range bounds INF_MIN/INF_MAX,
// keys being inserted an AUTO_INCREMENT placeholder in the auto-increment column.
enum class KeyUse { kRow, kBound, kInsert };

// Checks `pk` against the table's key schema: same columns in order, matching types, sizes.
Status ValidatePrimaryKey(const std::string& table, const std::vector<PrimaryKeySchema>& schema,
                          const PrimaryKey& pk, KeyUse use);

// The 4-byte big-endian table id every key of a table starts with.
constexpr size_t kTablePrefixBytes = 4;
std::string TablePrefix(uint32_t table_id);

// The encoded primary key of a row key: what follows its table prefix.
inline std::string_view RowKeyPart(std::string_view row_key) {
  return row_key.substr(kTablePrefixBytes);
}

// Appends the encoding of a validated key (INF values end the encoding).
void AppendPrimaryKey(const PrimaryKey& pk, std::string* out);
void AppendPrimaryKey(const std::vector<ColumnView>& pk, std::string* out);

// Decodes the key part (after the table prefix) of a row key.
Status DecodePrimaryKey(const std::vector<PrimaryKeySchema>& schema, std::string_view in,
                        PrimaryKey* pk);
// DecodePrimaryKey as views into `in` (names: the schema's). False where a string holds an
// escaped zero byte, which no view of `in` shows, or the key does not decode: DecodePrimaryKey
// then.
bool DecodePrimaryKeyViews(const std::vector<PrimaryKeySchema>& schema, std::string_view in,
                           std::vector<ColumnView>* pk);

// Smallest key strictly greater than every key starting with `prefix`; empty if none exists.
std::string PrefixSuccessor(std::string prefix);

}  // namespace tablelake::store
