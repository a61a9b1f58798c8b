#include "store/compaction.h"

#include <vector>

#include "common/coding.h"
#include "store/cell_rules.h"
#include "store/change_codec.h"
#include "store/row_codec.h"

namespace tablelake::store {
namespace {

const RetentionPolicy* Lookup(const RetentionRegistry::Map& map, const rocksdb::Slice& key) {
  if (key.size() < 4) return nullptr;
  auto it = map.find(DecodeBigEndian32(key.data()));
  return it == map.end() ? nullptr : &it->second;
}

class DataFilter : public rocksdb::CompactionFilter {
 public:
  DataFilter(std::shared_ptr<const RetentionRegistry::Map> map, int64_t now_ms)
      : map_(std::move(map)), now_ms_(now_ms) {}
  const char* Name() const override { return "tablelake.data"; }

  bool Filter(int, const rocksdb::Slice& key, const rocksdb::Slice& value, std::string* new_value,
              bool* value_changed) const override {
    if (!map_) return false;
    const RetentionPolicy* policy = Lookup(*map_, key);
    if (policy == nullptr) return true;  // the table was dropped
    std::vector<Cell> cells;
    if (!DecodeCells(std::string_view(value.data(), value.size()), &cells).ok()) return false;
    bool had_cells = !cells.empty();
    if (!ApplyRetention(policy->options, now_ms_, &cells)) return false;
    if (had_cells && cells.empty()) return true;  // every cell expired: the row is gone
    new_value->clear();
    EncodeCells(cells, new_value);
    *value_changed = true;
    return false;
  }

 private:
  std::shared_ptr<const RetentionRegistry::Map> map_;
  int64_t now_ms_;
};

class StreamFilter : public rocksdb::CompactionFilter {
 public:
  StreamFilter(std::shared_ptr<const RetentionRegistry::Map> map, int64_t now_us)
      : map_(std::move(map)), now_us_(now_us) {}
  const char* Name() const override { return "tablelake.stream"; }

  bool Filter(int, const rocksdb::Slice& key, const rocksdb::Slice& value, std::string*,
              bool*) const override {
    if (!map_) return false;
    const RetentionPolicy* policy = Lookup(*map_, key);
    if (policy == nullptr || !policy->keeps_stream) return true;
    int64_t commit_us;
    if (!ChangeCommitTime(std::string_view(value.data(), value.size()), &commit_us)) return false;
    constexpr int64_t kHour = int64_t{3600} * 1000000;
    if (commit_us < now_us_ - int64_t{policy->max_hold_hours} * kHour) return true;
    uint64_t sequence = 0;
    bool held = StreamKeySequence(std::string_view(key.data(), key.size()), &sequence) &&
                sequence >= policy->held_from;
    return !held && commit_us < now_us_ - int64_t{policy->stream_hours} * kHour;
  }

 private:
  std::shared_ptr<const RetentionRegistry::Map> map_;
  int64_t now_us_;
};

template <typename FilterT>
class Factory : public rocksdb::CompactionFilterFactory {
 public:
  Factory(std::shared_ptr<RetentionRegistry> registry, const char* name)
      : registry_(std::move(registry)), name_(name) {}
  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context&) override {
    int64_t now_us = registry_->clock().NowMicros();
    if constexpr (std::is_same_v<FilterT, DataFilter>) {
      return std::make_unique<DataFilter>(registry_->Current(), now_us / 1000);
    } else {
      return std::make_unique<StreamFilter>(registry_->Current(), now_us);
    }
  }
  const char* Name() const override { return name_; }

 private:
  std::shared_ptr<RetentionRegistry> registry_;
  const char* name_;
};

}  // namespace

std::shared_ptr<rocksdb::CompactionFilterFactory> NewDataCompactionFilterFactory(
    std::shared_ptr<RetentionRegistry> registry) {
  return std::make_shared<Factory<DataFilter>>(std::move(registry), "tablelake.data.factory");
}

std::shared_ptr<rocksdb::CompactionFilterFactory> NewStreamCompactionFilterFactory(
    std::shared_ptr<RetentionRegistry> registry) {
  return std::make_shared<Factory<StreamFilter>>(std::move(registry), "tablelake.stream.factory");
}

}  // namespace tablelake::store
