// Every name a task gives its objects, in one place. Names are deterministic: a batch or
// segment redone after a crash writes the same names, so that what it had published is found
// and replaced, never duplicated.
//   <partition>/<table>-<task>-base<attempt>s<segment>-<index>.parquet   the base phase
//   <partition>/<table>-<task>-inc<first sequence, 20 digits>-<index>.parquet   a change batch
//   <dirty prefix>/<stem>-dirty-<part>.jsonl                             dirty rows
//   <prefix>/<table>-<task>-base<attempt>.manifest.json and <prefix>/_SUCCESS
// Task names may hold '-', so a task's files are told from another's by the whole pattern,
// not by a prefix ("t-a-base" is also how task "a-base2" of table t starts).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tablelake/delivery.h"

namespace tablelake::delivery {

using FileMatcher = std::function<bool(const std::string& file_name)>;

std::string BaseStem(const DeliveryTaskDescription& t, int64_t attempt, int64_t segment);
std::string IncStem(const DeliveryTaskDescription& t, uint64_t from);
std::string ManifestName(const DeliveryTaskDescription& t, int64_t attempt);
// "<stem>-<index>.parquet", "<stem>-dirty-<part>.jsonl".
std::string DataFileName(const std::string& stem, int index);
std::string DirtyFileName(const std::string& stem, int part);

// Files of one segment or batch (named after `stem`).
FileMatcher StemFiles(const std::string& stem);
// Files of one base attempt of the task.
FileMatcher AttemptFiles(const DeliveryTaskDescription& t, int64_t attempt);
// Files of any base attempt of the task.
FileMatcher AnyBaseFile(const DeliveryTaskDescription& t);
// Files of any segment or batch of the task (not its manifests).
FileMatcher AnyTaskFile(const DeliveryTaskDescription& t);

// The file name of an object key: what follows the last '/'.
std::string FileName(const std::string& key);

// Key-value metadata of the task's Parquet files.
std::vector<std::pair<std::string, std::string>> FileMetadata(const DeliveryTaskDescription& t,
                                                              uint64_t sequence);

}  // namespace tablelake::delivery
