// tablelake import, and the bulk loader `put` uses for standard input.
#include <pthread.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <shared_mutex>
#include <sstream>
#include <thread>

#include "cli/cli_util.h"
#include "common/base64.h"
#include "common/printable.h"
#include "common/progress.h"
#include "fmt/format.h"
#include "store/cell_rules.h"

namespace tablelake::cli {
namespace {

class JsonLinesParser : public RowParser {
 public:
  explicit JsonLinesParser(TableMeta meta)
      : lines_(std::move(meta), store::MissingKey::kAutoIncrement) {}
  Result<Parsed> Parse(std::string_view line) override {
    if (line.find_first_not_of(" \t\r") == std::string::npos) return Parsed();
    if (const RowView* view = lines_.ParsePlain(line, /*padded=*/true)) return Parsed{view, {}};
    TL_ASSIGN_OR_RETURN(store::JsonRow row, lines_.Parse(line, /*padded=*/true));
    return Parsed{nullptr, std::move(row)};
  }

 private:
  store::JsonLineParser lines_;
};

// CSV as RFC 4180 (a quoted field may hold line breaks: RecordSplitter keeps its record whole).
// The header names the columns, optionally typed as NAME:TYPE (INTEGER, DOUBLE, BOOLEAN,
// STRING, BINARY as base64). Key columns take their declared type; an untyped attribute is
// INTEGER, DOUBLE or BOOLEAN when its unquoted text reads as one, else STRING. An empty
// unquoted field leaves the column out.
class CsvParser : public RowParser {
 public:
  explicit CsvParser(TableMeta meta) : meta_(std::move(meta)) {}

  Result<Parsed> Parse(std::string_view raw) override {
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return Parsed();
    TL_RETURN_IF_ERROR(SplitFields(line));
    if (columns_.empty()) {
      TL_RETURN_IF_ERROR(ParseHeader());
      return Parsed();
    }
    if (fields_.size() != columns_.size()) {
      return Status::InvalidArgument(
          fmt::format("has {} fields, the header has {}", fields_.size(), columns_.size()));
    }
    if (const RowView* view = PlainRow()) return Parsed{view, {}};
    nlohmann::json obj = nlohmann::json::object();
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (fields_[i].text.empty() && !fields_[i].quoted) continue;
      TL_ASSIGN_OR_RETURN(obj[columns_[i].name], ToJson(columns_[i], fields_[i]));
    }
    TL_ASSIGN_OR_RETURN(store::JsonRow row,
                        store::RowFromJson(meta_, obj, store::MissingKey::kAutoIncrement));
    return Parsed{nullptr, std::move(row)};
  }

 private:
  enum class Type { kInferred, kInteger, kDouble, kBoolean, kString, kBinary };
  struct Field {
    std::string_view text;  // in the line, or in unescaped_
    bool quoted = false;
  };
  struct Column {
    std::string name;
    Type type = Type::kInferred;
  };

  // fields_ becomes the line's fields; a quoted field with escaped quotes is unescaped into
  // unescaped_ (a deque: its strings stay where they are as it grows, and are reused).
  Status SplitFields(std::string_view line) {
    fields_.clear();
    size_t unescaped = 0;
    size_t i = 0;
    while (true) {
      Field f;
      if (i < line.size() && line[i] == '"') {
        f.quoted = true;
        const size_t start = ++i;
        std::string* text = nullptr;  // once an escaped quote is seen
        while (true) {
          if (i >= line.size()) return Status::InvalidArgument("unterminated quoted field");
          if (line[i] != '"') {
            if (text != nullptr) text->push_back(line[i]);
            ++i;
            continue;
          }
          if (i + 1 < line.size() && line[i + 1] == '"') {
            if (text == nullptr) {
              if (unescaped == unescaped_.size()) unescaped_.emplace_back();
              text = &unescaped_[unescaped++];
              text->assign(line.substr(start, i - start));
            }
            text->push_back('"');
            i += 2;
            continue;
          }
          f.text = text != nullptr ? std::string_view(*text) : line.substr(start, i - start);
          ++i;
          break;
        }
        if (i < line.size() && line[i] != ',') {
          return Status::InvalidArgument("text after a closing quote");
        }
      } else {
        size_t comma = line.find(',', i);
        f.text =
            line.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i);
        i = comma == std::string::npos ? line.size() : comma;
      }
      fields_.push_back(f);
      if (i >= line.size()) return Status::OK();
      ++i;  // the comma
      if (i == line.size()) {
        fields_.push_back({});
        return Status::OK();
      }
    }
  }

