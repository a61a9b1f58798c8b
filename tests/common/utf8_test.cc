#include "common/utf8.h"

#include <gtest/gtest.h>

namespace tablelake {
namespace {

TEST(Utf8, ValidAndInvalidSequences) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xe5\x88\x97 \xc3\xa9 \xf0\x9f\x98\x80"));  // 列 é 😀
  EXPECT_FALSE(IsValidUtf8("\xe5"));                                   // cut short
  EXPECT_FALSE(IsValidUtf8("\xe5\x88"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("a\x80"));
}

}  // namespace
}  // namespace tablelake
