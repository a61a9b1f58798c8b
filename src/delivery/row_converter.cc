#include "delivery/row_converter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>

#include "common/coding.h"
#include "common/printable.h"
#include "common/text_scanner.h"
#include "common/utf8.h"
#include "delivery/event_time.h"
#include "delivery/time_zone.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "store/row_json.h"

namespace tablelake::delivery {
namespace {

using parquet::ColumnType;
using Staged = RowConverter::Staged;

Misfit Mismatch(const ValueView& v, const parquet::ColumnSpec& t, const std::string& why = "") {
  std::string type = parquet::ColumnTypeName(t.type);
  if (t.type == ColumnType::kDecimal) type += fmt::format("({},{})", t.precision, t.scale);
  return fmt::format("cannot write {} as {}{}{}", Printable(v.ToValue().DebugString(), 200), type,
                     why.empty() ? "" : ": ", why);
}

constexpr Misfit kFits = std::nullopt;

// The largest magnitude below which every integer is a double exactly.
constexpr int64_t kExactDoubleIntegers = int64_t{1} << 53;

// "-123.45" at scale s -> unscaled -12345 ([+-]digits[.digits] between spaces): why the text is
// not a DECIMAL(precision, scale) value, or "" when it is one. Trailing zeros past the scale are
// dropped; any other digit past it, or more digits before the point than precision - scale, do
// not fit.
std::string ParseDecimal(std::string_view text, int precision, int scale, __int128* out) {
  TextScanner in(text);
  in.TrimSpaces();
  char sign = '+';
  in.OneOf("+-", &sign);
  std::string_view whole, frac;
  in.DigitRun(0, std::string_view::npos, &whole);
  if (in.Text(".")) in.DigitRun(0, std::string_view::npos, &frac);
  if (!in.done() || (whole.empty() && frac.empty())) return "not decimal text";
  while (frac.size() > static_cast<size_t>(scale) && frac.back() == '0') frac.remove_suffix(1);
  if (frac.size() > static_cast<size_t>(scale)) {
    return fmt::format("does not fit: more than {} digits after the point", scale);
  }
  while (!whole.empty() && whole.front() == '0') whole.remove_prefix(1);
  if (whole.size() + scale > static_cast<size_t>(precision)) {
    return fmt::format("does not fit: more than {} digits before the point", precision - scale);
  }
  __int128 v = 0;
  for (char c : whole) v = v * 10 + (c - '0');
  for (char c : frac) v = v * 10 + (c - '0');
  for (size_t i = frac.size(); i < static_cast<size_t>(scale); ++i) v *= 10;
  *out = sign == '-' ? -v : v;
  return "";
}

void StageDecimal(__int128 v, const parquet::ColumnSpec& t, Staged* out) {
  if (t.precision <= 18) {
    out->integer = static_cast<int64_t>(v);
  } else {
    out->bytes = parquet::DecimalToFixed(v, parquet::DecimalBytes(t.precision));
    out->owned = true;
  }
}

__int128 Pow10(int n) {
  __int128 v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

// A DATE from "YYYY-MM-DD" (a year of 4 to 6 digits, maybe negative): why the text is not one,
// or "" when it is.
std::string ParseDate(std::string_view text, int64_t* days) {
  TextScanner in(text);
  const bool negative = in.Text("-");
  std::string_view year;
  int month, day;
  if (!in.DigitRun(4, 6, &year) || !in.Text("-") || !in.Digits(2, &month) || !in.Text("-") ||
      !in.Digits(2, &day) || !in.done()) {
    return "not a YYYY-MM-DD date";
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) return "no such day";
  const int64_t y = TextScanner::Value(year);
  *days = DaysFromCivil(negative ? -y : y, month, day);
  int64_t civil_year;
  int mm, dd;
  CivilFromDays(*days, &civil_year, &mm, &dd);
  return mm == month && dd == day ? "" : "no such day";  // 2026-02-30
}

// Stages one element of a LIST or MAP: null, or `value` converted to `element`.
Misfit StageElement(const ValueView* value, const parquet::ColumnSpec& element, Staged* e) {
  if (value == nullptr) {
    e->null = true;
    return kFits;
  }
  if (Misfit m = ConvertValue(*value, element, e)) return m;
  if (!e->owned) {  // `value` dies after this: keep a copy of its bytes
    e->bytes.assign(e->view);
    e->owned = true;
  }
  return kFits;
}

// A LIST or MAP whose JSON is plain (store::PlainJsonCollection), read by simdjson: a third of
// the time of delivering a LIST column went to nlohmann's parser. False: read it the slow way.
bool ConvertPlainNested(const ValueView& v, const parquet::ColumnSpec& t, Staged* out,
                        Misfit* misfit) {
  thread_local store::PlainJsonCollection reader;
  thread_local std::vector<store::PlainJsonCollection::Entry> entries;
  const bool list = t.type == ColumnType::kList;
  if (!(list ? reader.ReadArray(v.bytes(), &entries) : reader.ReadObject(v.bytes(), &entries))) {
    return false;
  }
  const parquet::ColumnSpec element = parquet::ElementSpec(t);
  out->entries.clear();
  out->keys.clear();
  for (const auto& entry : entries) {
    if (!list) out->keys.emplace_back(entry.key);
    out->entries.emplace_back();
    const ValueView* value = entry.value ? &*entry.value : nullptr;
    if ((*misfit = StageElement(value, element, &out->entries.back()))) {
      return true;
    }
  }
  out->null = false;
  return true;
}

Misfit ConvertNested(const ValueView& v, const parquet::ColumnSpec& t, Staged* out) {
  if (v.type() != ValueType::kString)
    return Mismatch(v, t, "a LIST or MAP is read from a JSON string");
  Misfit misfit = kFits;
  if (ConvertPlainNested(v, t, out, &misfit)) return misfit;
  auto j = nlohmann::json::parse(v.bytes(), nullptr, false);
  parquet::ColumnSpec element = parquet::ElementSpec(t);
  auto stage = [&](const nlohmann::json& x, Staged* e) -> Misfit {
    if (x.is_null()) return StageElement(nullptr, element, e);
    auto ev = store::ValueFromJson(x, t.name);
    if (!ev.ok()) return Mismatch(v, t, ev.status().message());
    const ValueView view = ev->view();
    return StageElement(&view, element, e);
  };
  out->entries.clear();
  out->keys.clear();
  if (t.type == ColumnType::kList) {
    if (!j.is_array()) return Mismatch(v, t, "not a JSON array");
    out->entries.resize(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
      if (Misfit m = stage(j[i], &out->entries[i])) return m;
    }
  } else {
    if (!j.is_object()) return Mismatch(v, t, "not a JSON object");
    for (const auto& [k, x] : j.items()) {
      out->keys.push_back(k);
      out->entries.emplace_back();
      if (Misfit m = stage(x, &out->entries.back())) return m;
    }
  }
  out->null = false;
  return kFits;
}

}  // namespace

Misfit ConvertValue(const ValueView& v, const parquet::ColumnSpec& t, Staged* out) {
  out->null = false;
  out->owned = false;
  ValueType vt = v.type();
  auto integer_in = [&](int64_t lo, int64_t hi) -> Misfit {
    if (vt != ValueType::kInteger) return Mismatch(v, t);
    if (v.integer() < lo || v.integer() > hi) return Mismatch(v, t, "out of range");
    out->integer = v.integer();
    return kFits;
  };
  switch (t.type) {
    case ColumnType::kBool:
      if (vt != ValueType::kBoolean) return Mismatch(v, t);
      out->integer = v.boolean();
      return kFits;
    case ColumnType::kInt64:
      return integer_in(INT64_MIN, INT64_MAX);
    case ColumnType::kInt32:
      return integer_in(INT32_MIN, INT32_MAX);
    case ColumnType::kTimeMillis:
      return integer_in(0, 86399999);
    case ColumnType::kTimeMicros:
      return integer_in(0, 86399999999LL);
    case ColumnType::kDouble:
    case ColumnType::kFloat:
      // Producers write 5 for 5.0: an INTEGER converts when the double holds it exactly.
      if (vt == ValueType::kInteger) {
        if (v.integer() > kExactDoubleIntegers || v.integer() < -kExactDoubleIntegers) {
          return Mismatch(v, t, "beyond 2^53, not exact as a double");
        }
        out->real = static_cast<double>(v.integer());
        return kFits;
      }
      if (vt != ValueType::kDouble) return Mismatch(v, t);
      if (t.type == ColumnType::kDouble) {
        out->real = v.dbl();
        return kFits;
      }
      if (std::isfinite(v.dbl()) && std::fabs(v.dbl()) > std::numeric_limits<float>::max()) {
        return Mismatch(v, t, "out of FLOAT range");
      }
      out->real = v.dbl();
      return kFits;
    case ColumnType::kUtf8:
      if ((vt != ValueType::kString && vt != ValueType::kBinary) || !IsValidUtf8(v.bytes())) {
        return Mismatch(v, t, vt == ValueType::kBinary ? "not valid UTF-8" : "");
      }
      out->view = v.bytes();  // the cell outlives the row's append: no copy
      return kFits;
    case ColumnType::kBinary:
      if (vt != ValueType::kBinary && vt != ValueType::kString) return Mismatch(v, t);
      out->view = v.bytes();
      return kFits;
    case ColumnType::kDate: {
      if (vt == ValueType::kString) {
        int64_t days = 0;
        std::string why = ParseDate(v.bytes(), &days);
        if (!why.empty()) return Mismatch(v, t, why);
        out->integer = days;
        return kFits;
      }
      return integer_in(INT32_MIN, INT32_MAX);
    }
    case ColumnType::kTimestampMillis:
    case ColumnType::kTimestampMicros: {
      int64_t unit = t.type == ColumnType::kTimestampMillis ? 1 : 1000;
      if (vt == ValueType::kString) {
        auto ms = ParseEventTime(v, EventTimeFormat::kRfc3339);
        if (!ms.ok()) return Mismatch(v, t, "not an RFC 3339 time");
        out->integer = *ms * unit;
        return kFits;
      }
      return integer_in(INT64_MIN, INT64_MAX);
    }
    case ColumnType::kInt96:
      // An INTEGER of milliseconds since the epoch, as Tablestore times are kept.
      if (vt != ValueType::kInteger) return Mismatch(v, t);
      out->bytes = parquet::Int96FromNanos(static_cast<__int128>(v.integer()) * 1000000);
      out->owned = true;
      return kFits;
    case ColumnType::kInterval: {
      // An INTEGER of milliseconds: whole days and the milliseconds left.
      if (vt != ValueType::kInteger || v.integer() < 0)
        return Mismatch(v, t, "needs milliseconds >= 0");
      int64_t days = v.integer() / 86400000;
      if (days > UINT32_MAX) return Mismatch(v, t, "out of range");
      out->bytes = parquet::IntervalBytes(0, static_cast<uint32_t>(days),
                                          static_cast<uint32_t>(v.integer() % 86400000));
      out->owned = true;
      return kFits;
    }
    case ColumnType::kDecimal: {
      __int128 unscaled = 0;
      if (vt == ValueType::kString) {
        std::string why = ParseDecimal(v.bytes(), t.precision, t.scale, &unscaled);
        if (!why.empty()) return Mismatch(v, t, why);
      } else if (vt == ValueType::kInteger) {
        unscaled = static_cast<__int128>(v.integer()) * Pow10(t.scale);
        if (unscaled >= Pow10(t.precision) || unscaled <= -Pow10(t.precision)) {
          return Mismatch(v, t, "does not fit");
        }
      } else {
        return Mismatch(v, t);
      }
      StageDecimal(unscaled, t, out);
      return kFits;
    }
    case ColumnType::kList:
    case ColumnType::kMap:
      return ConvertNested(v, t, out);
  }
  return Mismatch(v, t);
}

namespace {

// A staged value's size in PLAIN encoding: 4 bytes of length before a byte array.
size_t PlainBytes(const Staged& s, parquet::PhysicalType type) {
  if (s.null) return 0;
  switch (type) {
    case parquet::PhysicalType::kBoolean:
      return 1;
    case parquet::PhysicalType::kInt32:
    case parquet::PhysicalType::kFloat:
      return 4;
    case parquet::PhysicalType::kInt64:
    case parquet::PhysicalType::kDouble:
      return 8;
    default:
      return 4 + s.value().size();
  }
}

void AppendStaged(const Staged& s, const parquet::ColumnSpec& t, parquet::ColumnVector* out) {
  if (s.null) {
    out->AppendNull();
    return;
  }
  switch (out->type()) {
    case parquet::PhysicalType::kBoolean:
      out->AppendBool(s.integer != 0);
      break;
    case parquet::PhysicalType::kInt32:
      out->AppendInt32(static_cast<int32_t>(s.integer));
      break;
    case parquet::PhysicalType::kInt64:
      out->AppendInt64(s.integer);
      break;
    case parquet::PhysicalType::kFloat:
      out->AppendFloat(static_cast<float>(s.real));
      break;
    case parquet::PhysicalType::kDouble:
      out->AppendDouble(s.real);
      break;
    default:
      out->AppendBytes(s.value());
      break;
  }
}

}  // namespace

RowConverter::RowConverter(const ResolvedTask& task)
    : task_(task), staged_(task.columns.size()), hints_(task.columns.size(), 0) {
  for (const auto& c : task.columns) {
    physical_.push_back(parquet::PhysicalTypeOf(c.parquet));
    nested_.push_back(parquet::IsNested(c.parquet));
  }
}

template <typename Key, typename Cells>
DirtyReason RowConverter::Stage(const Key& key, const Cells& cells, const Change& change) {
  for (size_t i = 0; i < task_.columns.size(); ++i) {
    const ResolvedColumn& c = task_.columns[i];
    Staged& st = staged_[i];
    switch (c.source) {
      case ResolvedColumn::Source::kColumn:
        break;
      case ResolvedColumn::Source::kOp:
        st.null = st.owned = false;
        st.view = change.op;
        continue;
      case ResolvedColumn::Source::kSequence:
        st.null = false;
        st.integer = static_cast<int64_t>(change.sequence);
        continue;
      case ResolvedColumn::Source::kCommitTime:
        st.null = false;
        st.integer = change.commit_time_us;
        continue;
    }
    std::optional<ValueView> v;
    if (c.key_index >= 0) {
      v = ViewOf(key[c.key_index].value);
    } else if (size_t h = hints_[i];
               h < cells.size() && SameBytes(cells[h].name, c.column.source)) {
      v = ViewOf(cells[h].value);  // rows of a table mostly share their layout
    } else {
      auto it = std::lower_bound(
          cells.begin(), cells.end(), c.column.source,
          [](const auto& cell, const std::string& name) { return cell.name < name; });
      if (it != cells.end() && it->name == c.column.source) {
        v = ViewOf(it->value);
        hints_[i] = static_cast<size_t>(it - cells.begin());
      }
    }
    if (!v) {
      staged_[i].null = true;  // a missing column is null, not dirty
      continue;
    }
    if (Misfit m = ConvertValue(*v, c.parquet, &staged_[i])) {
      return {fmt::format("column '{}': {}", c.column.source, *m)};
    }
  }
  row_bytes_ = 0;
  for (size_t i = 0; i < staged_.size(); ++i) {
    const Staged& s = staged_[i];
    row_bytes_ += PlainBytes(s, physical_[i]);
    if (s.null || !nested_[i]) continue;
    for (const auto& key : s.keys) row_bytes_ += 4 + key.size();
    for (const auto& entry : s.entries) row_bytes_ += PlainBytes(entry, physical_[i]);
  }
  return {};
}

template DirtyReason RowConverter::Stage(const PrimaryKey&, const std::vector<Cell>&,
                                         const Change&);
template DirtyReason RowConverter::Stage(const std::vector<ColumnView>&,
                                         const std::vector<CellView>&, const Change&);

Status RowConverter::Write(parquet::RowAppender* out) {
  for (size_t i = 0; i < task_.columns.size(); ++i) {
    const Staged& s = staged_[i];
    parquet::ColumnVector& col = out->column(i);
    if (!col.nested()) {
      AppendStaged(s, task_.columns[i].parquet, &col);
      continue;
    }
    if (s.null) {
      col.AppendNullRow();
      continue;
    }
    col.BeginRow(static_cast<int32_t>(s.entries.size()));
    for (size_t e = 0; e < s.entries.size(); ++e) {
      if (!s.keys.empty()) col.AppendKey(s.keys[e]);
      AppendStaged(s.entries[e], task_.columns[i].parquet, &col);
    }
  }
  return out->EndRow();
}

namespace {

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

void EncodeValue(const RowConverter::Staged& s, parquet::PhysicalType type, std::string* out) {
  if (s.null) {
    out->push_back(0);
    return;
  }
  out->push_back(1);
  switch (type) {
    case parquet::PhysicalType::kBoolean:
    case parquet::PhysicalType::kInt32:
    case parquet::PhysicalType::kInt64:
      PutVarint64(out, ZigZag(s.integer));
      break;
    case parquet::PhysicalType::kFloat:
    case parquet::PhysicalType::kDouble: {
      uint64_t bits;
      std::memcpy(&bits, &s.real, 8);
      PutFixed64(out, bits);
      break;
    }
    default:
      PutLengthPrefixed(out, s.value());
      break;
  }
}

// Decodes one value (or null) into `col`; false when `in` ends early.
bool AppendValue(std::string_view* in, parquet::ColumnVector* col) {
  uint8_t present;
  if (!GetByte(in, &present)) return false;
  if (present == 0) {
    col->AppendNull();
    return true;
  }
  uint64_t bits;
  std::string_view bytes;
  switch (col->type()) {
    case parquet::PhysicalType::kBoolean:
      if (!GetVarint64(in, &bits)) return false;
      col->AppendBool(UnZigZag(bits) != 0);
      return true;
    case parquet::PhysicalType::kInt32:
      if (!GetVarint64(in, &bits)) return false;
      col->AppendInt32(static_cast<int32_t>(UnZigZag(bits)));
      return true;
    case parquet::PhysicalType::kInt64:
      if (!GetVarint64(in, &bits)) return false;
      col->AppendInt64(UnZigZag(bits));
      return true;
    case parquet::PhysicalType::kFloat:
    case parquet::PhysicalType::kDouble: {
      if (!GetFixed64(in, &bits)) return false;
      double d;
      std::memcpy(&d, &bits, 8);
      if (col->type() == parquet::PhysicalType::kFloat) {
        col->AppendFloat(static_cast<float>(d));
      } else {
        col->AppendDouble(d);
      }
      return true;
    }
    default:
      if (!GetLengthPrefixed(in, &bytes)) return false;
      col->AppendBytes(bytes);
      return true;
  }
}

}  // namespace

void RowConverter::Encode(std::string* out) const {
  for (size_t i = 0; i < staged_.size(); ++i) {
    const Staged& s = staged_[i];
    if (!nested_[i]) {
      EncodeValue(s, physical_[i], out);
      continue;
    }
    out->push_back(s.null ? 0 : 1);
    if (s.null) continue;
    PutVarint64(out, s.entries.size());
    for (size_t e = 0; e < s.entries.size(); ++e) {
      if (!s.keys.empty()) PutLengthPrefixed(out, s.keys[e]);
      EncodeValue(s.entries[e], physical_[i], out);
    }
  }
}

Status RowConverter::AppendEncoded(std::string_view row, parquet::RowAppender* out) const {
  std::string_view in = row;
  for (size_t i = 0; i < staged_.size(); ++i) {
    parquet::ColumnVector& col = out->column(i);
    bool ok = true;
    if (!col.nested()) {
      ok = AppendValue(&in, &col);
    } else {
      uint8_t present;
      uint64_t entries = 0;
      ok = GetByte(&in, &present) && (present == 0 || GetVarint64(&in, &entries));
      if (ok && present == 0) col.AppendNullRow();
      if (ok && present != 0) col.BeginRow(static_cast<int32_t>(entries));
      bool map = task_.columns[i].parquet.type == parquet::ColumnType::kMap;
      for (uint64_t e = 0; ok && present != 0 && e < entries; ++e) {
        std::string_view key;
        if (map) ok = GetLengthPrefixed(&in, &key);
        if (ok && map) col.AppendKey(key);
        ok = ok && AppendValue(&in, &col);
      }
    }
    if (!ok) return Status::Corruption(fmt::format("a grouped row ends early, in column {}", i));
  }
  if (!in.empty()) return Status::Corruption("a grouped row has bytes past its last column");
  return out->EndRow();
}

}  // namespace tablelake::delivery