  Status ParseHeader() {
    static const std::map<std::string, Type, std::less<>> kTypes = {
        {"", Type::kInferred},       {"INTEGER", Type::kInteger}, {"DOUBLE", Type::kDouble},
        {"BOOLEAN", Type::kBoolean}, {"STRING", Type::kString},   {"BINARY", Type::kBinary}};
    for (const auto& f : fields_) {
      Column c;
      size_t colon = f.text.find(':');
      c.name = f.text.substr(0, colon);
      std::string_view type = colon == std::string::npos ? "" : f.text.substr(colon + 1);
      auto known = kTypes.find(type);
      if (known == kTypes.end()) {
        return Status::InvalidArgument(fmt::format("header column '{}': unknown type '{}'",
                                                   Printable(c.name), Printable(type)));
      }
      c.type = known->second;
      // A name no row could write is the header's fault, told once (at the header's line).
      Status named =
          store::ValidateName(fmt::format("header column {}:", columns_.size() + 1), c.name);
      if (!named.ok() && fields_.size() == 1) {
        for (const char* separator : {";", "\t", "|"}) {
          if (c.name.find(separator[0]) == std::string::npos) continue;
          return Status::InvalidArgument(
              fmt::format("{} (the header is one field: fields are separated by ',', not '{}')",
                          named.message(), separator[0] == '\t' ? "\\t" : separator));
        }
      }
      TL_RETURN_IF_ERROR(named);
      for (const auto& pk : meta_.primary_key) {
        if (pk.name == c.name && c.type == Type::kInferred) c.type = KeyType(pk.type);
      }
      for (const auto& earlier : columns_) {
        if (earlier.name == c.name) {
          return Status::InvalidArgument(
              fmt::format("the header names column '{}' twice", Printable(c.name)));
        }
      }
      columns_.push_back(std::move(c));
    }
    PlanPlainRows();
    return Status::OK();
  }

  static Type KeyType(PrimaryKeyType t) {
    switch (t) {
      case PrimaryKeyType::kInteger:
        return Type::kInteger;
      case PrimaryKeyType::kString:
        return Type::kString;
      case PrimaryKeyType::kBinary:
        return Type::kBinary;
    }
    return Type::kInferred;
  }

