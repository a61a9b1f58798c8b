// The delivery task samples: list a table's tasks, describe one (phase, sync time, counters,
// error), and delete one.
//
//   examples/delivery_tasks list sampleTable
//   examples/delivery_tasks describe sampleTable sampletask
//   examples/delivery_tasks delete sampleTable sampletask
// with TABLELAKE_ENDPOINT, TABLELAKE_INSTANCE, TABLELAKE_ACCESS_KEY_ID and
// TABLELAKE_ACCESS_KEY_SECRET in the environment (as for seed_sample).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tablelake/client.h"

namespace tablestore = tablelake::client;

namespace {

std::string Env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

int Fail(const tablelake::Status& s) {
  std::fprintf(stderr, "%s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string what = argc > 1 ? argv[1] : "", table = argc > 2 ? argv[2] : "";
  std::string task = argc > 3 ? argv[3] : "";
  if (table.empty() || (what != "list" && task.empty())) {
    std::fprintf(stderr,
                 "usage: delivery_tasks list TABLE | describe TABLE TASK | delete TABLE TASK\n");
    return 2;
  }
  tablestore::TableStoreClient client(
      Env("TABLELAKE_ENDPOINT", "http://127.0.0.1:8800"), Env("TABLELAKE_INSTANCE", "myinst"),
      Env("TABLELAKE_ACCESS_KEY_ID", "MYKEY"), Env("TABLELAKE_ACCESS_KEY_SECRET"));
  if (what == "list") {
    auto listed = client.ListDeliveryTask({table});
    if (!listed.ok()) return Fail(listed.status());
    for (const auto& t : listed->Tasks) {
      std::printf("%s %s %s\n", t.TableName.c_str(), t.TaskName.c_str(),
                  tablelake::DeliveryTaskTypeName(t.TaskType));
    }
    return 0;
  }
  if (what == "describe") {
    auto d = client.DescribeDeliveryTask({table, task});
    if (!d.ok()) return Fail(d.status());
    const auto& s = d->TaskSyncStat;
    std::printf("type=%s phase=%s current_sync_timestamp=%lld rows=%lld files=%lld error=%s %s\n",
                tablelake::DeliveryTaskTypeName(d->TaskType),
                tablelake::SyncPhaseName(s.TaskSyncPhase),
                static_cast<long long>(s.CurrentSyncTimestamp),
                static_cast<long long>(s.RowsDelivered), static_cast<long long>(s.FilesWritten),
                s.ErrorCode.empty() ? "none" : s.ErrorCode.c_str(), s.Detail.c_str());
    return 0;
  }
  if (what == "delete") {
    auto deleted = client.DeleteDeliveryTask({table, task});
    if (!deleted.ok()) return Fail(deleted.status());
    std::printf("delete delivery task success %s\n", deleted->RequestId.c_str());
    return 0;
  }
  std::fprintf(stderr, "unknown command '%s'\n", what.c_str());
  return 2;
}
