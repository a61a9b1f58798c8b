// Background reclamation in RocksDB compaction: expired cells and surplus versions in table
// data, expired change records in the stream, and everything of dropped tables.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>

#include "rocksdb/compaction_filter.h"
#include "tablelake/options.h"
#include "tablelake/types.h"

namespace tablelake::store {

struct RetentionPolicy {
  TableOptions options;
  bool keeps_stream = false;
  int32_t stream_hours = 0;         // the user stream's retention; 0 without a user stream
  uint64_t held_from = UINT64_MAX;  // the oldest sequence a change-log hold still needs
  int32_t max_hold_hours = 168;     // past this, held records go too
};

// The live tables' policies, swapped atomically whenever the catalog changes. Until the first
// Publish (during DB open) compaction keeps everything: it cannot yet tell dropped tables.
class RetentionRegistry {
 public:
  explicit RetentionRegistry(std::shared_ptr<Clock> clock) : clock_(std::move(clock)) {}
  using Map = std::map<uint32_t, RetentionPolicy>;
  void Publish(Map policies) {
    std::atomic_store(&map_, std::make_shared<const Map>(std::move(policies)));
  }
  std::shared_ptr<const Map> Current() const { return std::atomic_load(&map_); }
  const Clock& clock() const { return *clock_; }

 private:
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<const Map> map_;
};

std::shared_ptr<rocksdb::CompactionFilterFactory> NewDataCompactionFilterFactory(
    std::shared_ptr<RetentionRegistry> registry);
std::shared_ptr<rocksdb::CompactionFilterFactory> NewStreamCompactionFilterFactory(
    std::shared_ptr<RetentionRegistry> registry);

}  // namespace tablelake::store
