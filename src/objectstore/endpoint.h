// A delivery task's OssEndpoint, parsed: which protocol reaches the bucket and how it is
// addressed. The forms (a contract scripts rely on):
//   file:///ABS/DIR                      a local folder; the bucket is DIR/BUCKET
//   http(s)://HOST[:PORT]                S3-compatible (SigV4); an oss-*.aliyuncs.com host is OSS
//   s3+http(s)://HOST[:PORT]             S3-compatible, whatever the host
//   oss+http(s)://HOST[:PORT]            OSS, whatever the host
//   oss-cn-hangzhou[-internal].aliyuncs.com   OSS over https (the seed's form)
// S3 is addressed path-style (/BUCKET/KEY) on an IP address or localhost, virtual-host style
// (BUCKET.HOST/KEY) elsewhere; OSS likewise (its SDKs use path style on IP hosts).
#pragma once

#include <string>

#include "tablelake/status.h"

namespace tablelake::objectstore {

enum class Protocol { kFolder, kS3, kOss };

struct Endpoint {
  Protocol protocol = Protocol::kFolder;
  std::string folder;  // kFolder: the absolute path
  bool https = true;
  std::string host;  // without the port
  int port = 0;      // 0: the scheme's default
  bool path_style = false;
  std::string region;  // named by the host (s3.us-west-2.amazonaws.com, oss-cn-hangzhou...), or ""

  // "host" or "host:port", as the Host header carries it.
  std::string HostHeader() const;
  // The host a request for `bucket` goes to (BUCKET.HOST unless path style), with its port.
  std::string BucketHost(const std::string& bucket) const;
};

// OTSParameterInvalid naming the endpoint when it is none of the forms above.
Result<Endpoint> ParseEndpoint(const std::string& endpoint);

}  // namespace tablelake::objectstore