  // Where PlainRow finds each key column (none when the header leaves one out), and the other
  // columns in name order: the order of a row's cells.
  void PlanPlainRows() {
    key_fields_.clear();
    for (const auto& pk : meta_.primary_key) {
      auto it = std::find_if(columns_.begin(), columns_.end(),
                             [&](const Column& c) { return c.name == pk.name; });
      if (it == columns_.end()) {
        key_fields_.clear();
        break;
      }
      key_fields_.push_back(static_cast<size_t>(it - columns_.begin()));
    }
    cell_fields_.clear();
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (std::find(key_fields_.begin(), key_fields_.end(), i) == key_fields_.end()) {
        cell_fields_.push_back(i);
      }
    }
    std::sort(cell_fields_.begin(), cell_fields_.end(),
              [&](size_t a, size_t b) { return columns_[a].name < columns_[b].name; });
  }

  // The row as views when every value reads plainly (the slow path would read the same) and
  // every key column is given in its type; nullptr for the slow path to read or refuse it.
  const RowView* PlainRow() {
    if (key_fields_.size() != meta_.primary_key.size()) return nullptr;
    row_.primary_key.clear();
    for (size_t k = 0; k < key_fields_.size(); ++k) {
      const Field& f = fields_[key_fields_[k]];
      const Type want = KeyType(meta_.primary_key[k].type);
      if (f.text.empty() && !f.quoted) return nullptr;  // left out: AUTO_INCREMENT, or an error
      auto v = PlainValue(columns_[key_fields_[k]], f);
      if (!v || want == Type::kBinary ||
          v->type() != (want == Type::kInteger ? ValueType::kInteger : ValueType::kString)) {
        return nullptr;
      }
      row_.primary_key.push_back({meta_.primary_key[k].name, *v});
    }
    row_.cells.clear();
    for (size_t i : cell_fields_) {
      const Field& f = fields_[i];
      if (f.text.empty() && !f.quoted) continue;
      auto v = PlainValue(columns_[i], f);
      if (!v) return nullptr;
      row_.cells.push_back({columns_[i].name, *v});
    }
    return &row_;
  }

  // A field's value as ToJson and the JSON reading after it make it; nothing for BINARY and
  // for what they would refuse.
  static std::optional<ValueView> PlainValue(const Column& c, const Field& f) {
    const std::string_view t = f.text;
    switch (TypeOf(c, f)) {
      case Type::kString:
        return ValueView::String(t);
      case Type::kBoolean:
        if (t == "true" || t == "false") return ValueView::Boolean(t == "true");
        return std::nullopt;
      case Type::kInteger:
        if (auto v = store::ReadInt64(t)) return ValueView::Integer(*v);
        return std::nullopt;
      case Type::kDouble:
        if (auto v = ReadDouble(t)) return ValueView::Double(*v);
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }

  static Type TypeOf(const Column& c, const Field& f) {
    if (c.type != Type::kInferred) return c.type;
    return f.quoted ? Type::kString : InferType(f.text);
  }

  static Result<nlohmann::json> ToJson(const Column& c, const Field& f) {
    const std::string t(f.text);
    switch (TypeOf(c, f)) {
      case Type::kString:
        return nlohmann::json(t);
      case Type::kBinary:
        return nlohmann::json{{"$binary", t}};
      case Type::kBoolean:
        if (t == "true" || t == "false") return nlohmann::json(t == "true");
        return Status::InvalidArgument(
            fmt::format("column '{}': '{}' is not a BOOLEAN", c.name, t));
      case Type::kInteger:
        return nlohmann::json{{"$int", t}};
      default:
        if (auto d = ReadDouble(t)) return nlohmann::json{{"$double", *d}};
        return Status::InvalidArgument(fmt::format("column '{}': '{}' is not a DOUBLE", c.name, t));
    }
  }

  // As std::strtod reads all of `t`, or nothing.
  static std::optional<double> ReadDouble(std::string_view text) {
    const std::string t(text);
    char* end = nullptr;
    const double d = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size()) return std::nullopt;
    return d;
  }

  static Type InferType(std::string_view t) {
    if (t == "true" || t == "false") return Type::kBoolean;
    size_t sign = !t.empty() && (t[0] == '-' || t[0] == '+') ? 1 : 0;
    if (t.size() > sign && t.find_first_not_of("0123456789", sign) == std::string::npos &&
        store::ReadInt64(t)) {
      return Type::kInteger;
    }
    return ReadDouble(t) ? Type::kDouble : Type::kString;
  }

  TableMeta meta_;
  std::vector<Column> columns_;
  std::vector<Field> fields_;
  std::deque<std::string> unescaped_;
  std::vector<size_t> key_fields_;   // per key column, its field
  std::vector<size_t> cell_fields_;  // the other fields, by column name
  RowView row_;
};

// Turns a parsed row into what the loader stages (BulkLoader::Prepare), on a parsing thread.
using Preparer = std::function<Status(RowParser::Parsed&, BulkLoader::PreparedRows*)>;

// Lines parsed and prepared ahead, in batches: a batch's rows and the input bytes read through
// its last line, then the error that stopped the parse, if any.
struct ParsedBatch {
  BulkLoader::PreparedRows rows;
  uint64_t bytes = 0;
  Status error;  // a line that does not parse, or a read error: the last word of the input
  bool end = false;
};

// Splits input into records: its lines, except that in CSV a line break inside a quoted field
// belongs to the field (a quote opens a field only at the field's start, as CsvParser reads it).
class RecordSplitter {
 public:
  explicit RecordSplitter(bool csv) : csv_(csv) {}

  // Calls fn(start, end) for each record of text[*start, ...) that ends at a line break, the
  // break at `end`, scanning from `from` (where an earlier call stopped: it keeps the state of a
  // record still open); `*start` moves past each record.
  template <typename Fn>
  void Split(std::string_view text, size_t from, size_t* start, Fn&& fn) {
    for (size_t i = from; i < text.size();) {
      const size_t end = csv_ ? CsvLineBreak(text, i) : text.find('\n', i);
      if (end == std::string_view::npos) return;
      fn(*start, end);
      *start = i = end + 1;
    }
  }

