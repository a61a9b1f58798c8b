// Keys to an S3/OSS endpoint, kept on our side. A delivery task's OssRoleName names a set, as
// the cloud service's role names the RAM role it assumes; secrets never leave the data folder
// through the API (listing shows names and key ids only).
#pragma once

#include <string>

namespace tablelake {

struct CredentialSet {
  std::string access_key_id;
  std::string access_key_secret;
  std::string security_token;  // STS token, when the keys are temporary
  std::string region;          // signs SigV4 requests when the endpoint names no region
  std::string oss_signature;   // OSS endpoints: "v4" signs with OSS4-HMAC-SHA256. Default: V1
};

}  // namespace tablelake
