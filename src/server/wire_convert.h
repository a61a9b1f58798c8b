// Between Tablestore's wire messages (proto/tablestore.proto, PlainBuffer rows) and the table
// store's C++ types. Every decoder says what is wrong with which field, as InvalidArgument.
#pragma once

#include <string>

#include "proto/tablestore.pb.h"
#include "tablelake/table_store.h"

namespace tablelake::server {

Result<TableMeta> FromWire(const wire::TableMeta& meta);
void ToWire(const TableMeta& meta, wire::TableMeta* out);
TableOptions FromWire(const wire::TableOptions& options, TableOptions base = {});
void ToWire(const TableOptions& options, wire::TableOptions* out);
StreamSpecification FromWire(const wire::StreamSpecification& stream);
void ToWire(const TableDescription& table, wire::StreamDetails* out);

// A serialized wire::Filter (a condition's column_condition, a read's filter).
Result<Filter> FilterFromWire(const std::string& bytes);
Result<Condition> FromWire(const wire::Condition& condition);
ReturnType FromWire(const wire::ReturnContent& content);
// A read's time_range and max_versions as the store takes them.
Result<std::optional<TimeRange>> FromWire(const wire::TimeRange& range);

// Request rows (PlainBuffer). `what` names the field in errors.
Result<PrimaryKey> KeyFromWire(const std::string& buffer, const char* what);
Result<PutRowRequest> PutFromWire(const std::string& table, const std::string& row);
Result<UpdateRowRequest> UpdateFromWire(const std::string& table, const std::string& row);
Result<DeleteRowRequest> DeleteFromWire(const std::string& table, const std::string& row);

// What a write gives back (return_content), as the reply's `row`; empty for RT_NONE.
std::string WriteResultRow(const WriteResult& result);

// Every read reply carries the capacity it consumed, which the SDKs require.
void SetConsumed(int read, int write, wire::ConsumedCapacity* out);

}  // namespace tablelake::server
