// Credential sets in the table store's metadata, under delivery/credentials/<role>.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tablelake/credentials.h"
#include "tablelake/table_store.h"

namespace tablelake::delivery {

// A role is 1 to 64 letters, digits, '.', '-' or '_' (a RAM role name).
Status ValidateRoleName(const std::string& role);
// The role a task's OssRoleName names: itself, or the part after "role/" of an ARN such as
// acs:ram::<uid>:role/<name>.
std::string RoleOf(const std::string& oss_role);

Status PutCredentialSet(TableStore* store, const std::string& role, const CredentialSet& keys);
// The set `oss_role` names (see RoleOf), or nullopt.
Result<std::optional<CredentialSet>> FindCredentialSet(TableStore* store,
                                                       const std::string& oss_role);
// (role, access key id) of every set, by role.
Result<std::vector<std::pair<std::string, std::string>>> ListCredentialSets(TableStore* store);
// NotFound when there is no such set.
Status DeleteCredentialSet(TableStore* store, const std::string& role);

}  // namespace tablelake::delivery
