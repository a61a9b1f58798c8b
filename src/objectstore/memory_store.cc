#include "objectstore/memory_store.h"

#include <map>
#include <mutex>

#include "fmt/format.h"

namespace tablelake {
namespace {

class MemoryStore : public ObjectStore {
 public:
  explicit MemoryStore(std::string name) : name_(std::move(name)) {}

  Result<std::unique_ptr<Sink>> NewObject(const std::string& key) override {
    TL_RETURN_IF_ERROR(ValidateObjectKey(key));
    return std::unique_ptr<Sink>(std::make_unique<MemorySink>(this, key, false));
  }
  Result<std::unique_ptr<Sink>> NewObjectIfAbsent(const std::string& key) override {
    TL_RETURN_IF_ERROR(ValidateObjectKey(key));
    return std::unique_ptr<Sink>(std::make_unique<MemorySink>(this, key, true));
  }
  Result<std::string> GetObject(const std::string& key) override {
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return Status::NotFound(fmt::format("{}: no such object", Url(key)));
    return it->second;
  }
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    std::lock_guard lock(mu_);
    std::vector<ObjectInfo> out;
    for (auto it = objects_.lower_bound(prefix);
         it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      out.push_back({it->first, static_cast<int64_t>(it->second.size())});
    }
    return out;
  }
  Status DeleteObject(const std::string& key) override {
    std::lock_guard lock(mu_);
    objects_.erase(key);
    return Status::OK();
  }
  // In-flight sinks live in their writers' memory: nothing outlives a process.
  Status AbortIncompleteUploads(const std::string&,
                                const std::function<bool(const std::string&)>&) override {
    return Status::OK();
  }
  std::string Url(const std::string& key = "") const override {
    return fmt::format("mem://{}/{}", name_, key);
  }

 private:
  class MemorySink : public Sink {
   public:
    MemorySink(MemoryStore* store, std::string key, bool no_replace)
        : store_(store), key_(std::move(key)), no_replace_(no_replace) {}
    Status Append(std::string_view data) override {
      if (done_) return Status::Internal(store_->Url(key_) + ": append after the end");
      data_.append(data);
      return Status::OK();
    }
    Status Commit() override {
      if (done_) return Status::Internal(store_->Url(key_) + ": committed twice");
      done_ = true;
      std::lock_guard lock(store_->mu_);
      if (no_replace_ && store_->objects_.count(key_)) {
        return Status::AlreadyExists(store_->Url(key_) + ": exists already: not replaced");
      }
      store_->objects_[key_] = std::move(data_);
      return Status::OK();
    }
    void Abort() override { done_ = true; }
    int64_t Tell() const override { return static_cast<int64_t>(data_.size()); }

   private:
    MemoryStore* store_;
    std::string key_;
    std::string data_;
    bool no_replace_;
    bool done_ = false;
  };

  std::string name_;
  std::mutex mu_;
  std::map<std::string, std::string> objects_;
};

}  // namespace

std::unique_ptr<ObjectStore> NewMemoryObjectStore(const std::string& name) {
  return std::make_unique<MemoryStore>(name);
}

}  // namespace tablelake
