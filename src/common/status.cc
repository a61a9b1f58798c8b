#include "tablelake/status.h"

namespace tablelake {

const char* Status::OtsErrorCode() const {
  switch (code_) {
    case StatusCode::kOk:
      return "";
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotSupported:
      return "OTSParameterInvalid";
    case StatusCode::kNotFound:
      return "OTSObjectNotExist";
    case StatusCode::kAlreadyExists:
      return "OTSObjectAlreadyExist";
    case StatusCode::kConditionFailed:
      return "OTSConditionCheckFail";
    case StatusCode::kInvalidPrimaryKey:
      return "OTSInvalidPK";
    case StatusCode::kQuotaExhausted:
      return "OTSQuotaExhausted";
    case StatusCode::kUnavailable:
      return "OTSServerUnavailable";
    case StatusCode::kPermissionDenied:
      return "OTSAuthFailed";
    case StatusCode::kTrimmedData:
      return "OTSTrimmedDataAccess";
    case StatusCode::kIOError:
    case StatusCode::kCorruption:
    case StatusCode::kInternal:
      return "OTSInternalServerError";
  }
  return "OTSInternalServerError";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(OtsErrorCode()) + ": " + message_;
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  Status s = *this;
  s.message_ = context + ": " + message_;
  return s;
}

}  // namespace tablelake
