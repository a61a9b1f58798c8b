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
#include <set>
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
  Result<std::optional<store::JsonRow>> Parse(std::string_view line) override {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      return std::optional<store::JsonRow>();
    TL_ASSIGN_OR_RETURN(store::JsonRow row, lines_.Parse(line, /*padded=*/true));
    return std::optional<store::JsonRow>(std::move(row));
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

  Result<std::optional<store::JsonRow>> Parse(std::string_view raw) override {
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return std::optional<store::JsonRow>();
    std::vector<Field> fields;
    TL_RETURN_IF_ERROR(SplitFields(line, &fields));
    if (columns_.empty()) {
      TL_RETURN_IF_ERROR(ParseHeader(fields));
      return std::optional<store::JsonRow>();
    }
    if (fields.size() != columns_.size()) {
      return Status::InvalidArgument(
          fmt::format("has {} fields, the header has {}", fields.size(), columns_.size()));
    }
    nlohmann::json obj = nlohmann::json::object();
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].text.empty() && !fields[i].quoted) continue;
      TL_ASSIGN_OR_RETURN(obj[columns_[i].name], ToJson(columns_[i], fields[i]));
    }
    TL_ASSIGN_OR_RETURN(store::JsonRow row,
                        store::RowFromJson(meta_, obj, store::MissingKey::kAutoIncrement));
    return std::optional<store::JsonRow>(std::move(row));
  }

 private:
  struct Field {
    std::string text;
    bool quoted = false;
  };
  struct Column {
    std::string name;
    std::string type;  // empty: inferred
  };

  static Status SplitFields(std::string_view line, std::vector<Field>* out) {
    size_t i = 0;
    while (true) {
      Field f;
      if (i < line.size() && line[i] == '"') {
        f.quoted = true;
        ++i;
        while (true) {
          if (i >= line.size()) return Status::InvalidArgument("unterminated quoted field");
          if (line[i] == '"') {
            if (i + 1 < line.size() && line[i + 1] == '"') {
              f.text.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          f.text.push_back(line[i++]);
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
      out->push_back(std::move(f));
      if (i >= line.size()) return Status::OK();
      ++i;  // the comma
      if (i == line.size()) {
        out->push_back({});
        return Status::OK();
      }
    }
  }

  Status ParseHeader(const std::vector<Field>& fields) {
    for (const auto& f : fields) {
      Column c;
      size_t colon = f.text.find(':');
      c.name = f.text.substr(0, colon);
      if (colon != std::string::npos) c.type = f.text.substr(colon + 1);
      static const std::set<std::string> kTypes = {"",        "INTEGER", "DOUBLE",
                                                   "BOOLEAN", "STRING",  "BINARY"};
      if (!kTypes.count(c.type)) {
        return Status::InvalidArgument(fmt::format("header column '{}': unknown type '{}'",
                                                   Printable(c.name), Printable(c.type)));
      }
      // A name no row could write is the header's fault, told once (at the header's line).
      TL_RETURN_IF_ERROR(
          store::ValidateName(fmt::format("header column {}:", columns_.size() + 1), c.name));
      for (const auto& pk : meta_.primary_key) {
        if (pk.name == c.name && c.type.empty()) c.type = PrimaryKeyTypeName(pk.type);
      }
      for (const auto& earlier : columns_) {
        if (earlier.name == c.name) {
          return Status::InvalidArgument(
              fmt::format("the header names column '{}' twice", Printable(c.name)));
        }
      }
      columns_.push_back(std::move(c));
    }
    return Status::OK();
  }

  static Result<nlohmann::json> ToJson(const Column& c, const Field& f) {
    const std::string& t = f.text;
    std::string type = c.type;
    if (type.empty()) type = f.quoted ? "STRING" : InferType(t);
    if (type == "STRING") return nlohmann::json(t);
    if (type == "BINARY") return nlohmann::json{{"$binary", t}};
    if (type == "BOOLEAN") {
      if (t == "true" || t == "false") return nlohmann::json(t == "true");
      return Status::InvalidArgument(fmt::format("column '{}': '{}' is not a BOOLEAN", c.name, t));
    }
    if (type == "INTEGER") return nlohmann::json{{"$int", t}};
    char* end = nullptr;
    double d = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size()) {
      return Status::InvalidArgument(fmt::format("column '{}': '{}' is not a DOUBLE", c.name, t));
    }
    return nlohmann::json{{"$double", d}};
  }

  static std::string InferType(const std::string& t) {
    if (t == "true" || t == "false") return "BOOLEAN";
    size_t sign = !t.empty() && (t[0] == '-' || t[0] == '+') ? 1 : 0;
    if (t.size() > sign && t.find_first_not_of("0123456789", sign) == std::string::npos) {
      errno = 0;
      std::strtoll(t.c_str(), nullptr, 10);
      if (errno == 0) return "INTEGER";
    }
    char* end = nullptr;
    std::strtod(t.c_str(), &end);
    if (!t.empty() && end == t.c_str() + t.size()) return "DOUBLE";
    return "STRING";
  }

  TableMeta meta_;
  std::vector<Column> columns_;
};

// Turns a parsed row into what the loader stages (BulkLoader::Prepare), on a parsing thread.
using Preparer = std::function<Result<BulkLoader::PreparedRow>(store::JsonRow&)>;

// Lines parsed and prepared ahead, in batches: a batch's rows (with their line numbers and the
// input bytes read through them), then the error that stopped the parse, if any.
struct ParsedBatch {
  struct Line {
    uint64_t number;
    uint64_t bytes;
    BulkLoader::PreparedRow row;
  };
  std::vector<Line> lines;
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
        number += static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
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
    bool header_read = false;  // CSV: this thread's parser has read the header
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
        ParseBatch(s, parser, b.get());
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

  static void ParseBatch(State& s, RowParser* parser, Batch* b) {
    b->out.lines.reserve(b->lines.size());
    for (auto& l : b->lines) {
      auto row = parser->Parse(l.text);
      Result<BulkLoader::PreparedRow> prepared = BulkLoader::PreparedRow();
      if (row.ok() && row->has_value()) prepared = s.prepare(**row);
      Status bad = row.ok() ? prepared.status() : row.status();
      if (!bad.ok()) {
        b->out.error = bad.WithContext(fmt::format("{} line {}", s.name, l.number));
        b->out.end = true;
        break;
      }
      if (row->has_value()) b->out.lines.push_back({l.number, l.bytes, std::move(*prepared)});
    }
    b->lines = {};
    b->input = {};
  }

  std::shared_ptr<State> state_;
};

// Calls `fn(line_number, bytes_read, row)` for each row of the input, the parsing and
// `prepare` a few batches ahead on the other cores.
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
    for (auto& l : b.lines) {
      TL_RETURN_IF_ERROR(
          fn(l.number, l.bytes, l.row).WithContext(fmt::format("{} line {}", name, l.number)));
    }
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
  Preparer prepare = [&](store::JsonRow& row) {
    return loader->Prepare(
        {table, std::move(row.primary_key), std::move(row.cells), {}, ReturnType::kNone});
  };
  Status parsed = ForEachRow(d.meta, format, std::move(prepare), std::move(file), in, name,
                             [&](uint64_t, uint64_t bytes, BulkLoader::PreparedRow& row) -> Status {
                               TL_RETURN_IF_ERROR(loader->Stage(std::move(row)));
                               progress.Update(bytes, loader->rows());
                               return Status::OK();
                             });
  if (!parsed.ok()) return Status(parsed.code(), parsed.message() + "; nothing was written");
  uint64_t rows = loader->rows();
  TL_RETURN_IF_ERROR(loader->Commit());
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
