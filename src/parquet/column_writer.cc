#include "parquet/column_writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <set>

#include "fmt/format.h"
#include "parquet/encoding.h"
#include "parquet/thrift_compact.h"

namespace tablelake::parquet {
namespace {

// Room kept in front of a PLAIN page's values for its levels (enough when a page has no or few
// nulls), so that the page body is contiguous without a copy.
constexpr size_t kLevelsGap = 32;

// Format enum values.
constexpr int32_t kPlain = 0;
constexpr int32_t kRle = 3;
constexpr int32_t kDeltaBinaryPackedId = 5;
constexpr int32_t kDeltaLengthByteArrayId = 6;
constexpr int32_t kDeltaByteArrayId = 7;
constexpr int32_t kRleDictionary = 8;
constexpr int32_t kDataPage = 0;
constexpr int32_t kDictionaryPage = 2;

uint64_t Mix(uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HashBytes(std::string_view s) {
  if (s.size() == 8) {
    uint64_t v;
    std::memcpy(&v, s.data(), 8);
    return Mix(v);
  }
  if (s.size() == 4) {
    uint32_t v;
    std::memcpy(&v, s.data(), 4);
    return Mix(v);
  }
  return std::hash<std::string_view>{}(s);
}

// Distinct values of a chunk in insertion order, with an open-addressing index over them.
class Dictionary {
 public:
  explicit Dictionary(bool byte_array) : byte_array_(byte_array) { Clear(); }

  uint32_t Insert(std::string_view key) {
    if ((offsets_.size() - 1) * 2 >= slots_.size()) Grow();
    size_t mask = slots_.size() - 1;
    for (size_t i = HashBytes(key) & mask;; i = (i + 1) & mask) {
      int32_t s = slots_[i];
      if (s < 0) {
        slots_[i] = static_cast<int32_t>(offsets_.size() - 1);
        keys_.append(key);
        offsets_.push_back(static_cast<uint32_t>(keys_.size()));
        plain_bytes_ += key.size() + (byte_array_ ? 4 : 0);
        return static_cast<uint32_t>(slots_[i]);
      }
      if (Key(s) == key) return static_cast<uint32_t>(s);
    }
  }
  size_t size() const { return offsets_.size() - 1; }
  int64_t plain_bytes() const { return plain_bytes_; }
  std::string_view Key(int32_t i) const {
    return std::string_view(keys_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  void AppendPlain(std::string* out) const {
    if (!byte_array_) {
      out->append(keys_);
      return;
    }
    for (size_t i = 0; i < size(); ++i) {
      uint32_t len = offsets_[i + 1] - offsets_[i];
      out->append(reinterpret_cast<const char*>(&len), 4);
      out->append(Key(static_cast<int32_t>(i)));
    }
  }
  void Clear() {
    keys_.clear();
    offsets_.assign(1, 0);
    slots_.clear();
    plain_bytes_ = 0;
  }

 private:
  // The index is made at the first insert (most columns of a small file never take one), then
  // doubles.
  void Grow() {
    std::vector<int32_t> slots(slots_.empty() ? 1024 : slots_.size() * 2, -1);
    size_t mask = slots.size() - 1;
    for (int32_t e = 0; e < static_cast<int32_t>(size()); ++e) {
      size_t i = HashBytes(Key(e)) & mask;
      while (slots[i] >= 0) i = (i + 1) & mask;
      slots[i] = e;
    }
    slots_.swap(slots);
  }

  bool byte_array_;
  std::string keys_;
  std::vector<uint32_t> offsets_;
  std::vector<int32_t> slots_;
  int64_t plain_bytes_ = 0;
};

// Min/max under the column's sort order (parquet-format LogicalTypes.md "Sort order").
class Statistics {
 public:
  enum class Order { kSigned, kUnsignedBytes, kSignedBytes, kFloat, kBool, kNone };
  explicit Statistics(Order order) : order_(order) {}

  void Int(int64_t v) {
    if (!has_ || v < imin_) imin_ = v;
    if (!has_ || v > imax_) imax_ = v;
    has_ = true;
  }
  void Float(double v) {
    if (std::isnan(v)) return;  // NaN never bounds a range
    if (!has_ || v < dmin_) dmin_ = v;
    if (!has_ || v > dmax_) dmax_ = v;
    has_ = true;
  }
  // The bounds of values[0..n): compared as views, copied once.
  void Bytes(const ColumnVector& v, size_t begin, size_t n) {
    if (n == 0) return;
    std::string_view lo = v.bytes_at(begin), hi = lo;
    for (size_t i = begin + 1; i < begin + n; ++i) {
      std::string_view b = v.bytes_at(i);
      // The maximum first: ascending values (keys, times) then cost one comparison each.
      if (Less(hi, b)) {
        hi = b;
      } else if (Less(b, lo)) {
        lo = b;
      }
    }
    if (!has_ || Less(lo, bmin_)) bmin_.assign(lo);
    if (!has_ || Less(bmax_, hi)) bmax_.assign(hi);
    has_ = true;
  }
  void Bool(bool v) {
    (v ? seen_true_ : seen_false_) = true;
    has_ = true;
  }
  // Min and max PLAIN-encoded for the footer; absent when no value bounds the chunk.
  void Encode(PhysicalType type, std::optional<std::string>* min,
              std::optional<std::string>* max) const;
  void Reset() {
    has_ = seen_true_ = seen_false_ = false;
    bmin_.clear();
    bmax_.clear();
  }

 private:
  bool Less(std::string_view a, std::string_view b) const {
    if (order_ == Order::kSignedBytes && !a.empty() && !b.empty() && a[0] != b[0]) {
      return static_cast<int8_t>(a[0]) < static_cast<int8_t>(b[0]);  // two's complement sign
    }
    return a < b;  // std::string_view compares as unsigned char
  }

  Order order_;
  bool has_ = false;
  int64_t imin_ = 0, imax_ = 0;
  double dmin_ = 0, dmax_ = 0;
  std::string bmin_, bmax_;
  bool seen_true_ = false, seen_false_ = false;
};

// Longer byte-array bounds are left out rather than truncated (allowed by the format).
constexpr size_t kMaxStatisticsBytes = 256;

void Statistics::Encode(PhysicalType type, std::optional<std::string>* min,
                        std::optional<std::string>* max) const {
  if (!has_ || order_ == Order::kNone) return;
  auto put = [](auto v) { return std::string(reinterpret_cast<const char*>(&v), sizeof(v)); };
  switch (type) {
    case PhysicalType::kBoolean:
      *min = std::string(1, seen_false_ ? 0 : 1);
      *max = std::string(1, seen_true_ ? 1 : 0);
      return;
    case PhysicalType::kInt32:
      *min = put(static_cast<int32_t>(imin_));
      *max = put(static_cast<int32_t>(imax_));
      return;
    case PhysicalType::kInt64:
      *min = put(imin_);
      *max = put(imax_);
      return;
    case PhysicalType::kFloat:
    case PhysicalType::kDouble: {
      // The format asks for -0.0 as a zero minimum and +0.0 as a zero maximum.
      double lo = dmin_ == 0 ? -0.0 : dmin_;
      double hi = dmax_ == 0 ? 0.0 : dmax_;
      if (type == PhysicalType::kFloat) {
        *min = put(static_cast<float>(lo));
        *max = put(static_cast<float>(hi));
      } else {
        *min = put(lo);
        *max = put(hi);
      }
      return;
    }
    default:
      if (bmin_.size() > kMaxStatisticsBytes || bmax_.size() > kMaxStatisticsBytes) return;
      *min = bmin_;
      *max = bmax_;
  }
}

Statistics::Order OrderOf(const ColumnSpec& spec) {
  switch (spec.type) {
    case ColumnType::kInt96:
    case ColumnType::kInterval:
      return Statistics::Order::kNone;  // undefined sort order
    case ColumnType::kBool:
      return Statistics::Order::kBool;
    case ColumnType::kFloat:
    case ColumnType::kDouble:
      return Statistics::Order::kFloat;
    case ColumnType::kUtf8:
    case ColumnType::kBinary:
      return Statistics::Order::kUnsignedBytes;
    case ColumnType::kDecimal:
      return spec.precision > 18 ? Statistics::Order::kSignedBytes : Statistics::Order::kSigned;
    default:
      return Statistics::Order::kSigned;
  }
}

}  // namespace

void AppendPageHeader(int32_t type, int32_t uncompressed, int32_t compressed, int32_t num_values,
                      int32_t encoding, std::string* out) {
  thrift::CompactWriter w(out);
  w.I32(1, type);
  w.I32(2, uncompressed);
  w.I32(3, compressed);
  if (type == kDictionaryPage) {
    w.BeginStruct(7);  // DictionaryPageHeader
    w.I32(1, num_values);
    w.I32(2, encoding);
    w.EndStruct();
  } else {
    w.BeginStruct(5);  // DataPageHeader
    w.I32(1, num_values);
    w.I32(2, encoding);
    w.I32(3, kRle);  // definition levels
    w.I32(4, kRle);  // repetition levels (none: flat schema)
    w.EndStruct();
  }
  w.Stop();
}

class ColumnChunkWriter::Impl {
 public:
  Impl(const ColumnSpec& spec, int max_def, int max_rep, const WriterOptions& options,
       Compressor* compressor)
      : spec_(spec),
        max_def_(max_def),
        max_rep_(max_rep),
        options_(options),
        compressor_(compressor),
        physical_(PhysicalTypeOf(spec)),
        dictionary_(physical_ == PhysicalType::kByteArray),
        stats_(OrderOf(spec)) {
    Reset();
  }

  Status Append(const ColumnVector& v, size_t row_begin, size_t row_end, size_t value_begin,
                size_t* values);
  Status AppendLevels(const uint8_t* def, const uint8_t* rep, size_t n, const ColumnVector& v,
                      size_t value_begin, size_t values);
  int64_t BufferedBytes() const {
    return static_cast<int64_t>(pages_.size()) + PageBytes() + dictionary_.plain_bytes();
  }
  Status Flush(Sink* sink, ChunkMetadata* meta);

 private:
  enum class Mode { kPlain, kDictionary, kDeltaInts, kDeltaLength, kDeltaBytes };

  void Reset() {
    switch (spec_.encoding) {
      case Encoding::kPlain:
        mode_ = Mode::kPlain;
        break;
      case Encoding::kDictionary:
        mode_ = Mode::kDictionary;
        break;
      case Encoding::kDeltaBinaryPacked:
        mode_ = Mode::kDeltaInts;
        break;
      case Encoding::kDeltaLengthByteArray:
        mode_ = Mode::kDeltaLength;
        break;
      case Encoding::kDeltaByteArray:
        mode_ = Mode::kDeltaBytes;
        break;
    }
    dictionary_.Clear();
    dictionary_pays_off_checked_ = false;
    stats_.Reset();
    pages_.clear();
    encodings_.clear();
    rows_ = nulls_ = 0;
    uncompressed_total_ = 0;
    ResetPage();
  }
  void ResetPage() {
    page_rows_ = page_values_ = 0;
    page_defined_.clear();
    page_repeated_.clear();
    page_plain_.assign(kLevelsGap, '\0');
    page_bools_.clear();
    page_indices_.clear();
    page_i32_.clear();
    page_i64_.clear();
    page_bytes_.clear();
    page_offsets_.assign(1, 0);
  }
  int64_t PageBytes() const {
    switch (mode_) {
      case Mode::kPlain:
        return static_cast<int64_t>(page_plain_.size() + page_bools_.size() / 8);
      case Mode::kDictionary:
        return static_cast<int64_t>(page_indices_.size()) * 2;
      case Mode::kDeltaInts:
        return static_cast<int64_t>(page_i32_.size() * 4 + page_i64_.size() * 8);
      default:
        return static_cast<int64_t>(page_bytes_.size() + page_offsets_.size() * 4);
    }
  }

  template <typename T>
  void AppendFixed(const T* values, size_t n);
  void AppendBools(const uint8_t* values, size_t n);
  void AppendByteValues(const ColumnVector& v, size_t begin, size_t n);
  void AddBytesValue(std::string_view b);
  Status FinishPage();
  bool DictionaryPaysOff() const;
  void AbandonDictionary();
  Status EmitPage(int32_t type, std::string_view body, int32_t num_values, int32_t encoding);

  void AppendValues(const ColumnVector& v, size_t value_begin, size_t values);
  Status AfterAppend();

  const ColumnSpec& spec_;
  int max_def_, max_rep_;
  const WriterOptions& options_;
  Compressor* compressor_;
  PhysicalType physical_;
  Mode mode_ = Mode::kPlain;
  Dictionary dictionary_;
  bool dictionary_pays_off_checked_ = false;
  Statistics stats_;

  // Chunk state.
  std::string pages_;  // finished data pages, headers included
  std::set<int32_t> encodings_;
  int64_t rows_ = 0, nulls_ = 0, uncompressed_total_ = 0;

  // Page state.
  size_t page_rows_ = 0, page_values_ = 0;
  std::vector<uint8_t> page_defined_;   // definition levels
  std::vector<uint8_t> page_repeated_;  // repetition levels
  std::string page_plain_;
  std::vector<uint8_t> page_bools_;
  std::vector<uint32_t> page_indices_;
  std::vector<int32_t> page_i32_;
  std::vector<int64_t> page_i64_;
  std::string page_bytes_;
  std::vector<uint32_t> page_offsets_;
  std::string scratch_;
  ByteBuffer compressed_;
};

template <typename T>
void ColumnChunkWriter::Impl::AppendFixed(const T* values, size_t n) {
  if constexpr (std::is_floating_point_v<T>) {
    for (size_t i = 0; i < n; ++i) stats_.Float(values[i]);
  } else {
    if (n > 0) {
      auto [lo, hi] = std::minmax_element(values, values + n);
      stats_.Int(*lo);
      stats_.Int(*hi);
    }
  }
  switch (mode_) {
    case Mode::kPlain:
      page_plain_.append(reinterpret_cast<const char*>(values), n * sizeof(T));
      break;
    case Mode::kDictionary:
      for (size_t i = 0; i < n; ++i) {
        page_indices_.push_back(dictionary_.Insert(
            std::string_view(reinterpret_cast<const char*>(values + i), sizeof(T))));
      }
      break;
    case Mode::kDeltaInts:
      if constexpr (std::is_same_v<T, int32_t>)
        page_i32_.insert(page_i32_.end(), values, values + n);
      if constexpr (std::is_same_v<T, int64_t>)
        page_i64_.insert(page_i64_.end(), values, values + n);
      break;
    default:
      break;  // ValidateColumn keeps other encodings off fixed-width types
  }
}

void ColumnChunkWriter::Impl::AppendBools(const uint8_t* values, size_t n) {
  for (size_t i = 0; i < n; ++i) stats_.Bool(values[i] != 0);
  page_bools_.insert(page_bools_.end(), values, values + n);
}

void ColumnChunkWriter::Impl::AddBytesValue(std::string_view b) {
  switch (mode_) {
    case Mode::kPlain:
      if (physical_ == PhysicalType::kByteArray) {
        uint32_t len = static_cast<uint32_t>(b.size());
        page_plain_.append(reinterpret_cast<const char*>(&len), 4);
      }
      page_plain_.append(b);
      break;
    case Mode::kDictionary:
      page_indices_.push_back(dictionary_.Insert(b));
      break;
    default:
      page_bytes_.append(b);
      page_offsets_.push_back(static_cast<uint32_t>(page_bytes_.size()));
  }
}

void ColumnChunkWriter::Impl::AppendByteValues(const ColumnVector& v, size_t begin, size_t n) {
  stats_.Bytes(v, begin, n);
  if (mode_ == Mode::kPlain && physical_ == PhysicalType::kByteArray) {
    // The hot path: length-prefixed values straight into the page.
    const uint32_t* offsets = v.offsets().data();
    size_t bytes = offsets[begin + n] - offsets[begin];
    size_t at = page_plain_.size();
    page_plain_.resize(at + bytes + 4 * n);
    char* dst = page_plain_.data() + at;
    const char* src = v.byte_data().data();
    for (size_t i = begin; i < begin + n; ++i) {
      uint32_t len = offsets[i + 1] - offsets[i];
      std::memcpy(dst, &len, 4);
      std::memcpy(dst + 4, src + offsets[i], len);
      dst += 4 + len;
    }
    return;
  }
  for (size_t i = begin; i < begin + n; ++i) AddBytesValue(v.bytes_at(i));
}

void ColumnChunkWriter::Impl::AppendValues(const ColumnVector& v, size_t value_begin,
                                           size_t values) {
  switch (physical_) {
    case PhysicalType::kBoolean:
      AppendBools(v.bools().data() + value_begin, values);
      break;
    case PhysicalType::kInt32:
      AppendFixed(v.int32s().data() + value_begin, values);
      break;
    case PhysicalType::kInt64:
      AppendFixed(v.int64s().data() + value_begin, values);
      break;
    case PhysicalType::kFloat:
      AppendFixed(v.floats().data() + value_begin, values);
      break;
    case PhysicalType::kDouble:
      AppendFixed(v.doubles().data() + value_begin, values);
      break;
    default:
      AppendByteValues(v, value_begin, values);
      break;
  }
  page_values_ += values;
}

Status ColumnChunkWriter::Impl::Append(const ColumnVector& v, size_t row_begin, size_t row_end,
                                       size_t value_begin, size_t* values_out) {
  size_t rows = row_end - row_begin;
  const uint8_t* defined = v.defined().data() + row_begin;
  size_t values = static_cast<size_t>(std::count(defined, defined + rows, 1));
  *values_out = values;
  if (!spec_.optional && values != rows) {
    return Status::InvalidArgument(
        fmt::format("column '{}' is REQUIRED but a row has no value", spec_.name));
  }
  if (spec_.optional) page_defined_.insert(page_defined_.end(), defined, defined + rows);
  AppendValues(v, value_begin, values);
  page_rows_ += rows;
  rows_ += static_cast<int64_t>(rows);
  nulls_ += static_cast<int64_t>(rows - values);
  return AfterAppend();
}

Status ColumnChunkWriter::Impl::AppendLevels(const uint8_t* def, const uint8_t* rep, size_t n,
                                             const ColumnVector& v, size_t value_begin,
                                             size_t values) {
  page_defined_.insert(page_defined_.end(), def, def + n);
  page_repeated_.insert(page_repeated_.end(), rep, rep + n);
  AppendValues(v, value_begin, values);
  page_rows_ += n;
  rows_ += static_cast<int64_t>(n);
  nulls_ += static_cast<int64_t>(n - values);
  return AfterAppend();
}

Status ColumnChunkWriter::Impl::AfterAppend() {
  // Judge the dictionary early, on the first values of the chunk, so that a column it does
  // not suit costs little hashing.
  constexpr size_t kDictionaryProbeValues = 4096;
  if (mode_ == Mode::kDictionary && options_.dictionary_must_pay_off &&
      !dictionary_pays_off_checked_ && page_values_ >= kDictionaryProbeValues) {
    dictionary_pays_off_checked_ = true;
    if (!DictionaryPaysOff()) AbandonDictionary();
  }
  if (mode_ == Mode::kDictionary && dictionary_.plain_bytes() > options_.dictionary_bytes) {
    // The dictionary outgrew its bound: pages so far keep it, the rest of the chunk is PLAIN.
    TL_RETURN_IF_ERROR(FinishPage());
    mode_ = Mode::kPlain;
  }
  if (PageBytes() >= options_.page_bytes) TL_RETURN_IF_ERROR(FinishPage());
  return Status::OK();
}

Status ColumnChunkWriter::Impl::EmitPage(int32_t type, std::string_view body, int32_t num_values,
                                         int32_t encoding) {
  std::string_view compressed = body;  // UNCOMPRESSED pages skip a copy
  if (!compressor_->passthrough()) {
    TL_RETURN_IF_ERROR(compressor_->Compress(body, &compressed_));
    compressed = compressed_.view();
  }
  size_t header_at = pages_.size();
  AppendPageHeader(type, static_cast<int32_t>(body.size()), static_cast<int32_t>(compressed.size()),
                   num_values, encoding, &pages_);
  uncompressed_total_ += static_cast<int64_t>(pages_.size() - header_at + body.size());
  pages_.append(compressed);
  return Status::OK();
}

bool ColumnChunkWriter::Impl::DictionaryPaysOff() const {
  // As parquet-mr and DuckDB judge it on the first page: the dictionary plus the indices must
  // be smaller than the same values PLAIN.
  int64_t width = std::max(1, BitWidth(dictionary_.size() - 1));
  int64_t indices = static_cast<int64_t>(page_indices_.size()) * width / 8 + 1;
  int64_t plain = 0;
  for (uint32_t i : page_indices_) plain += static_cast<int64_t>(dictionary_.Key(i).size());
  if (physical_ == PhysicalType::kByteArray)
    plain += 4 * static_cast<int64_t>(page_indices_.size());
  return dictionary_.plain_bytes() + indices < plain;
}

void ColumnChunkWriter::Impl::AbandonDictionary() {
  // Rewrites the page's indices as PLAIN values; the rest of the chunk is PLAIN too.
  page_plain_.assign(kLevelsGap, '\0');
  mode_ = Mode::kPlain;
  for (uint32_t i : page_indices_) AddBytesValue(dictionary_.Key(i));
  page_indices_.clear();
  dictionary_.Clear();
}

Status ColumnChunkWriter::Impl::FinishPage() {
  if (page_rows_ == 0) return Status::OK();
  std::string& body = scratch_;
  body.clear();
  if (max_rep_ > 0) {
    EncodeLevels(page_repeated_.data(), page_repeated_.size(), BitWidth(max_rep_), &body);
  }
  if (max_def_ > 0) {
    EncodeLevels(page_defined_.data(), page_defined_.size(), BitWidth(max_def_), &body);
  }
  int32_t encoding = kPlain;
  if (mode_ == Mode::kDictionary && options_.dictionary_must_pay_off &&
      !dictionary_pays_off_checked_ && page_values_ > 0) {
    dictionary_pays_off_checked_ = true;
    if (!DictionaryPaysOff()) AbandonDictionary();
  }
  if (mode_ == Mode::kPlain && physical_ != PhysicalType::kBoolean && body.size() <= kLevelsGap) {
    // The levels go into the gap kept in front of the values: the page needs no copy.
    char* start = page_plain_.data() + kLevelsGap - body.size();
    std::memcpy(start, body.data(), body.size());
    std::string_view page(start, page_plain_.size() - (kLevelsGap - body.size()));
    encodings_.insert(kPlain);
    if (max_def_ > 0 || max_rep_ > 0) encodings_.insert(kRle);
    TL_RETURN_IF_ERROR(EmitPage(kDataPage, page, static_cast<int32_t>(page_rows_), kPlain));
    ResetPage();
    return Status::OK();
  }
  switch (mode_) {
    case Mode::kPlain:
      if (physical_ == PhysicalType::kBoolean) {
        std::vector<uint32_t> bits(page_bools_.begin(), page_bools_.end());
        bits.resize((bits.size() + 7) / 8 * 8, 0);
        BitPack(bits.data(), bits.size(), 1, &body);
      } else {
        body.append(page_plain_, kLevelsGap);
      }
      break;
    case Mode::kDictionary:
      if (page_values_ > 0) {  // an all-null page stays PLAIN: it has no index to write
        int width = std::max(1, BitWidth(dictionary_.size() - 1));
        body.push_back(static_cast<char>(width));
        EncodeRleHybrid(page_indices_.data(), page_indices_.size(), width, &body);
        encoding = kRleDictionary;
      }
      break;
    case Mode::kDeltaInts:
      encoding = kDeltaBinaryPackedId;
      if (physical_ == PhysicalType::kInt32) {
        EncodeDeltaBinaryPacked(page_i32_.data(), page_i32_.size(), &body);
      } else {
        EncodeDeltaBinaryPacked(page_i64_.data(), page_i64_.size(), &body);
      }
      break;
    case Mode::kDeltaLength:
      encoding = kDeltaLengthByteArrayId;
      EncodeDeltaLengthByteArray({page_bytes_.data(), page_offsets_.data(), page_values_}, &body);
      break;
    case Mode::kDeltaBytes:
      encoding = kDeltaByteArrayId;
      EncodeDeltaByteArray({page_bytes_.data(), page_offsets_.data(), page_values_}, &body);
      break;
  }
  encodings_.insert(encoding);
  if (max_def_ > 0 || max_rep_ > 0) encodings_.insert(kRle);
  TL_RETURN_IF_ERROR(EmitPage(kDataPage, body, static_cast<int32_t>(page_rows_), encoding));
  ResetPage();
  return Status::OK();
}

Status ColumnChunkWriter::Impl::Flush(Sink* sink, ChunkMetadata* meta) {
  TL_RETURN_IF_ERROR(FinishPage());
  *meta = ChunkMetadata();
  int64_t start = sink->Tell();
  int64_t compressed_total = 0;
  if (dictionary_.size() > 0) {
    std::string dict_pages;
    dict_pages.swap(pages_);  // EmitPage appends to pages_: emit the dictionary alone first
    int64_t data_uncompressed = uncompressed_total_;
    uncompressed_total_ = 0;
    std::string plain;
    dictionary_.AppendPlain(&plain);
    TL_RETURN_IF_ERROR(
        EmitPage(kDictionaryPage, plain, static_cast<int32_t>(dictionary_.size()), kPlain));
    uncompressed_total_ += data_uncompressed;
    meta->dictionary_page_offset = start;
    meta->data_page_offset = start + static_cast<int64_t>(pages_.size());
    encodings_.insert(kPlain);
    compressed_total += static_cast<int64_t>(pages_.size());
    TL_RETURN_IF_ERROR(sink->Append(pages_));
    pages_.swap(dict_pages);
  } else {
    meta->data_page_offset = start;
  }
  compressed_total += static_cast<int64_t>(pages_.size());
  TL_RETURN_IF_ERROR(sink->Append(pages_));
  meta->encodings.assign(encodings_.begin(), encodings_.end());
  meta->num_values = rows_;
  meta->null_count = nulls_;
  meta->total_uncompressed_size = uncompressed_total_;
  meta->total_compressed_size = compressed_total;
  stats_.Encode(physical_, &meta->min_value, &meta->max_value);
  Reset();
  return Status::OK();
}

ColumnChunkWriter::ColumnChunkWriter(ColumnSpec leaf, int max_definition, int max_repetition,
                                     const WriterOptions& options, Compressor* compressor)
    : spec_(std::move(leaf)),
      impl_(new Impl(spec_, max_definition, max_repetition, options, compressor)) {}
ColumnChunkWriter::~ColumnChunkWriter() { delete impl_; }
Status ColumnChunkWriter::Append(const ColumnVector& v, size_t row_begin, size_t row_end,
                                 size_t value_begin, size_t* values) {
  return impl_->Append(v, row_begin, row_end, value_begin, values);
}
Status ColumnChunkWriter::AppendLevels(const uint8_t* definition, const uint8_t* repetition,
                                       size_t n, const ColumnVector& v, size_t value_begin,
                                       size_t values) {
  return impl_->AppendLevels(definition, repetition, n, v, value_begin, values);
}
int64_t ColumnChunkWriter::BufferedBytes() const { return impl_->BufferedBytes(); }
Status ColumnChunkWriter::Flush(Sink* sink, ChunkMetadata* meta) {
  return impl_->Flush(sink, meta);
}

}  // namespace tablelake::parquet
