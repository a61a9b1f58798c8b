#include "tablelake/status.h"

#include <gtest/gtest.h>

namespace tablelake {
namespace {

TEST(Status, RetryableByCodeUnlessTheAdapterSays) {
  EXPECT_TRUE(Status::IOError("x").IsRetryable());
  EXPECT_TRUE(Status::Unavailable("503").IsRetryable());
  EXPECT_FALSE(Status::InvalidArgument("x").IsRetryable());
  Status full = Status::IOError("no space left on device").WithRetryable(false);
  EXPECT_FALSE(full.IsRetryable());
  EXPECT_FALSE(full.WithContext("task 't'").IsRetryable());  // context keeps the flag
  EXPECT_EQ(full.WithContext("task 't'").message(), "task 't': no space left on device");
  EXPECT_TRUE(Status::PermissionDenied("403").WithRetryable(true).IsRetryable());
  EXPECT_STREQ(Status::PermissionDenied("403").OtsErrorCode(), "OTSAuthFailed");
}

}  // namespace
}  // namespace tablelake