 private:
  // The next line break in text[i, ...) that ends a record, or npos.
  size_t CsvLineBreak(std::string_view text, size_t i) {
    for (; i < text.size(); ++i) {
      const char c = text[i];
      if (state_ == kQuoted) {
        if (c == '"') state_ = kQuoteInQuoted;
        continue;
      }
      if (state_ == kQuoteInQuoted && c == '"') {  // an escaped quote
        state_ = kQuoted;
        continue;
      }
      if (c == '\n') {
        state_ = kFieldStart;
        return i;
      }
      if (c == ',') {
        state_ = kFieldStart;
      } else {
        state_ = state_ == kFieldStart && c == '"' ? kQuoted : kUnquoted;
      }
    }
    return std::string_view::npos;
  }

  enum State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };
  const bool csv_;
  State state_ = kFieldStart;
};

// Reads the input on a thread of its own in batches of records, which parsing threads (one per
// core; each CSV parser reads the header, which the reader takes out of its batch, before its
// first batch) parse and prepare; Next hands them over in input order. At most two batches per
// parsing thread (and at least 8) are read ahead: bounded memory.
class ParseAhead {
 public:
  // Reads `*in` (owned when `owned` holds it); `parsers` has one parser per parsing thread.
  ParseAhead(std::vector<std::unique_ptr<RowParser>> parsers, Preparer prepare,
             std::unique_ptr<std::istream> owned, std::istream* in, std::string name, bool csv)
      : state_(std::make_shared<State>()) {
    state_->csv = csv;
    state_->prepare = std::move(prepare);
    state_->owned = std::move(owned);
    state_->in = in;
    state_->name = std::move(name);
    state_->threads = 1 + parsers.size();
    state_->max_batches = std::max<size_t>(8, 2 * parsers.size());
    std::thread([state = state_] {
      pthread_setname_np(pthread_self(), "tl-read");  // names it in top -H and perf
      Run(*state, [&] { Read(*state); });
    }).detach();
    for (auto& parser : parsers) {
      std::thread([state = state_, parser = std::move(parser)] {
        pthread_setname_np(pthread_self(), "tl-parse");
        Run(*state, [&] { Parse(*state, parser.get()); });
      }).detach();
    }
  }
  // Stops the threads. They hold what they use, so a reader waiting for input that may never
  // come (a terminal) is left to end with the process rather than waited for.
  ~ParseAhead() {
    {
      std::unique_lock guard(state_->preparing);
      state_->loader_gone = true;
    }
    std::unique_lock lock(state_->mu);
    state_->stop = true;
    state_->cv.notify_all();
    state_->cv.wait_for(lock, std::chrono::milliseconds(200),
                        [&] { return state_->finished == state_->threads; });
  }
  // The next batch, in input order.
  ParsedBatch Next() {
    std::unique_lock lock(state_->mu);
    state_->cv.wait(lock,
                    [&] { return !state_->batches.empty() && state_->batches.front()->parsed; });
    ParsedBatch b = std::move(state_->batches.front()->out);
    state_->batches.pop_front();
    state_->cv.notify_all();
    return b;
  }

 private:
  // A batch holds the whole lines of about this many bytes of input (some 2,000 rows of a
  // bulk load): read in one call, not line by line.
  static constexpr size_t kBatchBytes = 256 << 10;
  static constexpr std::string_view kUtf8ByteOrderMark = "\xEF\xBB\xBF";
  // A CSV record may hold line breaks in quoted fields, up to this size: memory stays bounded
  // when a quote never closes.
  static constexpr size_t kMaxOpenRecordBytes = size_t{64} << 20;

  struct Batch {
    struct Line {
      uint64_t number;
      uint64_t bytes;         // read through this line
      std::string_view text;  // in `input`, without its line break
    };
    // The lines as read, with room after them for the parser's padding.
    std::string input;
    std::vector<Line> lines;
    ParsedBatch out;
    bool taken = false;   // a parsing thread has it
    bool parsed = false;  // `out` is ready
  };

