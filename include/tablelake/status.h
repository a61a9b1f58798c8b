// Status and Result<T>: the error type at every module boundary. No exceptions cross a module.
//
// A Status carries a code and a message that names the offending thing (table, column, value).
// Codes map one-to-one onto Tablestore's error codes (OtsErrorCode) so the server can report
// them unchanged; IsRetryable() tells callers whether trying again can succeed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tablelake {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // OTSParameterInvalid
  kNotFound,           // OTSObjectNotExist
  kAlreadyExists,      // OTSObjectAlreadyExist
  kConditionFailed,    // OTSConditionCheckFail
  kInvalidPrimaryKey,  // OTSInvalidPK
  kQuotaExhausted,     // OTSQuotaExhausted
  kIOError,            // OTSInternalServerError, retryable
  kCorruption,         // OTSInternalServerError, not retryable
  kUnavailable,        // OTSServerUnavailable, retryable
  kNotSupported,       // OTSParameterInvalid ("not supported")
  kInternal,           // OTSInternalServerError
  kPermissionDenied,   // OTSAuthFailed: keys refused, access denied
  kTrimmedData,        // OTSTrimmedDataAccess: stream records gone, a stale shard iterator
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status ConditionFailed(std::string m) {
    return {StatusCode::kConditionFailed, std::move(m)};
  }
  static Status InvalidPrimaryKey(std::string m) {
    return {StatusCode::kInvalidPrimaryKey, std::move(m)};
  }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status TrimmedData(std::string m) { return {StatusCode::kTrimmedData, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status NotSupported(std::string m) { return {StatusCode::kNotSupported, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Whether trying again can succeed. The adapter that understands an error says so
  // (WithRetryable: a 503 is, a full disk is not); otherwise I/O errors and unavailability are.
  bool IsRetryable() const {
    if (retryable_ >= 0) return retryable_ == 1;
    return code_ == StatusCode::kIOError || code_ == StatusCode::kUnavailable;
  }
  Status WithRetryable(bool retryable) const {
    Status s = *this;
    s.retryable_ = retryable ? 1 : 0;
    return s;
  }

  // Tablestore's error code string, e.g. "OTSParameterInvalid"; empty for OK.
  const char* OtsErrorCode() const;
  // "OTSParameterInvalid: table 'x': ..." for logs and the CLI.
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context + ": "`.
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  int8_t retryable_ = -1;  // -1: by the code
  std::string message_;
};

// Holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace tablelake

#define TL_CONCAT_INNER(a, b) a##b
#define TL_CONCAT(a, b) TL_CONCAT_INNER(a, b)

#define TL_RETURN_IF_ERROR(expr)         \
  do {                                   \
    ::tablelake::Status _tl_st = (expr); \
    if (!_tl_st.ok()) return _tl_st;     \
  } while (0)

#define TL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

#define TL_ASSIGN_OR_RETURN(lhs, expr) \
  TL_ASSIGN_OR_RETURN_IMPL(TL_CONCAT(_tl_res_, __LINE__), lhs, expr)
