// Buckets behind an S3-compatible or OSS endpoint (src/objectstore/endpoint.h says which), on
// one client: the two speak the same object API (PUT, GET, HEAD, DELETE, ListObjectsV2,
// multipart upload) and differ in how requests are signed (SigV4, or OSS's V1 HMAC-SHA1).
//
// Objects are written through a sink that keeps a few parts in memory: a small object is one
// PUT at Commit; past `part_bytes` the sink starts a multipart upload and sends each full part
// as it fills, `parts_in_flight` at once, completing the upload at Commit (when the object
// appears, whole) and aborting it on Abort. Every upload carries Content-MD5. Requests are retried
// with exponential backoff and full jitter on transport failures, 5xx and throttling (429, 503
// SlowDown); 4xx answers are not retried: 403 is PermissionDenied, 404 NotFound.
#pragma once

#include <memory>
#include <string>

#include "objectstore/endpoint.h"
#include "objectstore/object_store.h"

namespace tablelake::objectstore {

struct RemoteBucketOptions {
  int64_t part_bytes = 8 << 20;  // multipart part size (>= 5 MiB for S3). Default: 8 MiB
  // Parts of one object sent at once; an object's memory is about (this + 1) x part_bytes.
  int parts_in_flight = 3;        // Default: 3
  int max_attempts = 6;           // tries of one request. Default: 6
  int64_t backoff_ms = 100;       // first retry's backoff ceiling, doubling. Default: 100 ms
  int64_t max_backoff_ms = 5000;  // Default: 5 s
  int list_page = 1000;           // keys per LIST request. Default: 1000 (the most S3 gives)
};

// Opens `bucket` and checks that it answers (HEAD): NotFound when it does not exist,
// PermissionDenied when the keys are refused. `region` signs SigV4 requests when the endpoint
// names none (default us-east-1).
Result<std::unique_ptr<ObjectStore>> OpenRemoteBucket(const Endpoint& endpoint,
                                                      const std::string& bucket,
                                                      const CredentialSet& keys,
                                                      const std::string& region = "",
                                                      RemoteBucketOptions options = {});

}  // namespace tablelake::objectstore
