#include "common/text_scanner.h"

#include <gtest/gtest.h>

namespace tablelake {

TEST(TextScanner, ReadsFieldsOffTheFront) {
  TextScanner in("2026-11-24T08:00:00.5+08:00");
  int64_t year = 0;
  int month = 0;
  std::string_view fraction;
  char sign = 0;
  EXPECT_TRUE(in.Digits(4, &year));
  EXPECT_EQ(year, 2026);
  EXPECT_TRUE(in.Text("-"));
  EXPECT_TRUE(in.Digits(2, &month));
  EXPECT_EQ(month, 11);
  EXPECT_FALSE(in.Text("/"));
  EXPECT_TRUE(in.Text("-24"));
  EXPECT_TRUE(in.OneOf("Tt"));
  EXPECT_TRUE(in.DigitRun(1, 2));
  EXPECT_TRUE(in.Text(":00:00."));
  EXPECT_TRUE(in.DigitRun(1, 9, &fraction));
  EXPECT_EQ(fraction, "5");
  EXPECT_TRUE(in.OneOf("+-", &sign));
  EXPECT_EQ(sign, '+');
  EXPECT_EQ(in.rest(), "08:00");
  EXPECT_FALSE(in.done());
}

TEST(TextScanner, CountsAndWordsAreExact) {
  int n = 0;
  TextScanner short_digits("1a");
  EXPECT_FALSE(short_digits.Digits(2, &n));
  TextScanner run("1234567");
  EXPECT_TRUE(run.DigitRun(1, 6));  // takes six, leaves one
  EXPECT_EQ(run.rest(), "7");
  TextScanner none("x");
  EXPECT_FALSE(none.DigitRun(1));
  EXPECT_TRUE(none.DigitRun(0));

  std::string_view word;
  TextScanner month("Nov 26");
  EXPECT_TRUE(month.Capitalized(2, 2, &word));
  EXPECT_EQ(word, "Nov");
  TextScanner lower("nov");
  EXPECT_FALSE(lower.Capitalized(2, 2, &word));
  TextScanner day("Tuesday, 24");
  EXPECT_TRUE(day.Capitalized(4, std::string_view::npos, &word));
  EXPECT_EQ(word, "Tuesday");
  TextScanner too_short("Mo");
  EXPECT_FALSE(too_short.Capitalized(2, 2, &word));

  TextScanner zone("GMT");
  EXPECT_TRUE(zone.RestIsWord(&word));
  EXPECT_EQ(word, "GMT");
  EXPECT_TRUE(zone.done());
  TextScanner spaced("G\tMT");
  EXPECT_FALSE(spaced.RestIsWord(&word));
  TextScanner empty("");
  EXPECT_FALSE(empty.RestIsWord(&word));

  TextScanner padded(" \t-1.50\r\n");
  padded.TrimSpaces();
  EXPECT_EQ(padded.rest(), "-1.50");
  EXPECT_EQ(TextScanner::Value("0042"), 42);
}

}  // namespace tablelake
