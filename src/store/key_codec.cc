#include "store/key_codec.h"

#include "common/coding.h"
#include "common/utf8.h"
#include "fmt/format.h"
#include "store/cell_rules.h"

namespace tablelake::store {
namespace {

// Each column starts with a marker; INF_MIN and INF_MAX sort around every value marker and
// end the key, since the columns after an infinite one cannot change its order.
constexpr char kInfMinMarker = 0x00;
constexpr char kValueMarker = 0x01;
constexpr char kInfMaxMarker = static_cast<char>(0xff);

bool TypeMatches(PrimaryKeyType t, ValueType v) {
  return (t == PrimaryKeyType::kInteger && v == ValueType::kInteger) ||
         (t == PrimaryKeyType::kString && v == ValueType::kString) ||
         (t == PrimaryKeyType::kBinary && v == ValueType::kBinary);
}

// Bytes with 0x00 escaped as 00 FF and terminated by 00 01: order-preserving, prefix-free.
void AppendEscaped(std::string_view s, std::string* out) {
  // Stretches without a zero byte in one append each: most keys have none.
  for (size_t zero; (zero = s.find('\0')) != std::string_view::npos; s.remove_prefix(zero + 1)) {
    out->append(s.data(), zero + 1);
    out->push_back(static_cast<char>(0xff));
  }
  out->append(s);
  out->push_back(0);
  out->push_back(1);
}

bool GetEscaped(std::string_view* in, std::string* s) {
  s->clear();
  while (!in->empty()) {
    char c = (*in)[0];
    in->remove_prefix(1);
    if (c != 0) {
      s->push_back(c);
      continue;
    }
    if (in->empty()) return false;
    char next = (*in)[0];
    in->remove_prefix(1);
    if (next == 1) return true;
    if (next != static_cast<char>(0xff)) return false;
    s->push_back(0);
  }
  return false;
}

}  // namespace

Status ValidatePrimaryKey(const std::string& table, const std::vector<PrimaryKeySchema>& schema,
                          const PrimaryKey& pk, KeyUse use) {
  if (pk.size() != schema.size()) {
    return Status::InvalidPrimaryKey(
        fmt::format("table '{}': primary key has {} columns, the table's schema has {}", table,
                    pk.size(), schema.size()));
  }
  for (size_t i = 0; i < pk.size(); ++i) {
    const auto& col = pk[i];
    const auto& sc = schema[i];
    if (col.name != sc.name) {
      return Status::InvalidPrimaryKey(
          fmt::format("table '{}': primary key column {} is '{}', expected '{}'", table, i + 1,
                      col.name, sc.name));
    }
    ValueType vt = col.value.type();
    bool special_ok =
        (use == KeyUse::kBound && (vt == ValueType::kInfMin || vt == ValueType::kInfMax)) ||
        (use == KeyUse::kInsert && vt == ValueType::kAutoIncrement && sc.auto_increment);
    if (!special_ok && !TypeMatches(sc.type, vt)) {
      return Status::InvalidPrimaryKey(
          fmt::format("table '{}': primary key column '{}' is {}, got {}", table, sc.name,
                      PrimaryKeyTypeName(sc.type), col.value.DebugString()));
    }
    if (vt == ValueType::kString && !IsValidUtf8(col.value.bytes())) {
      return NotUtf8(table, sc.name);
    }
    if ((vt == ValueType::kString || vt == ValueType::kBinary) &&
        col.value.bytes().size() > kMaxPrimaryKeyValueBytes) {
      return Status::InvalidArgument(
          fmt::format("table '{}': primary key column '{}' value is {} bytes, the limit is {}",
                      table, sc.name, col.value.bytes().size(), kMaxPrimaryKeyValueBytes));
    }
  }
  return Status::OK();
}

std::string TablePrefix(uint32_t table_id) {
  std::string p;
  PutBigEndian32(&p, table_id);
  return p;
}

namespace {

// False after an infinite value: it ends the key.
bool AppendKeyValue(ValueView v, std::string* out) {
  switch (v.type()) {
    case ValueType::kInfMin:
      out->push_back(kInfMinMarker);
      return false;
    case ValueType::kInfMax:
      out->push_back(kInfMaxMarker);
      return false;
    case ValueType::kInteger:
      out->push_back(kValueMarker);
      PutBigEndian64(out, static_cast<uint64_t>(v.integer()) ^ (1ULL << 63));
      return true;
    default:
      out->push_back(kValueMarker);
      AppendEscaped(v.bytes(), out);
      return true;
  }
}

}  // namespace

void AppendPrimaryKey(const PrimaryKey& pk, std::string* out) {
  for (const auto& col : pk) {
    if (!AppendKeyValue(col.value.view(), out)) return;
  }
}

void AppendPrimaryKey(const std::vector<ColumnView>& pk, std::string* out) {
  for (const auto& col : pk) {
    if (!AppendKeyValue(col.value, out)) return;
  }
}

namespace {

// Reads an encoded key: on_column(i, value) for each of the schema's columns, the value a view
// of `in` or, for bytes with an escaped zero byte, of `*unescaped` (without it, such bytes end
// the read with an error). Says what is wrong with a key that does not decode.
template <typename OnColumn>
Status ReadPrimaryKey(const std::vector<PrimaryKeySchema>& schema, std::string_view in,
                      std::string* unescaped, OnColumn&& on_column) {
  for (size_t i = 0; i < schema.size(); ++i) {
    const auto& sc = schema[i];
    if (in.empty() || in[0] != kValueMarker) return Status::Corruption("bad primary key marker");
    in.remove_prefix(1);
    if (sc.type == PrimaryKeyType::kInteger) {
      if (in.size() < 8) return Status::Corruption("truncated INTEGER primary key");
      const int64_t v = static_cast<int64_t>(DecodeBigEndian64(in.data()) ^ (1ULL << 63));
      in.remove_prefix(8);
      on_column(i, ValueView::Integer(v));
      continue;
    }
    auto bytes = [&](std::string_view b) {
      return sc.type == PrimaryKeyType::kString ? ValueView::String(b) : ValueView::Binary(b);
    };
    size_t zero = in.find('\0');
    if (zero != std::string_view::npos && zero + 1 < in.size() && in[zero + 1] == 1) {
      const std::string_view b = in.substr(0, zero);  // the common case: no escaped zero byte
      in.remove_prefix(zero + 2);
      on_column(i, bytes(b));
      continue;
    }
    if (unescaped == nullptr) return Status::InvalidArgument("escaped primary key bytes");
    unescaped->clear();
    if (!GetEscaped(&in, unescaped)) return Status::Corruption("truncated primary key bytes");
    on_column(i, bytes(*unescaped));
  }
  if (!in.empty()) return Status::Corruption("trailing bytes after primary key");
  return Status::OK();
}

}  // namespace

Status DecodePrimaryKey(const std::vector<PrimaryKeySchema>& schema, std::string_view in,
                        PrimaryKey* pk) {
  // Fills the existing columns in place: scans decode one key per row into the same buffers.
  pk->resize(schema.size());
  std::string unescaped;
  return ReadPrimaryKey(schema, in, &unescaped, [&](size_t i, ValueView v) {
    PrimaryKeyColumn& col = (*pk)[i];
    if (!SameBytes(col.name, schema[i].name)) col.name = schema[i].name;
    if (v.type() == ValueType::kInteger) {
      col.value.SetInteger(v.integer());
    } else {
      col.value.SetBytes(v.type(), v.bytes());
    }
  });
}

bool DecodePrimaryKeyViews(const std::vector<PrimaryKeySchema>& schema, std::string_view in,
                           std::vector<ColumnView>* pk) {
  pk->resize(schema.size());
  return ReadPrimaryKey(schema, in, nullptr,
                        [&](size_t i, ValueView v) {
                          (*pk)[i] = {schema[i].name, v};
                        })
      .ok();
}

std::string PrefixSuccessor(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = prefix.back();
    if (static_cast<uint8_t>(last) != 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

}  // namespace tablelake::store
