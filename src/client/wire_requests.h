// Requests in the store's own types (include/tablelake/table_store.h) as Tablestore wire
// messages, and replies back: the inverse of server/wire_convert.h, for clients.
#pragma once

#include <optional>
#include <string>

#include "proto/tablestore.pb.h"
#include "server/plain_buffer.h"
#include "tablelake/table_store.h"

namespace tablelake::remote {

// A serialized wire::Filter.
std::string FilterToWire(const Filter& filter);
void ToWire(const Condition& condition, wire::Condition* out);

void ToWire(const PutRowRequest& r, wire::PutRowRequest* out);
void ToWire(const UpdateRowRequest& r, wire::UpdateRowRequest* out);
void ToWire(const DeleteRowRequest& r, wire::DeleteRowRequest* out);
void ToWire(const BatchWriteItem& item, wire::RowInBatchWriteRowRequest* out);
void ToWire(const GetRowRequest& r, wire::GetRowRequest* out);
void ToWire(const GetRangeRequest& r, wire::GetRangeRequest* out);

// A write reply's `row` (return_content), as the store's WriteResult.
Result<WriteResult> WriteResultFromWire(const std::string& row);
// A read reply's `row`: none when empty.
Result<std::optional<Row>> RowFromWire(const std::string& bytes);
Result<GetRangeResult> FromWire(const wire::GetRangeResponse& reply);
// A stream record as the store gives it. The record's sequence info holds the store's
// sequence (its epoch the high half) and the commit time; the row after the write is not sent.
Result<ChangeRecord> ChangeFromWire(const std::string& table, const wire::StreamRecord& record);
// A read's options for one key of a BatchGetRow.
void ToWire(const GetRowRequest& r, wire::TableInBatchGetRowRequest* out);
// A row read back: its key and the cells that carry values.
Row RowOf(server::WireRow row);

}  // namespace tablelake::remote
