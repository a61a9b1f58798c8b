#include "delivery/object_names.h"

#include <string_view>

#include "fmt/format.h"

namespace tablelake::delivery {
namespace {

// Takes a run of ASCII digits of `min` to `max` characters off the front of `*s`.
bool TakeDigits(std::string_view* s, size_t min, size_t max = std::string_view::npos) {
  size_t n = 0;
  while (n < s->size() && n < max && (*s)[n] >= '0' && (*s)[n] <= '9') ++n;
  if (n < min) return false;
  s->remove_prefix(n);
  return true;
}

bool Take(std::string_view* s, std::string_view text) {
  if (s->substr(0, text.size()) != text) return false;
  s->remove_prefix(text.size());
  return true;
}

// "base<digits>s<digits>-" off the front of `*s`.
bool TakeBaseStem(std::string_view* s) {
  return Take(s, "base") && TakeDigits(s, 1) && Take(s, "s") && TakeDigits(s, 1) && Take(s, "-");
}

// A file name's end after its stem: any characters but line breaks (what a name can hold).
bool AnyTail(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

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
    std::string_view s = f;
    return Take(&s, prefix) && TakeDigits(&s, 1) && Take(&s, "-") && AnyTail(s);
  };
}

FileMatcher AnyBaseFile(const DeliveryTaskDescription& t) {
  return [prefix = fmt::format("{}-{}-", t.table, t.name)](const std::string& f) {
    std::string_view s = f;
    return Take(&s, prefix) && TakeBaseStem(&s) && AnyTail(s);
  };
}

FileMatcher AnyTaskFile(const DeliveryTaskDescription& t) {
  return [prefix = fmt::format("{}-{}-", t.table, t.name)](const std::string& f) {
    std::string_view s = f;
    if (!Take(&s, prefix)) return false;
    std::string_view inc = s;
    return (TakeBaseStem(&s) && AnyTail(s)) ||
           (Take(&inc, "inc") && TakeDigits(&inc, 20, 20) && Take(&inc, "-") && AnyTail(inc));
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
