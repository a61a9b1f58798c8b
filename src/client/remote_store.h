// The table store and delivery service of a server, over Tablestore's wire protocol: the same
// C++ interfaces as an embedded store (include/tablelake/table_store.h, delivery.h), so that a
// program - the CLI with --endpoint - works alike on a data folder and on a running server.
//
// Tables, rows (conditions, filters, versions, return content), the change stream, delivery
// tasks, their files and credential sets travel over the wire. What only the process that owns
// a data folder can do - snapshots, checkpoints, raw row iterators, change-log holds,
// compaction, metadata, running a task - answers NotSupported naming the operation. A bulk load
// is written in BatchWriteRow requests: each row atomic, the load as a whole not.
#pragma once

#include <memory>
#include <string>

#include "tablelake/client.h"
#include "tablelake/delivery.h"
#include "tablelake/table_store.h"

namespace tablelake::client {
class WireCaller;
}

namespace tablelake::remote {

struct RemoteOptions {
  std::string endpoint;  // http://HOST:PORT or https://HOST
  std::string instance;
  std::string access_key_id;
  std::string access_key_secret;  // kept in memory only
  client::ClientOptions client;
};

// Nothing is sent until the first call.
std::unique_ptr<TableStore> OpenRemoteStore(const RemoteOptions& options);

std::unique_ptr<TableStore> NewRemoteStore(std::shared_ptr<client::WireCaller> caller);
// The delivery service of the server behind a store from OpenRemoteStore or NewRemoteStore,
// sharing its connections (borrowed: it must outlive the service); InvalidArgument for any
// other store.
Result<std::unique_ptr<DeliveryService>> OpenRemoteDelivery(TableStore* remote_store);

}  // namespace tablelake::remote
