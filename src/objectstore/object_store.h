// Buckets of objects: where delivery publishes its files. One interface for the embedded local
// folder and S3/OSS endpoints; one conformance suite runs against every implementation.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/sink.h"
#include "tablelake/credentials.h"
#include "tablelake/status.h"

namespace tablelake {

struct ObjectInfo {
  std::string key;
  int64_t size = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // An object written through the sink appears whole at Commit, or not at all; a committed
  // object replaces any object with the same key.
  virtual Result<std::unique_ptr<Sink>> NewObject(const std::string& key) = 0;
  // The same, but where the store supports it Commit refuses (AlreadyExists) to replace an
  // object of that name: a replayed publication can never overwrite a different file. Stores
  // without the means write as NewObject does.
  virtual Result<std::unique_ptr<Sink>> NewObjectIfAbsent(const std::string& key) {
    return NewObject(key);
  }
  Status PutObject(const std::string& key, std::string_view data);
  virtual Result<std::string> GetObject(const std::string& key) = 0;
  // Objects whose key starts with `prefix`, in key order. Objects being written are not listed.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  // Deleting a missing object succeeds.
  virtual Status DeleteObject(const std::string& key) = 0;
  // Removes what writers started under `prefix` and never finished (a crashed process's):
  // a folder's hidden temporaries, a remote bucket's open multipart uploads, for objects whose
  // file name (after the last '/') `matches`. Call it only while no writer of those objects
  // runs. NotSupported when the store cannot list them.
  virtual Status AbortIncompleteUploads(
      const std::string& prefix, const std::function<bool(const std::string& name)>& matches) = 0;
  // "file:///data/lake/bucket", for messages.
  virtual std::string Url(const std::string& key = "") const = 0;
};

// Which ObjectStore serves a task's endpoint, chosen by the endpoint's scheme. Built in:
// "file" (local folders), "s3" and "oss"; ParseEndpoint (objectstore/endpoint.h) maps every
// endpoint form onto one of them (http(s):// is s3 unless the host is OSS's, s3+ and oss+ force
// one, oss-*.aliyuncs.com is oss), and checks its form. An endpoint of no built-in form goes
// to the scheme registered under its literal name (`memory` for `memory://x`): embedders and
// tests add stores of their own, or wrap a built-in one, without delivery knowing.
class BucketRegistry {
 public:
  using Opener = std::function<Result<std::unique_ptr<ObjectStore>>(
      const std::string& endpoint, const std::string& bucket, const CredentialSet* keys)>;

  BucketRegistry();  // the built-in schemes
  static const BucketRegistry& Default();

  // Adds or replaces `scheme`. `needs_keys`: its buckets are opened with a credential set.
  void Register(const std::string& scheme, Opener open, bool needs_keys);
  // Opens bucket `bucket` at `endpoint` (NotFound when it does not exist, PermissionDenied when
  // its keys are refused).
  Result<std::unique_ptr<ObjectStore>> Open(const std::string& endpoint, const std::string& bucket,
                                            const CredentialSet* keys) const;
  // What can be checked without reaching the bucket: a known scheme, the endpoint's form and
  // the bucket's name.
  Status Validate(const std::string& endpoint, const std::string& bucket) const;
  bool NeedsKeys(const std::string& endpoint) const;  // true for an endpoint it cannot parse

 private:
  struct Scheme {
    Opener open;
    bool needs_keys = true;
  };
  Result<const Scheme*> Find(const std::string& endpoint) const;

  std::map<std::string, Scheme> schemes_;
};

// The built-in schemes, without a registry: `file:///ABS/DIR` is the folder DIR/BUCKET, which
// must exist; S3 and OSS endpoints need `keys`.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& endpoint,
                                                     const std::string& bucket,
                                                     const CredentialSet* keys = nullptr);
Status ValidateBucketName(const std::string& bucket);
// A warning about what may still change before a task runs (a bucket folder not made yet);
// empty when there is none.
std::string BucketWarning(const std::string& endpoint, const std::string& bucket);

// Checks an object key: relative, no empty, "." or ".." segments, no NUL.
Status ValidateObjectKey(const std::string& key);

}  // namespace tablelake
