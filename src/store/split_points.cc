#include "store/split_points.h"

#include <memory>

#include "fmt/format.h"
#include "store/key_codec.h"

namespace tablelake::store {
namespace {

// The byte string halfway between a and b (a < b) in key order, as if both were base-256
// fractions: a <= result < b, with one more byte of precision when they are adjacent.
std::string Midpoint(const std::string& a, const std::string& b) {
  size_t n = std::max(a.size(), b.size()) + 1;
  std::vector<int> sum(n + 1, 0);
  for (size_t i = n; i-- > 0;) {
    int x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    int y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    sum[i + 1] += x + y;
    sum[i] += sum[i + 1] >> 8;
    sum[i + 1] &= 0xFF;
  }
  std::string mid(n, '\0');  // sum / 2, carrying each remainder into the next byte
  int carry = sum[0];
  for (size_t i = 0; i < n; ++i) {
    int v = carry * 256 + sum[i + 1];
    mid[i] = static_cast<char>(v >> 1);
    carry = v & 1;
  }
  while (mid.size() > a.size() && mid.back() == '\0') mid.pop_back();
  return mid;
}

// The stored bytes of the table's keys before `key`.
int64_t SizeTo(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* data, const std::string& begin,
               const std::string& key) {
  rocksdb::SizeApproximationOptions sizes;
  sizes.include_memtables = true;  // a table just loaded is sized too
  rocksdb::Range range(begin, key);
  uint64_t n = 0;
  db->GetApproximateSizes(sizes, data, &range, 1, &n);
  return static_cast<int64_t>(n);
}

}  // namespace

Result<std::vector<PrimaryKey>> ComputeSplitPoints(rocksdb::DB* db,
                                                   rocksdb::ColumnFamilyHandle* data,
                                                   uint32_t table_id,
                                                   const std::vector<PrimaryKeySchema>& schema,
                                                   int64_t split_bytes, int32_t limit) {
  if (split_bytes <= 0) {
    return Status::InvalidArgument(fmt::format("split size must be positive, not {}", split_bytes));
  }
  const std::string begin = TablePrefix(table_id), end = PrefixSuccessor(begin);
  auto size_to = [&](const std::string& key) { return SizeTo(db, data, begin, key); };
  const int64_t total = size_to(end);
  std::vector<PrimaryKey> points;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), data));
  // The first row key at or after `at` inside the table, or empty.
  auto row_at = [&](const std::string& at) -> std::string {
    it->Seek(at);
    if (!it->Valid() || it->key().compare(end) >= 0) return "";
    return it->key().ToString();
  };
  std::string last = begin;
  for (int64_t target = split_bytes; target < total; target += split_bytes) {
    // Bisect the key space for the first row whose preceding rows hold `target` bytes.
    std::string lo = last, hi = end;
    for (int step = 0; step < 64; ++step) {
      std::string mid = Midpoint(lo, hi);
      if (mid <= lo || mid >= hi) break;
      std::string row = row_at(mid);
      if (row.empty() || size_to(row) >= target) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    std::string key = row_at(hi);
    if (key.empty()) break;  // the rest of the table is smaller than the target
    if (key <= last) continue;
    PrimaryKey pk;
    TL_RETURN_IF_ERROR(DecodePrimaryKey(schema, std::string_view(key).substr(begin.size()), &pk)
                           .WithContext("split point"));
    points.push_back(std::move(pk));
    last = key;
    if (limit > 0 && static_cast<int32_t>(points.size()) >= limit) break;
  }
  if (!it->status().ok()) return Status::IOError("split points: " + it->status().ToString());
  return points;
}

Result<std::vector<PrimaryKey>> SplitIntoParts(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* data,
                                               uint32_t table_id,
                                               const std::vector<PrimaryKeySchema>& schema,
                                               int32_t parts, int64_t min_part_bytes) {
  const std::string begin = TablePrefix(table_id);
  const int64_t total = SizeTo(db, data, begin, PrefixSuccessor(begin));
  const int64_t n = std::min<int64_t>(parts, total / std::max<int64_t>(min_part_bytes, 1));
  if (n <= 1) return std::vector<PrimaryKey>();
  return ComputeSplitPoints(db, data, table_id, schema, total / n, static_cast<int32_t>(n - 1));
}

}  // namespace tablelake::store
