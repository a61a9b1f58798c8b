// RocksDB's informational log for a store folder, written by us rather than by RocksDB's own
// file logger.
//
// Why: RocksDB's logger writes through a WritableFileWriter, and Debian's librocksdb is built
// with assertions on, so once a log write fails (a full disk) the next one aborts the process
// (`writable_file_writer.h: Assertion sync_without_flush_called_`), during the write that
// reported the error and at every later open. This logger writes with stdio and drops what it
// cannot write. It also bounds the log: one `LOG` of at most `max_bytes`, and one `LOG.old`
// beside it, where RocksDB's logger left a `LOG.old.<time>` file per process without limit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace rocksdb {
class Logger;
}

namespace tablelake::store {

// A logger appending to `<dir>/LOG`; nullptr-free: when the file cannot be opened, it logs
// nothing.
std::shared_ptr<rocksdb::Logger> NewInfoLog(const std::string& dir, int64_t max_bytes = 1 << 20);

}  // namespace tablelake::store
