// Facts about a store's folder that RocksDB does not tell: who else has it open, how much room
// is left on its file system.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tablelake/status.h"

namespace tablelake::store {

struct FolderUser {
  int64_t pid = 0;
  std::string command;           // its command line, when readable
  std::string Describe() const;  // "pid 123: tablelake delivery run"
};

// The process holding RocksDB's lock on `<dir>/LOCK`, if another one does. RocksDB locks it
// with fcntl, so F_GETLK names the holder's pid (never this process: a process does not
// conflict with its own locks).
std::optional<FolderUser> FolderInUse(const std::string& dir);

// Bytes free to an unprivileged writer on the file system holding `dir`; -1 when unknown.
int64_t FreeBytes(const std::string& dir);

// A new empty folder under the system's temporary folder, named `<stem>-XXXXXX`.
Result<std::string> MakeTempFolder(const std::string& stem);

}  // namespace tablelake::store
