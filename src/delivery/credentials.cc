#include "delivery/credentials.h"

#include <algorithm>
#include <cctype>

#include "fmt/format.h"
#include "nlohmann/json.hpp"

namespace tablelake::delivery {

namespace {

constexpr char kPrefix[] = "delivery/credentials/";

std::string Key(const std::string& role) { return kPrefix + role; }

}  // namespace

Status ValidateRoleName(const std::string& role) {
  auto allowed = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  };
  if (!role.empty() && role.size() <= 64 && std::all_of(role.begin(), role.end(), allowed)) {
    return Status::OK();
  }
  return Status::InvalidArgument(
      fmt::format("role '{}' is invalid: 1 to 64 letters, digits, '.', '-' or '_'", role));
}

std::string RoleOf(const std::string& oss_role) {
  size_t at = oss_role.rfind(":role/");
  return at == std::string::npos ? oss_role : oss_role.substr(at + 6);
}

Status PutCredentialSet(TableStore* store, const std::string& role, const CredentialSet& keys) {
  TL_RETURN_IF_ERROR(ValidateRoleName(role));
  if (keys.access_key_id.empty() || keys.access_key_secret.empty()) {
    return Status::InvalidArgument(
        fmt::format("credential set '{}' needs an access key id and secret", role));
  }
  nlohmann::json j = {{"access_key_id", keys.access_key_id},
                      {"access_key_secret", keys.access_key_secret},
                      {"security_token", keys.security_token},
                      {"region", keys.region},
                      {"oss_signature", keys.oss_signature}};
  return store->PutMetadata(Key(role), j.dump());
}

Result<std::optional<CredentialSet>> FindCredentialSet(TableStore* store,
                                                       const std::string& oss_role) {
  std::string role = RoleOf(oss_role);
  if (!ValidateRoleName(role).ok()) return std::optional<CredentialSet>();
  TL_ASSIGN_OR_RETURN(auto raw, store->GetMetadata(Key(role)));
  if (!raw) return std::optional<CredentialSet>();
  auto j = nlohmann::json::parse(*raw, nullptr, false);
  if (!j.is_object()) {
    return Status::Corruption(fmt::format("credential set '{}' is unreadable", role));
  }
  return std::optional<CredentialSet>(CredentialSet{
      j.value("access_key_id", ""), j.value("access_key_secret", ""), j.value("security_token", ""),
      j.value("region", ""), j.value("oss_signature", "")});
}

Result<std::vector<std::pair<std::string, std::string>>> ListCredentialSets(TableStore* store) {
  TL_ASSIGN_OR_RETURN(auto entries, store->ListMetadata(kPrefix));
  std::vector<std::pair<std::string, std::string>> sets;
  for (const auto& [key, value] : entries) {
    auto j = nlohmann::json::parse(value, nullptr, false);
    sets.emplace_back(key.substr(sizeof(kPrefix) - 1),
                      j.is_object() ? j.value("access_key_id", "") : "");
  }
  return sets;
}

Status DeleteCredentialSet(TableStore* store, const std::string& role) {
  TL_RETURN_IF_ERROR(ValidateRoleName(role));
  TL_ASSIGN_OR_RETURN(auto raw, store->GetMetadata(Key(role)));
  if (!raw) return Status::NotFound(fmt::format("credential set '{}' does not exist", role));
  return store->DeleteMetadata(Key(role));
}

}  // namespace tablelake::delivery
