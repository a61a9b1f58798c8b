// The seed's CreateTaskSample in C++: a BaseIncTask that delivers sampleTable's PK1, PK2 and
// Col1 into the bucket as Parquet under sample/year=$yyyy/month=$MM. The seed names its task
// "sampledeliverytask", 18 characters against its own 3-16 rule; this one is "sampletask".
//
//   examples/seed_sample, with in the environment: TABLELAKE_ENDPOINT (http://127.0.0.1:8800),
//   TABLELAKE_INSTANCE, TABLELAKE_ACCESS_KEY_ID, TABLELAKE_ACCESS_KEY_SECRET, OSS_BUCKET and
//   OSS_ENDPOINT (file:///path/to/lake, or an S3/OSS endpoint with OSS_ROLE_NAME).
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

void CreateTaskSample(tablestore::TableStoreClient& client) {
  tablestore::CreateDeliveryTaskRequest createTask;
  createTask.TableName = "sampleTable";
  createTask.TaskName = "sampletask";
  createTask.TaskType = tablestore::BaseIncTask;
  createTask.TaskConfig.OssPrefix = "sample/year=$yyyy/month=$MM";
  createTask.TaskConfig.OssBucket = Env("OSS_BUCKET", "datadeliverytest");
  createTask.TaskConfig.OssEndpoint = Env("OSS_ENDPOINT", "oss-cn-hangzhou.aliyuncs.com");
  createTask.TaskConfig.OssRoleName = Env("OSS_ROLE_NAME");
  createTask.TaskConfig.Schema = {
      {"PK1", "PK1", tablestore::ParquetInt64},
      {"PK2", "PK2", tablestore::ParquetUtf8},
      {"Col1", "Col1", tablestore::ParquetDouble},
  };
  auto createResp = client.CreateDeliveryTask(createTask);
  if (!createResp.ok()) {
    std::fprintf(stderr, "create delivery task failed %s\n",
                 createResp.status().ToString().c_str());
    std::exit(1);
  }
  std::printf("create delivery task success %s\n", createResp->RequestId.c_str());
}

}  // namespace

int main() {
  tablestore::TableStoreClient client(
      Env("TABLELAKE_ENDPOINT", "http://127.0.0.1:8800"), Env("TABLELAKE_INSTANCE", "myinst"),
      Env("TABLELAKE_ACCESS_KEY_ID", "MYKEY"), Env("TABLELAKE_ACCESS_KEY_SECRET"));
  CreateTaskSample(client);
  return 0;
}
