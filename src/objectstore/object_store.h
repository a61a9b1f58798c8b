// Buckets of objects: where delivery publishes its files. One interface for the embedded local
// folder and, later, S3/OSS endpoints; one conformance suite runs against every implementation.
#pragma once

#include <cstdint>
#include <functional>
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

// Opens bucket `bucket` at `endpoint`. `file:///ABS/DIR` is the folder DIR/bucket, which must
// exist. Other endpoints (S3/OSS) need `keys`; they are not supported yet and say so.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& endpoint,
                                                     const std::string& bucket,
                                                     const CredentialSet* keys = nullptr);
// What can be checked of a task's bucket without reaching it: the endpoint's form (file:///ABS,
// http(s)://HOST[:PORT], s3+/oss+http(s)://HOST[:PORT], an *.aliyuncs.com OSS endpoint) and
// the bucket's name.
Status ValidateBucketLocation(const std::string& endpoint, const std::string& bucket);
Status ValidateBucketName(const std::string& bucket);
// A warning about what may still change before a task runs (a bucket folder not made yet);
// empty when there is none.
std::string BucketWarning(const std::string& endpoint, const std::string& bucket);
// Whether OpenObjectStore needs keys for `endpoint`: all but local folders do.
bool EndpointNeedsKeys(const std::string& endpoint);

// Checks an object key: relative, no empty, "." or ".." segments, no NUL.
Status ValidateObjectKey(const std::string& key);

}  // namespace tablelake
