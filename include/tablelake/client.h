// A client for a Tablestore endpoint - `tablelake serve`, or the cloud's - shaped like the
// official Go SDK (the seed's sample reads almost the same in C++): a TableStoreClient made
// from endpoint, instance, access key id and secret, and request/response types for tables,
// rows and delivery tasks. Requests are signed as the SDKs sign them (V2); errors carry
// Tablestore's codes (Status::OtsErrorCode, and the server's code in the message when it has
// none of its own); retryable failures (a dropped connection, 5xx, OTSServerBusy and the like)
// are retried with exponential backoff and jitter, as the SDKs do. Thread-safe: requests share
// a bounded pool of keep-alive connections.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tablelake/delivery.h"
#include "tablelake/status.h"
#include "tablelake/table_store.h"
#include "tablelake/types.h"

namespace tablelake::client {

struct ClientOptions {
  size_t max_connections = 16;         // requests beyond wait for one. Default: 16
  int max_retries = 3;                 // of a retryable failure. Default: 3
  int64_t retry_base_ms = 100;         // the first backoff; doubles, with jitter
  int64_t connect_timeout_ms = 10000;  // Default: 10 s
  int64_t request_timeout_ms = 30000;  // a stalled transfer is abandoned. Default: 30 s
};

// ---- delivery (the Go SDK's names) ----
constexpr DeliveryTaskType BaseTask = DeliveryTaskType::kBase;
constexpr DeliveryTaskType IncTask = DeliveryTaskType::kInc;
constexpr DeliveryTaskType BaseIncTask = DeliveryTaskType::kBaseInc;

// Parquet column types, numbered as the wire's ParquetSchema.DataType.
enum DataType {
  ParquetBool = 0,
  ParquetInt64 = 1,
  ParquetUtf8 = 2,
  ParquetDouble = 3,
  ParquetDate = 4,
  ParquetDecimal = 5,
  ParquetTimeMillis = 6,
  ParquetTimeMicros = 7,
  ParquetTimestampMillis = 8,
  ParquetTimestampMicros = 9,
  ParquetList = 10,
  ParquetMap = 11,
  ParquetInterval = 12,
  ParquetFloat = 13,
  ParquetInt32 = 14,
  ParquetInt96 = 15,
};
enum Encoding {
  Plain = 0,
  PlainDictionary = 1,
  DeltaBinaryPacked = 2,
  DeltaByteArray = 3,
  DeltaLengthByteArray = 4,
};

struct TaskSchema {
  std::string ColumnName;
  std::string OssColumnName;  // empty: ColumnName
  DataType Type = ParquetUtf8;
  Encoding Encode = Plain;
  std::string TypeExtend;  // DECIMAL "(p,s)"; LIST/MAP element type
};

struct EventColumn {
  std::string ColumnName;
  EventTimeFormat TimeFormat = EventTimeFormat::kRfc3339;
};

struct OSSTaskConfig {
  std::string OssPrefix;
  std::string OssBucket;
  std::string OssEndpoint;
  std::string OssRoleName;
  std::string OssDirtyPrefix;
  std::optional<EventColumn> EventTimeColumn;
  std::vector<TaskSchema> Schema;
  // Tablelake's; unset: the server's defaults (UTC, SNAPPY, 128 MiB, 60 s, off).
  std::string TimeZone;
  std::string Compression;
  int64_t FileBytes = 0;
  int32_t FlushIntervalSeconds = 0;
  bool ChangeLogColumns = false;
};

struct ResponseInfo {
  std::string RequestId;  // x-ots-requestid
};

struct CreateDeliveryTaskRequest {
  std::string TableName;
  std::string TaskName;
  DeliveryTaskType TaskType = BaseIncTask;
  OSSTaskConfig TaskConfig;
};
struct CreateDeliveryTaskResponse : ResponseInfo {};

struct UpdateDeliveryTaskRequest {
  std::string TableName;
  std::string TaskName;
  OSSTaskConfig TaskConfig;
};
struct UpdateDeliveryTaskResponse : ResponseInfo {};

struct DescribeDeliveryTaskRequest {
  std::string TableName;
  std::string TaskName;
};
struct TaskSyncStat {
  SyncPhase TaskSyncPhase = SyncPhase::kInit;
  int64_t CurrentSyncTimestamp = 0;  // nanoseconds since the epoch
  std::string ErrorCode;             // UNAUTHORIZED, INVALID_OSS_BUCKET, ... ("" when healthy)
  std::string Detail;
  // Tablelake's.
  int64_t RowsDelivered = 0;
  int64_t DirtyRows = 0;
  int64_t FilesWritten = 0;
  int64_t BytesWritten = 0;
  int64_t LagMs = 0;
};
struct DescribeDeliveryTaskResponse : ResponseInfo {
  OSSTaskConfig TaskConfig;
  struct TaskSyncStat TaskSyncStat;
  DeliveryTaskType TaskType = BaseTask;
};

struct ListDeliveryTaskRequest {
  std::string TableName;  // empty: every table's (Tablelake)
};
struct DeliveryTaskSummary {
  std::string TableName;
  std::string TaskName;
  DeliveryTaskType TaskType = BaseTask;
};
struct ListDeliveryTaskResponse : ResponseInfo {
  std::vector<DeliveryTaskSummary> Tasks;
};

struct DeleteDeliveryTaskRequest {
  std::string TableName;
  std::string TaskName;
};
struct DeleteDeliveryTaskResponse : ResponseInfo {};

// ---- tables and rows ----
struct CreateTableRequest {
  TableMeta Meta;
  TableOptions Options;
  StreamSpecification Stream;
};
struct PutRowRequest {
  std::string TableName;
  PrimaryKey Key;
  std::vector<Cell> Columns;  // kNoTimestamp: the server's time
  RowExistence Expect = RowExistence::kIgnore;
};
// Puts of rows of one table in one request (at most 200); each row succeeds or fails alone.
struct BatchWriteRowRequest {
  std::string TableName;
  std::vector<PutRowRequest> Rows;  // their TableName is ignored
};
struct BatchWriteRowResponse : ResponseInfo {
  std::vector<Status> Rows;  // in request order
};
struct UpdateRowRequest {
  std::string TableName;
  PrimaryKey Key;
  std::vector<ColumnUpdate> Updates;  // put, delete a version, delete a column, increment
  RowExistence Expect = RowExistence::kIgnore;
};
struct DeleteRowRequest {
  std::string TableName;
  PrimaryKey Key;
  RowExistence Expect = RowExistence::kIgnore;
};
struct GetRowRequest {
  std::string TableName;
  PrimaryKey Key;
  std::vector<std::string> Columns;  // empty: all
  int32_t MaxVersions = 1;
};
// Rows of one table by key in one request (at most 100); each found, missing or failed alone.
struct BatchGetRowRequest {
  std::string TableName;
  std::vector<PrimaryKey> Keys;
  std::vector<std::string> Columns;  // empty: all
  int32_t MaxVersions = 1;
};
struct BatchGetRowResponse : ResponseInfo {
  std::vector<Result<std::optional<Row>>> Rows;  // in request order
};
struct GetRangeRequest {
  std::string TableName;
  PrimaryKey Start;   // inclusive; INF_MIN/INF_MAX allowed
  PrimaryKey End;     // exclusive
  int32_t Limit = 0;  // 0: as many as one reply holds
  bool Backward = false;
  int32_t MaxVersions = 1;
};
struct GetRangeResponse : ResponseInfo {
  std::vector<Row> Rows;
  std::optional<PrimaryKey> NextStart;  // where the next page starts; none: the range is done
};

// ---- streams ----
struct StreamInfo {
  std::string StreamId;
  std::string TableName;
  int64_t CreationTime = 0;  // microseconds
};
struct DescribeStreamResponse : ResponseInfo {
  std::string StreamId;
  std::string TableName;
  int32_t ExpirationHours = 0;
  std::vector<std::string> ShardIds;
};
// One change as the stream gives it: what the write did, column by column.
struct StreamRecord {
  ChangeOp Type = ChangeOp::kPut;
  PrimaryKey Key;
  std::vector<ColumnUpdate> Columns;  // kPut (value, version), kDeleteOneVersion,
                                      // kDeleteAllVersions
};
struct GetStreamRecordResponse : ResponseInfo {
  std::vector<StreamRecord> Records;
  std::string NextShardIterator;  // where to read on from
};

class WireCaller;  // src/client/wire_caller.h

class TableStoreClient {
 public:
  // `endpoint`: http://HOST:PORT or https://HOST. The secret stays in memory, never logged.
  TableStoreClient(std::string endpoint, std::string instance, std::string access_key_id,
                   std::string access_key_secret, ClientOptions options = {});
  ~TableStoreClient();
  TableStoreClient(const TableStoreClient&) = delete;
  TableStoreClient& operator=(const TableStoreClient&) = delete;

