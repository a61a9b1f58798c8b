// Tablestore's delivery task operations (wire-protocol.md, section 4) and Tablelake's
// credential-set operations over a DeliveryService: the messages of
// proto/tablestore_delivery.proto to and from include/tablelake/delivery.h's types, with every
// validation the embedded API does (so the same errors).
#pragma once

#include <functional>
#include <string>

#include "proto/tablestore_delivery.pb.h"
#include "tablelake/delivery.h"

namespace tablelake::server {

DeliveryTaskConfig FromWire(const wire::OSSTaskConfig& config);
void ToWire(const DeliveryTaskConfig& config, wire::OSSTaskConfig* out);
void ToWire(const DeliveryTaskStatus& status, wire::TaskSyncStat* out);
DeliveryTaskStatus FromWire(const wire::TaskSyncStat& status);

// What the server does around a task's life: run it once created, stop it before it goes, run
// it again with its new definition.
struct TaskEvents {
  std::function<void(const std::string& table, const std::string& name)> created;
  std::function<void(const std::string& table, const std::string& name)> updating;
  std::function<void(const std::string& table, const std::string& name)> updated;
  std::function<void(const std::string& table, const std::string& name)> deleting;
};

Status CreateDeliveryTask(DeliveryService& service, const TaskEvents& events,
                          const wire::CreateDeliveryTaskRequest& r);
Status UpdateDeliveryTask(DeliveryService& service, const TaskEvents& events,
                          const wire::UpdateDeliveryTaskRequest& r);
Status DeleteDeliveryTask(DeliveryService& service, const TaskEvents& events,
                          const wire::DeleteDeliveryTaskRequest& r);
Status DescribeDeliveryTask(DeliveryService& service, const wire::DescribeDeliveryTaskRequest& r,
                            wire::DescribeDeliveryTaskResponse* out);
Status ListDeliveryTask(DeliveryService& service, const wire::ListDeliveryTaskRequest& r,
                        wire::ListDeliveryTaskResponse* out);

Status ListDeliveredFiles(DeliveryService& service, const wire::ListDeliveredFilesRequest& r,
                          wire::ListDeliveredFilesResponse* out);
// DeleteTable when the server runs tasks: the table's tasks stop and go with it (their files
// stay), as `tablelake table drop` does.
Status DropTable(DeliveryService& service, const TaskEvents& events, const std::string& table);

Status PutCredentialSet(DeliveryService& service, const wire::PutCredentialSetRequest& r);
Status ListCredentialSet(DeliveryService& service, wire::ListCredentialSetResponse* out);
Status DeleteCredentialSet(DeliveryService& service, const wire::DeleteCredentialSetRequest& r);

}  // namespace tablelake::server
