// Encoding of a row's cells in one RocksDB value, and of single typed values.
//
// Row value: u8 format(1), varint column count, then per column: length-prefixed name, varint
// version count, and per version (newest first): varint timestamp ms, value. A value is a type
// byte then INTEGER/DOUBLE fixed64, BOOLEAN one byte, STRING/BINARY length-prefixed bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tablelake/status.h"
#include "tablelake/types.h"

namespace tablelake::store {

void AppendValue(ValueView v, std::string* out);
bool GetValue(std::string_view* in, Value* v);

// `cells` must be ordered by name, then newest timestamp first (see SortCells).
void EncodeCells(const std::vector<Cell>& cells, std::string* out);
// The same for cells of one version each, `timestamp`, whose names are in strictly increasing
// order: the bytes EncodeCells writes for them as Cells.
void EncodeCells(const std::vector<ColumnView>& cells, int64_t timestamp, std::string* out);
// `max_versions`, when given, receives the most versions any column has (0 for none).
Status DecodeCells(std::string_view in, std::vector<Cell>* cells, uint64_t* max_versions = nullptr);

// DecodeCells as views into `in`, no value copied. False (`*cells` then unspecified) where
// views cannot hold what is stored or it does not decode: DecodeCells says which.
bool DecodeCellViews(std::string_view in, std::vector<CellView>* cells, uint64_t* max_versions);

// Orders cells by column name, newest version first.
void SortCells(std::vector<Cell>* cells);

}  // namespace tablelake::store