  struct State {
    Preparer prepare;
    // Held (shared) while `prepare` runs: once the reader is gone, so may the loader be.
    std::shared_mutex preparing;
    bool loader_gone = false;
    std::unique_ptr<std::istream> owned;
    std::istream* in = nullptr;
    std::string name;
    bool csv = false;  // records are CSV's (RecordSplitter)
    // CSV: the header (the first record that is not blank), which every parser reads before
    // its first batch after it; the reader sets both (once, under `mu`) as it hands that batch
    // over.
    std::string header;
    uint64_t header_line = 0;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::shared_ptr<Batch>> batches;  // in input order
    bool read_all = false;
    bool stop = false;
    size_t threads = 0, finished = 0;
    size_t max_batches = 0;  // read and not yet handed over
  };

  static void Run(State& s, const std::function<void()>& work) {
    work();
    std::lock_guard lock(s.mu);
    ++s.finished;
    s.cv.notify_all();
  }

  static void Read(State& s) {
    uint64_t number = 0, bytes = 0, header_line = 0;
    std::string next;  // the start of a line the last read cut
    RecordSplitter splitter(s.csv);
    for (bool done = false, first = true; !done; first = false) {
      auto b = std::make_shared<Batch>();
      done = ReadWholeLines(*s.in, &next, &b->input);
      if (first && b->input.rfind(kUtf8ByteOrderMark, 0) == 0) {
        // Spreadsheets start their CSV exports with a byte-order mark.
        b->input.erase(0, kUtf8ByteOrderMark.size());
        bytes += kUtf8ByteOrderMark.size();
      }
      std::vector<std::pair<size_t, size_t>> records;  // [start, end) in b->input
      size_t start = 0;
      auto add = [&](size_t from, size_t to) { records.emplace_back(from, to); };
      splitter.Split(b->input, 0, &start, add);
      // A record still open past the block (a quoted CSV field holding line breaks) reads on.
      bool runaway = false;
      while (start < b->input.size() && !done) {
        if (b->input.size() - start > kMaxOpenRecordBytes) {
          runaway = done = true;
          break;
        }
        const size_t scanned = b->input.size();
        done = ReadWholeLines(*s.in, &next, &b->input);
        splitter.Split(b->input, scanned, &start, add);
      }
      if (!runaway && start < b->input.size()) add(start, b->input.size());  // the last
      if (done && s.in->bad())
        b->out.error = Status::IOError(fmt::format("error reading {}", s.name));
      b->input.reserve(b->input.size() + store::JsonLineParser::kPadding);
      const std::string_view input = b->input;
      std::string header;
      for (const auto& [from, to] : records) {
        std::string_view text = input.substr(from, to - from);
        bytes += text.size() + 1;
        ++number;
        if (s.csv && header_line == 0 && !IsBlank(text)) {
          header.assign(text);  // every parser reads it: not a row of this batch
          header_line = number;
        } else {
          b->lines.push_back({number, bytes, text});
        }
        // Only a CSV record holds line breaks (in quoted fields): a JSON line ends at its first.
        if (s.csv) number += static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
      }
      if (runaway) {
        b->out.error = Status::InvalidArgument(fmt::format(
            "{} line {}: a quoted field is still open {} MiB on (a quote that never closes?)",
            s.name, number + 1, kMaxOpenRecordBytes >> 20));
      }
      b->out.end = done;
      std::unique_lock lock(s.mu);
      s.cv.wait(lock, [&] { return s.stop || s.batches.size() < s.max_batches; });
      if (s.stop) return;
      if (!header.empty()) {
        s.header = std::move(header);
        s.header_line = header_line;
      }
      s.batches.push_back(std::move(b));
      s.read_all = done;
      s.cv.notify_all();
    }
  }

  // `*block` becomes what it held, then `*next`, then the input read up to its last line break
  // past about kBatchBytes (a longer line is read whole); what follows that break becomes
  // `*next`. True at the end of the input (or a read error): the block then holds the rest.
  static bool ReadWholeLines(std::istream& in, std::string* next, std::string* block) {
    if (block->empty()) {
      block->swap(*next);
    } else {
      block->append(*next);
    }
    next->clear();
    while (true) {
      const size_t old = block->size();
      block->resize(old + kBatchBytes);
      in.read(block->data() + old, kBatchBytes);
      const auto got = static_cast<size_t>(in.gcount());
      block->resize(old + got);
      if (got < kBatchBytes) return true;
      const void* last = ::memrchr(block->data() + old, '\n', got);
      if (last == nullptr) continue;
      const size_t cut = static_cast<const char*>(last) - block->data() + 1;
      next->assign(*block, cut);
      block->resize(cut);
      return false;
    }
  }

