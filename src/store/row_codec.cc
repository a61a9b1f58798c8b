#include "store/row_codec.h"

#include <algorithm>
#include <cstring>

#include "common/coding.h"

namespace tablelake::store {
namespace {
constexpr uint8_t kRowFormat = 1;
}

void AppendValue(ValueView v, std::string* out) {
  out->push_back(static_cast<char>(v.type()));
  switch (v.type()) {
    case ValueType::kInteger:
    case ValueType::kDouble:  // its bits
      PutFixed64(out, static_cast<uint64_t>(v.integer()));
      break;
    case ValueType::kBoolean:
      out->push_back(v.boolean() ? 1 : 0);
      break;
    case ValueType::kString:
    case ValueType::kBinary:
      PutLengthPrefixed(out, v.bytes());
      break;
    default:
      break;
  }
}

namespace {

// GetValue's body, inlined into DecodeCells: scans decode several values per row.
inline __attribute__((always_inline)) bool ParseValue(std::string_view* in, Value* v) {
  uint8_t type;
  if (!GetByte(in, &type)) return false;
  switch (static_cast<ValueType>(type)) {
    case ValueType::kInteger: {
      uint64_t x;
      if (!GetFixed64(in, &x)) return false;
      v->SetInteger(static_cast<int64_t>(x));
      return true;
    }
    case ValueType::kDouble: {
      uint64_t x;
      if (!GetFixed64(in, &x)) return false;
      double d;
      std::memcpy(&d, &x, 8);
      v->SetDouble(d);
      return true;
    }
    case ValueType::kBoolean: {
      uint8_t b;
      if (!GetByte(in, &b)) return false;
      v->SetBoolean(b != 0);
      return true;
    }
    case ValueType::kString:
    case ValueType::kBinary: {
      std::string_view s;
      if (!GetLengthPrefixed(in, &s)) return false;
      v->SetBytes(static_cast<ValueType>(type), s);
      return true;
    }
    case ValueType::kInfMin:
      *v = Value::InfMin();
      return true;
    case ValueType::kInfMax:
      *v = Value::InfMax();
      return true;
    case ValueType::kAutoIncrement:
      *v = Value::AutoIncrement();
      return true;
  }
  return false;
}

// ParseValue as a view of `*in`: false also for the types only keys take (INF_MIN, ...).
inline __attribute__((always_inline)) bool ParseValueView(std::string_view* in, ValueView* v) {
  uint8_t type;
  if (!GetByte(in, &type)) return false;
  switch (static_cast<ValueType>(type)) {
    case ValueType::kInteger:
    case ValueType::kDouble: {
      uint64_t x;
      if (!GetFixed64(in, &x)) return false;
      if (type == static_cast<uint8_t>(ValueType::kInteger)) {
        *v = ValueView::Integer(static_cast<int64_t>(x));
      } else {
        double d;
        std::memcpy(&d, &x, 8);
        *v = ValueView::Double(d);
      }
      return true;
    }
    case ValueType::kBoolean: {
      uint8_t b;
      if (!GetByte(in, &b)) return false;
      *v = ValueView::Boolean(b != 0);
      return true;
    }
    case ValueType::kString:
    case ValueType::kBinary: {
      std::string_view s;
      if (!GetLengthPrefixed(in, &s)) return false;
      *v = type == static_cast<uint8_t>(ValueType::kString) ? ValueView::String(s)
                                                            : ValueView::Binary(s);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

bool GetValue(std::string_view* in, Value* v) { return ParseValue(in, v); }

void SortCells(std::vector<Cell>* cells) {
  auto before = [](const Cell& a, const Cell& b) {
    int c = a.name.compare(b.name);
    return c != 0 ? c < 0 : a.timestamp > b.timestamp;
  };
  // A row's few cells, often in order already: an insertion sort (stable too) allocates nothing,
  // where std::stable_sort takes a buffer for every row written.
  constexpr size_t kFew = 32;
  if (cells->size() > kFew) {
    std::stable_sort(cells->begin(), cells->end(), before);
    return;
  }
  for (size_t i = 1; i < cells->size(); ++i) {
    if (!before((*cells)[i], (*cells)[i - 1])) continue;
    Cell moving = std::move((*cells)[i]);
    size_t j = i;
    for (; j > 0 && before(moving, (*cells)[j - 1]); --j) (*cells)[j] = std::move((*cells)[j - 1]);
    (*cells)[j] = std::move(moving);
  }
}

void EncodeCells(const std::vector<Cell>& cells, std::string* out) {
  // Room for the whole row at once: appended piece by piece, a row of a few cells would grow
  // its string several times (a tenth of a bulk load's time went to those copies).
  size_t bytes = 11;
  size_t groups = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i == 0 || cells[i].name != cells[i - 1].name) ++groups;
    bytes += cells[i].name.size() + 32;  // lengths, counts, version, type, a number
    const ValueType type = cells[i].value.type();
    if (type == ValueType::kString || type == ValueType::kBinary) {
      bytes += cells[i].value.bytes().size();
    }
  }
  out->reserve(out->size() + bytes);
  out->push_back(static_cast<char>(kRowFormat));
  PutVarint64(out, groups);
  for (size_t i = 0; i < cells.size();) {
    size_t j = i;
    while (j < cells.size() && cells[j].name == cells[i].name) ++j;
    PutLengthPrefixed(out, cells[i].name);
    PutVarint64(out, j - i);
    for (; i < j; ++i) {
      PutVarint64(out, static_cast<uint64_t>(cells[i].timestamp));
      AppendValue(cells[i].value.view(), out);
    }
  }
}

void EncodeCells(const std::vector<ColumnView>& cells, int64_t timestamp, std::string* out) {
  size_t bytes = 11;
  for (const ColumnView& c : cells) bytes += c.name.size() + c.value.bytes().size() + 32;
  out->reserve(out->size() + bytes);
  out->push_back(static_cast<char>(kRowFormat));
  PutVarint64(out, cells.size());
  for (const ColumnView& c : cells) {
    PutLengthPrefixed(out, c.name);
    PutVarint64(out, 1);
    PutVarint64(out, static_cast<uint64_t>(timestamp));
    AppendValue(c.value, out);
  }
}

namespace {

// Reads a row value: on_columns(column count) first, then for each stored version
// on_cell(name, timestamp, &in), which reads its value from `in` (false: it cannot). Says what
// is wrong with a value that does not decode.
template <typename OnColumns, typename OnCell>
Status ReadCells(std::string_view in, uint64_t* max_versions, OnColumns&& on_columns,
                 OnCell&& on_cell) {
  uint8_t format;
  uint64_t groups;
  if (!GetByte(&in, &format) || format != kRowFormat || !GetVarint64(&in, &groups)) {
    return Status::Corruption("bad row value header");
  }
  if (groups > in.size()) return Status::Corruption("bad row column count");
  on_columns(groups);
  uint64_t most = 0;
  for (uint64_t g = 0; g < groups; ++g) {
    std::string_view name;
    uint64_t versions;
    if (!GetLengthPrefixed(&in, &name) || !GetVarint64(&in, &versions) || versions > in.size()) {
      return Status::Corruption("truncated row column");
    }
    most = std::max(most, versions);
    for (uint64_t v = 0; v < versions; ++v) {
      uint64_t ts;
      if (!GetVarint64(&in, &ts) || !on_cell(name, static_cast<int64_t>(ts), &in)) {
        return Status::Corruption("truncated row cell");
      }
    }
  }
  if (max_versions != nullptr) *max_versions = most;
  if (!in.empty()) return Status::Corruption("trailing bytes in row value");
  return Status::OK();
}

}  // namespace

Status DecodeCells(std::string_view in, std::vector<Cell>* cells, uint64_t* max_versions) {
  // Decodes over the vector's existing cells so that a reader scanning many rows reuses their
  // buffers instead of allocating per cell.
  size_t n = 0;
  Status s = ReadCells(
      in, max_versions, [&](uint64_t columns) { cells->reserve(columns); },
      [&](std::string_view name, int64_t ts, std::string_view* value) {
        if (n == cells->size()) cells->emplace_back();
        Cell& cell = (*cells)[n++];
        if (!ParseValue(value, &cell.value)) return false;
        if (!SameBytes(cell.name, name)) cell.name.assign(name);  // scans repeat the same names
        cell.timestamp = ts;
        return true;
      });
  cells->resize(n);
  return s;
}

bool DecodeCellViews(std::string_view in, std::vector<CellView>* cells, uint64_t* max_versions) {
  cells->clear();
  return ReadCells(
             in, max_versions, [](uint64_t) {},
             [&](std::string_view name, int64_t ts, std::string_view* value) {
               CellView& cell = cells->emplace_back();
               cell.name = name;
               cell.timestamp = ts;
               return ParseValueView(value, &cell.value);
             })
      .ok();
}

}  // namespace tablelake::store
