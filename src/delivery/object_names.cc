#include "delivery/object_names.h"

#include <string_view>

#include "common/text_scanner.h"
#include "fmt/format.h"

namespace tablelake::delivery {
namespace {

// "base<digits>s<digits>-".
bool TakeBaseStem(TextScanner* in) {
  return in->Text("base") && in->DigitRun(1) && in->Text("s") && in->DigitRun(1) && in->Text("-");
}

// A file name's end after its stem: any characters but line breaks (what a name can hold).
bool AnyTail(const TextScanner& in) {
  return in.rest().find_first_of("\r\n") == std::string_view::npos;
}

}  // namespace

std::string BaseStem(const DeliveryTaskDescription& t, int64_t attempt, int64_t segment) {
  return fmt::format("{}-{}-base{}s{}", t.table, t.name, attempt, segment);
}

std::string IncStem(const DeliveryTaskDescription& t, uint64_t from) {
  return fmt::format("{}-{}-inc{:020d}", t.table, t.name, from);
}

std::string ManifestName(const DeliveryTaskDescription& t, int64_t attempt) {
  return fmt::format("{}-{}-base{}.manifest.json", t.table, t.name, attempt);
}

std::string DataFileName(const std::string& stem, int index) {
  return fmt::format("{}-{:05d}.parquet", stem, index);
}

std::string DirtyFileName(const std::string& stem, int part) {
  return fmt::format("{}-dirty-{:05d}.jsonl", stem, part);
}

FileMatcher StemFiles(const std::string& stem) {
  return [prefix = stem + "-"](const std::string& file) { return file.rfind(prefix, 0) == 0; };
}

// Matched by hand: a listing or a manifest checks every file of a delivery, thousands with many
// partitions, and std::regex took microseconds each.
FileMatcher AttemptFiles(const DeliveryTaskDescription& t, int64_t attempt) {
  return [prefix = fmt::format("{}-{}-base{}s", t.table, t.name, attempt)](const std::string& f) {
    TextScanner in(f);
    return in.Text(prefix) && in.DigitRun(1) && in.Text("-") && AnyTail(in);
  };
}

FileMatcher AnyBaseFile(const DeliveryTaskDescription& t) {
  return [prefix = fmt::format("{}-{}-", t.table, t.name)](const std::string& f) {
    TextScanner in(f);
    return in.Text(prefix) && TakeBaseStem(&in) && AnyTail(in);
  };
}

FileMatcher AnyTaskFile(const DeliveryTaskDescription& t) {
  return [prefix = fmt::format("{}-{}-", t.table, t.name)](const std::string& f) {
    TextScanner in(f);
    if (!in.Text(prefix)) return false;
    TextScanner inc = in;
    return (TakeBaseStem(&in) && AnyTail(in)) ||
           (inc.Text("inc") && inc.DigitRun(20, 20) && inc.Text("-") && AnyTail(inc));
  };
}

std::string FileName(const std::string& key) {
  size_t slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

std::vector<std::pair<std::string, std::string>> FileMetadata(const DeliveryTaskDescription& t,
                                                              uint64_t sequence) {
  return {{"tablelake.source_table", t.table},
          {"tablelake.task", t.name},
          {"tablelake.sequence", std::to_string(sequence)}};
}

}  // namespace tablelake::delivery