  static bool IsBlank(std::string_view record) { return record.empty() || record == "\r"; }

  // Takes the batches read, oldest first, until the input or the reader ends.
  static void Parse(State& s, RowParser* parser) {
    bool header_read = false;            // CSV: this thread's parser has read the header
    double stored_per_input_byte = 1.0;  // of the last batch: room for the next one's rows
    while (true) {
      std::shared_ptr<Batch> b;
      bool header_known;  // read under `mu`: the header is set before this batch, if ever
      {
        std::unique_lock lock(s.mu);
        auto waiting = [&] {
          for (auto& batch : s.batches) {
            if (!batch->taken) return batch;
          }
          return std::shared_ptr<Batch>();
        };
        s.cv.wait(lock, [&] { return s.stop || waiting() || (s.read_all && !waiting()); });
        b = waiting();
        if (s.stop || !b) return;  // stopped, or nothing left to read
        b->taken = true;
        header_known = !s.header.empty();
      }
      {
        std::shared_lock guard(s.preparing);
        if (s.loader_gone) return;
        if (!header_read && header_known) {
          header_read = true;
          if (Status h = ReadHeader(s, parser); !h.ok()) {
            b->out.error = h;
            b->out.end = true;
            b->lines.clear();
          }
        }
        ParseBatch(s, parser, b.get(), &stored_per_input_byte);
      }
      std::lock_guard lock(s.mu);
      b->parsed = true;
      s.cv.notify_all();
    }
  }

  static Status ReadHeader(State& s, RowParser* parser) {
    auto header = parser->Parse(s.header);
    return header.status().WithContext(fmt::format("{} line {}", s.name, s.header_line));
  }

  // `*stored_per_input_byte`: what the rows of the last batch took in stored form per byte of
  // their input, then of this one. The batch's buffer is reserved by it, a little over: staged
  // rows are held in it, and a buffer that outgrows its room doubles.
  static void ParseBatch(State& s, RowParser* parser, Batch* b, double* stored_per_input_byte) {
    const double input = static_cast<double>(b->input.size());
    b->out.rows.bytes.reserve(static_cast<size_t>(input * *stored_per_input_byte * 1.05) + 4096);
    for (auto& l : b->lines) {
      auto row = parser->Parse(l.text);
      Status bad = row.status();
      if (bad.ok() && (row->view != nullptr || row->row)) bad = s.prepare(*row, &b->out.rows);
      if (!bad.ok()) {
        b->out.error = bad.WithContext(fmt::format("{} line {}", s.name, l.number));
        b->out.end = true;
        break;
      }
      b->out.bytes = l.bytes;
    }
    if (input > 0) *stored_per_input_byte = static_cast<double>(b->out.rows.bytes.size()) / input;
    b->lines = {};
    b->input = {};
  }

  std::shared_ptr<State> state_;
};

// Calls `fn(rows, bytes_read)` for each batch of rows of the input, in input order, the parsing
// and `prepare` a few batches ahead on the other cores. An error of `fn` is the loader's
// (staging checks nothing of the rows: Prepare did), so it is told without a line.
template <typename Fn>
Status ForEachRow(const TableMeta& meta, const std::string& format, Preparer prepare,
                  std::unique_ptr<std::istream> owned, std::istream* in, const std::string& name,
                  Fn&& fn) {
  // Records parse alike on any thread (each CSV parser reads the header first).
  const size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<RowParser>> parsers;
  for (size_t i = 0; i < threads; ++i) {
    TL_ASSIGN_OR_RETURN(auto parser, NewRowParser(format, meta));
    parsers.push_back(std::move(parser));
  }
  ParseAhead parsed(std::move(parsers), std::move(prepare), std::move(owned), in, name,
                    format == "csv");
  while (true) {
    ParsedBatch b = parsed.Next();
    if (b.rows.size() > 0) TL_RETURN_IF_ERROR(fn(std::move(b.rows), b.bytes));
    TL_RETURN_IF_ERROR(b.error);
    if (b.end) return Status::OK();
  }
}

}  // namespace

