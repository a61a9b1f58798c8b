// Persistent table definitions: each table's description and its numeric id, stored as JSON
// in the store's meta column family.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tablelake/status.h"
#include "tablelake/types.h"

namespace tablelake::store {

struct TableInfo {
  uint32_t id = 0;  // prefixes every data and stream key of the table; never reused
  TableDescription desc;
};

std::string SerializeTableInfo(const TableInfo& info);
Status ParseTableInfo(std::string_view json, TableInfo* info);

}  // namespace tablelake::store
