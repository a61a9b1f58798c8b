// Evaluation of Tablestore column filters, used as write conditions and as read filters.
#pragma once

#include <string>
#include <vector>

#include "tablelake/status.h"
#include "tablelake/types.h"

namespace tablelake::store {

// Checks the filter's shape: comparisons hold a plain value, NOT has one child, AND/OR at
// least two, pagination only where `allow_pagination` (reads) and with sane bounds.
Status ValidateFilter(const Filter& filter, bool allow_pagination);

// True when the row (cells sorted by name, newest first) passes. Pagination passes always.
bool RowMatches(const Filter& filter, const std::vector<Cell>& cells);

// Applies the column pagination parts of a read filter to the row's columns.
void ApplyColumnPagination(const Filter& filter, std::vector<Cell>* cells);

}  // namespace tablelake::store