Result<std::unique_ptr<RowParser>> NewRowParser(const std::string& format, const TableMeta& meta) {
  if (format == "jsonl") return std::unique_ptr<RowParser>(std::make_unique<JsonLinesParser>(meta));
  if (format == "csv") return std::unique_ptr<RowParser>(std::make_unique<CsvParser>(meta));
  return Status::InvalidArgument(fmt::format("format '{}' is not jsonl or csv", format));
}

Status BulkLoad(TableStore& store, const std::string& table, const std::string& format,
                const std::string& path, const char* label) {
  Progress progress(label, path == "-" ? 0 : std::filesystem::file_size(path), stderr,
                    CommandStart());
  TL_ASSIGN_OR_RETURN(TableDescription d, store.DescribeTable(table));
  TL_ASSIGN_OR_RETURN(auto loader, store.NewBulkLoader(table));
  std::unique_ptr<std::istream> file;
  if (path != "-") {
    file = std::make_unique<std::ifstream>(path, std::ios::binary);
    if (!*file) return Status::IOError(fmt::format("cannot open '{}'", path));
  }
  std::istream* in = path == "-" ? &std::cin : file.get();
  std::string name = path == "-" ? "stdin" : path;
  // Rows are checked and encoded on the parsing thread; this one stages them, in input order.
  Preparer prepare = [&](RowParser::Parsed& parsed, BulkLoader::PreparedRows* out) {
    if (parsed.view != nullptr) return loader->Prepare(*parsed.view, out);
    store::JsonRow& row = *parsed.row;
    return loader->Prepare(
        PutRowRequest{
            table, std::move(row.primary_key), std::move(row.cells), {}, ReturnType::kNone},
        out);
  };
  Status parsed = ForEachRow(d.meta, format, std::move(prepare), std::move(file), in, name,
                             [&](BulkLoader::PreparedRows rows, uint64_t bytes) -> Status {
                               TL_RETURN_IF_ERROR(loader->Stage(std::move(rows)));
                               progress.Update(bytes, loader->rows());
                               return Status::OK();
                             });
  // What a failed load left behind: nothing, but over the wire the rows sent before.
  auto failed = [&](const Status& s) {
    const uint64_t written = loader->rows_written();
    return Status(s.code(),
                  s.message() + (written == 0 ? std::string("; nothing was written")
                                              : fmt::format("; {} of {} rows were written (over "
                                                            "the wire a load is not atomic)",
                                                            written, loader->rows())));
  };
  if (!parsed.ok()) return failed(parsed);
  uint64_t rows = loader->rows();
  Status committed = loader->Commit();
  if (!committed.ok()) return failed(committed);
  progress.Finish(rows, "rows");
  return Status::OK();
}

void RegisterImportCommand(CLI::App& app, GlobalOptions& g, Status& status) {
  struct Args {
    std::vector<std::string> positional;
    std::string table;
    std::string format;
    int64_t memory_mb = 0;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("import", "bulk-load a JSON-lines or CSV file into a table");
  AddGlobalOptions(cmd, &g);
  cmd->add_option("TABLE FILE", args->positional, "[TABLE] FILE (- for standard input)")
      ->expected(0, 2);
  cmd->add_option("--table", args->table, "table to load into");
  cmd->add_option("--format", args->format, "jsonl or csv")->required();
  cmd->add_option("--memory-mb", args->memory_mb, kLoadMemoryHelp)->check(CLI::Range(1, 1 << 20));
  cmd->callback([&g, &status, args] {
    status = [&]() -> Status {
      if (args->positional.empty()) {
        return Status::InvalidArgument(
            "import: which file? tablelake import TABLE FILE --format jsonl|csv (- reads "
            "standard input)");
      }
      std::string table = args->table;
      std::string file = args->positional.back();
      if (args->positional.size() == 2) {
        if (!table.empty()) return Status::InvalidArgument("give the table once: TABLE or --table");
        table = args->positional[0];
      }
      if (table.empty()) return Status::InvalidArgument("import: which table? give --table T");
      if (file != "-" && !std::filesystem::is_regular_file(file)) {
        return Status::InvalidArgument(fmt::format("import: '{}' is not a file", file));
      }
      TL_ASSIGN_OR_RETURN(auto store, OpenStore(g, Access::kWrite, args->memory_mb));
      return BulkLoad(*store, table, Lower(args->format), file, "import");
    }();
  });
}

}  // namespace tablelake::cli
