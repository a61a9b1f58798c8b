// Sorted runs: what is written reads back whole and in order, from the start or from any mark,
// records larger than the read buffer included; a run cut short is an error, not an end.
#include "store/sorted_run.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "fmt/format.h"
#include "store_fixture.h"

namespace tablelake::store {
namespace {

class SortedRunTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir(); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string KeyOf(size_t i) { return fmt::format("key{:08d}", i); }
  // Record i's value: mostly short, every 1000th larger than a read buffer.
  static std::string ValueOf(size_t i) {
    return std::string(i % 1000 == 7 ? (100 << 10) + i : i % 50, static_cast<char>('a' + i % 26));
  }
  std::vector<RunMark> Write(const std::string& path, size_t n) {
    auto writer = std::move(RunWriter::Create(path)).value();
    for (size_t i = 0; i < n; ++i) EXPECT_TRUE(writer->Add(KeyOf(i), ValueOf(i)).ok());
    EXPECT_TRUE(writer->Finish().ok());
    return writer->TakeMarks();
  }
  std::string dir_;
};

TEST_F(SortedRunTest, ReadsBackEveryRecordFromTheStartOrAMark) {
  const std::string path = dir_ + "/a.run";
  const size_t n = 3 * RunWriter::kMarkEvery + 5;
  auto marks = Write(path, n);
  ASSERT_EQ(marks.size(), 4u);
  for (size_t m = 0; m < marks.size(); ++m) {
    EXPECT_EQ(marks[m].key, KeyOf(m * RunWriter::kMarkEvery));
    auto reader = std::move(RunReader::Open(path, 64 << 10, marks[m].offset)).value();
    size_t i = m * RunWriter::kMarkEvery;
    for (; reader->Valid(); reader->Next(), ++i) {
      ASSERT_EQ(reader->key(), KeyOf(i));
      ASSERT_EQ(reader->value(), ValueOf(i));
    }
    EXPECT_TRUE(reader->status().ok()) << reader->status().ToString();
    EXPECT_EQ(i, n);
  }
  auto reader = std::move(RunReader::Open(path, 64 << 10, marks[1].offset)).value();
  reader->SkipBelow(KeyOf(5000));
  ASSERT_TRUE(reader->Valid());
  EXPECT_EQ(reader->key(), KeyOf(5000));
}

TEST_F(SortedRunTest, ARunCutShortIsAnError) {
  const std::string path = dir_ + "/cut.run";
  Write(path, 100);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  auto reader = std::move(RunReader::Open(path, 64 << 10)).value();
  size_t read = 0;
  for (; reader->Valid(); reader->Next()) ++read;
  EXPECT_EQ(read, 99u);
  EXPECT_EQ(reader->status().code(), StatusCode::kCorruption) << reader->status().ToString();
  EXPECT_NE(reader->status().message().find("cut.run"), std::string::npos);
}

}  // namespace
}  // namespace tablelake::store
