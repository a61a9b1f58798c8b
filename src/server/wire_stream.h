// Tablestore's stream operations (wire-protocol.md, section 2, "Streams") over the table store's
// change stream. A table whose stream is enabled has one stream (DescribeTable's stream_id) of
// one shard holding its change records in commit order. A shard iterator is an opaque position
// in that shard; it lives `iterator_lifetime_ms` from when it was handed out (every
// GetStreamRecord hands out the next one), after which it is refused with OTSTrimmedDataAccess,
// as is a position whose records the stream's retention has dropped.
#pragma once

#include <cstdint>

#include "proto/tablestore.pb.h"
#include "tablelake/options.h"
#include "tablelake/table_store.h"

namespace tablelake::server {

struct StreamContext {
  TableStore& store;
  Clock& clock;
  int64_t iterator_lifetime_ms;
};

Status ListStream(const StreamContext& c, const wire::ListStreamRequest& r,
                  wire::ListStreamResponse* out);
Status DescribeStream(const StreamContext& c, const wire::DescribeStreamRequest& r,
                      wire::DescribeStreamResponse* out);
Status GetShardIterator(const StreamContext& c, const wire::GetShardIteratorRequest& r,
                        wire::GetShardIteratorResponse* out);
Status GetStreamRecord(const StreamContext& c, const wire::GetStreamRecordRequest& r,
                       wire::GetStreamRecordResponse* out);

}  // namespace tablelake::server