  Result<CreateDeliveryTaskResponse> CreateDeliveryTask(const CreateDeliveryTaskRequest& r);
  Result<UpdateDeliveryTaskResponse> UpdateDeliveryTask(const UpdateDeliveryTaskRequest& r);
  Result<DescribeDeliveryTaskResponse> DescribeDeliveryTask(const DescribeDeliveryTaskRequest& r);
  Result<ListDeliveryTaskResponse> ListDeliveryTask(const ListDeliveryTaskRequest& r);
  Result<DeleteDeliveryTaskResponse> DeleteDeliveryTask(const DeleteDeliveryTaskRequest& r);

  Status CreateTable(const CreateTableRequest& r);
  Result<std::vector<std::string>> ListTable();
  Result<TableDescription> DescribeTable(const std::string& table);
  // Changes options and/or the stream; what is not given stays.
  Status UpdateTable(const std::string& table, const std::optional<TableOptions>& options,
                     const std::optional<StreamSpecification>& stream = std::nullopt);
  Status DeleteTable(const std::string& table);
  Status PutRow(const PutRowRequest& r);
  Status UpdateRow(const UpdateRowRequest& r);
  Status DeleteRow(const DeleteRowRequest& r);
  Result<BatchWriteRowResponse> BatchWriteRow(const BatchWriteRowRequest& r);
  Result<std::optional<Row>> GetRow(const GetRowRequest& r);
  Result<BatchGetRowResponse> BatchGetRow(const BatchGetRowRequest& r);
  Result<GetRangeResponse> GetRange(const GetRangeRequest& r);

  // `table` empty: every table's stream.
  Result<std::vector<StreamInfo>> ListStream(const std::string& table = "");
  Result<DescribeStreamResponse> DescribeStream(const std::string& stream_id);
  // From the oldest record kept, or from the first committed at or after `from_time_us`.
  Result<std::string> GetShardIterator(const std::string& stream_id, const std::string& shard_id,
                                       std::optional<int64_t> from_time_us = std::nullopt);
  Result<GetStreamRecordResponse> GetStreamRecord(const std::string& iterator, int32_t limit = 0);

 private:
  std::shared_ptr<WireCaller> impl_;
  std::unique_ptr<TableStore> tables_;  // tables over impl_ (src/client/remote_store.h)
};

}  // namespace tablelake::client
