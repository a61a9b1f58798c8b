// Buckets in memory, for tests: objects appear whole at Commit, as in every store.
#pragma once

#include <memory>

#include "objectstore/object_store.h"

namespace tablelake {

// A new empty bucket named `name` (in its URLs: mem://name/key). Thread-safe.
std::unique_ptr<ObjectStore> NewMemoryObjectStore(const std::string& name = "bucket");

// Forwards every call to `target`, which it borrows: a fault-injecting store overrides the one
// call it breaks (as LevelDB's EnvWrapper does for files).
class ObjectStoreWrapper : public ObjectStore {
 public:
  explicit ObjectStoreWrapper(ObjectStore* target) : target_(target) {}
  Result<std::unique_ptr<Sink>> NewObject(const std::string& key) override {
    return target_->NewObject(key);
  }
  Result<std::unique_ptr<Sink>> NewObjectIfAbsent(const std::string& key) override {
    return target_->NewObjectIfAbsent(key);
  }
  Result<std::string> GetObject(const std::string& key) override { return target_->GetObject(key); }
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    return target_->List(prefix);
  }
  Status DeleteObject(const std::string& key) override { return target_->DeleteObject(key); }
  Status AbortIncompleteUploads(
      const std::string& prefix,
      const std::function<bool(const std::string& name)>& matches) override {
    return target_->AbortIncompleteUploads(prefix, matches);
  }
  std::string Url(const std::string& key = "") const override { return target_->Url(key); }

 protected:
  ObjectStore* target() const { return target_; }

 private:
  ObjectStore* target_;
};

}  // namespace tablelake
