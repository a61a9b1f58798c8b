#include "delivery/dirty_rows.h"

#include "delivery/object_names.h"
#include "store/row_json.h"

namespace tablelake::delivery {

constexpr size_t kDirtyFileBytes = 8 << 20;

Status DirtyRows::Add(const Row& row, const std::string& reason, int64_t time_ms) {
  if (!enabled_) return Status::OK();
  if (part_ == 0 && buffer_.empty())
    prefix_ = resolved_.dirty_prefix.Expand(time_ms, resolved_.zone);
  nlohmann::ordered_json line = {{"row", store::RowToJson(row)}, {"reason", reason}};
  buffer_ += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return buffer_.size() >= kDirtyFileBytes ? Flush() : Status::OK();
}

Status DirtyRows::Flush() {
  if (buffer_.empty()) return Status::OK();
  std::string key = JoinKey(prefix_, DirtyFileName(stem_, part_++));
  TL_RETURN_IF_ERROR(bucket_->PutObject(key, buffer_).WithContext(bucket_->Url(key)));
  buffer_.clear();
  return Status::OK();
}

}  // namespace tablelake::delivery
