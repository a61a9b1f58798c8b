#include "delivery/object_names.h"

#include <regex>

#include "fmt/format.h"

namespace tablelake::delivery {
namespace {

// Table names are [A-Za-z0-9_] and task names [a-z0-9-]: nothing a regex treats specially.
FileMatcher Matching(const std::string& pattern) {
  return [re = std::regex(pattern)](const std::string& file) { return std::regex_match(file, re); };
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

FileMatcher AttemptFiles(const DeliveryTaskDescription& t, int64_t attempt) {
  return Matching(fmt::format("^{}-{}-base{}s[0-9]+-.*", t.table, t.name, attempt));
}

FileMatcher AnyBaseFile(const DeliveryTaskDescription& t) {
  return Matching(fmt::format("^{}-{}-base[0-9]+s[0-9]+-.*", t.table, t.name));
}

FileMatcher AnyTaskFile(const DeliveryTaskDescription& t) {
  return Matching(fmt::format("^{}-{}-(base[0-9]+s[0-9]+|inc[0-9]{{20}})-.*", t.table, t.name));
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
