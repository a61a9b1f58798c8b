#include "parquet/file_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace tablelake::parquet {
namespace {

std::string TempDir() {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() / ("tablelake-pq-" + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Passes writes through until `fail_after` bytes, then fails: an unwritable bucket or disk.
class FailingSink : public Sink {
 public:
  FailingSink(std::unique_ptr<Sink> inner, int64_t fail_after)
      : inner_(std::move(inner)), fail_after_(fail_after) {}
  Status Append(std::string_view data) override {
    if (inner_->Tell() + static_cast<int64_t>(data.size()) > fail_after_) {
      return Status::IOError("injected: disk full");
    }
    return inner_->Append(data);
  }
  Status Commit() override { return inner_->Commit(); }
  void Abort() override { inner_->Abort(); }
  int64_t Tell() const override { return inner_->Tell(); }

 private:
  std::unique_ptr<Sink> inner_;
  int64_t fail_after_;
};

std::vector<ColumnSpec> Schema() {
  return {{"id", ColumnType::kInt64, false}, {"name", ColumnType::kUtf8}};
}

std::vector<ColumnVector> Batch(size_t rows, size_t offset = 0) {
  auto schema = Schema();
  std::vector<ColumnVector> b = {ColumnVector(schema[0]), ColumnVector(schema[1])};
  for (size_t i = 0; i < rows; ++i) {
    b[0].AppendInt64(static_cast<int64_t>(offset + i));
    if (i % 5 == 0) {
      b[1].AppendNull();
    } else {
      b[1].AppendBytes("name-" + std::to_string(offset + i));
    }
  }
  return b;
}

class FileWriterTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = TempDir(); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::vector<std::string> Files() {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_))
      names.push_back(e.path().filename());
    return names;
  }
  std::string dir_;
};

TEST_F(FileWriterTest, WritesAFramedFileOnlyAtClose) {
  std::string path = dir_ + "/a.parquet";
  auto w = FileWriter::Open(Schema(), {}, std::move(NewFileSink(path)).value());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->WriteBatch(Batch(1000)).ok());
  EXPECT_FALSE(std::filesystem::exists(path));  // only a hidden temporary so far
  ASSERT_TRUE((*w)->Close().ok());
  ASSERT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(Files(), std::vector<std::string>{"a.parquet"});
  std::string bytes(std::filesystem::file_size(path), '\0');
  FILE* f = std::fopen(path.c_str(), "rb");
  ASSERT_EQ(std::fread(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
  EXPECT_EQ(bytes.substr(0, 4), "PAR1");
  EXPECT_EQ(bytes.substr(bytes.size() - 4), "PAR1");
  uint32_t footer;
  std::memcpy(&footer, bytes.data() + bytes.size() - 8, 4);
  EXPECT_GT(footer, 20u);
  EXPECT_LT(footer, bytes.size());
  EXPECT_EQ((*w)->rows_written(), 1000);
}

// A detached writer's row groups, placed into a file after rows of its own, make a file the
// same size as one writer would; a row group of another shape, or placed by the wrong writer,
// is refused.
TEST_F(FileWriterTest, DetachedRowGroupsAreAppendedWhole) {
  auto detached = std::move(FileWriter::OpenDetached(Schema(), {})).value();
  std::vector<EncodedRowGroup> groups;
  EXPECT_EQ(detached->Close().code(), StatusCode::kInternal);  // no file to commit
  detached = std::move(FileWriter::OpenDetached(Schema(), {})).value();
  ASSERT_TRUE(detached->TakeRowGroups(&groups).ok());
  EXPECT_TRUE(groups.empty());  // no rows, no row group
  ASSERT_TRUE(detached->WriteBatch(Batch(300)).ok());
  ASSERT_TRUE(detached->TakeRowGroups(&groups).ok());
  ASSERT_TRUE(detached->WriteBatch(Batch(200)).ok());
  ASSERT_TRUE(detached->TakeRowGroups(&groups).ok());
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].meta.num_rows, 300);
  EXPECT_EQ(groups[1].meta.file_offset, 0);  // offsets count from each group's first byte
  EXPECT_EQ(groups[1].meta.total_compressed_size, static_cast<int64_t>(groups[1].bytes.size()));
  std::string meta;
  EncodeRowGroupMetadata(groups[0].meta, &meta);
  std::string_view in = meta;
  RowGroupMetadata decoded;
  ASSERT_TRUE(DecodeRowGroupMetadata(&in, &decoded).ok());
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(decoded.columns.size(), groups[0].meta.columns.size());
  EXPECT_EQ(decoded.columns[0].min_value, groups[0].meta.columns[0].min_value);
  in = std::string_view(meta).substr(0, meta.size() - 3);
  EXPECT_EQ(DecodeRowGroupMetadata(&in, &decoded).code(), StatusCode::kCorruption);

  std::string out;
  auto w = std::move(FileWriter::Open(Schema(), {}, NewStringSink(&out))).value();
  ASSERT_TRUE(w->WriteBatch(Batch(100)).ok());
  for (const auto& g : groups) ASSERT_TRUE(w->AppendRowGroup(g.meta, g.bytes).ok());
  EXPECT_EQ(w->rows_written(), 600);
  EXPECT_EQ(w->AppendRowGroup(groups[0].meta, "short").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(out.substr(out.size() - 4), "PAR1");
  EXPECT_EQ(w->TakeRowGroups(&groups).code(), StatusCode::kInternal);  // not detached
}

TEST_F(FileWriterTest, FailedCloseLeavesNoFile) {
  std::string path = dir_ + "/b.parquet";
  // Enough room for the magic and the row group, not for the footer.
  std::string probe;
  {
    auto w = FileWriter::Open(Schema(), {}, NewStringSink(&probe));
    ASSERT_TRUE((*w)->WriteBatch(Batch(500)).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto sink = std::make_unique<FailingSink>(std::move(NewFileSink(path)).value(),
                                            static_cast<int64_t>(probe.size()) - 30);
  auto w = FileWriter::Open(Schema(), {}, std::move(sink));
  ASSERT_TRUE((*w)->WriteBatch(Batch(500)).ok());
  Status s = (*w)->Close();
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("disk full"), std::string::npos);
  EXPECT_TRUE(Files().empty()) << Files()[0];     // neither the file nor its temporary
  EXPECT_FALSE((*w)->WriteBatch(Batch(1)).ok());  // sticky
}

TEST_F(FileWriterTest, AbandonedWriterLeavesNoFile) {
  {
    auto w = FileWriter::Open(Schema(), {}, std::move(NewFileSink(dir_ + "/c.parquet")).value());
    ASSERT_TRUE((*w)->WriteBatch(Batch(100)).ok());
  }
  EXPECT_TRUE(Files().empty());
}

TEST_F(FileWriterTest, RequiredColumnRejectsNullsAndTheErrorSticks) {
  std::string out;
  auto w = FileWriter::Open(Schema(), {}, NewStringSink(&out));
  auto b = Batch(3);
  b[0] = ColumnVector(Schema()[0]);
  b[0].AppendInt64(1);
  b[0].AppendNull();
  b[0].AppendInt64(3);
  Status s = (*w)->WriteBatch(b);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'id' is REQUIRED"), std::string::npos) << s.message();
  EXPECT_FALSE((*w)->Close().ok());
  EXPECT_TRUE(out.empty());
}

TEST_F(FileWriterTest, RejectsMismatchedBatches) {
  std::string out;
  auto w = FileWriter::Open(Schema(), {}, NewStringSink(&out));
  auto b = Batch(3);
  b[1].AppendNull();  // 4 rows against 3
  EXPECT_FALSE((*w)->WriteBatch(b).ok());
  std::vector<ColumnVector> one = {ColumnVector(Schema()[0])};
  EXPECT_FALSE((*w)->WriteBatch(one).ok());
}

TEST_F(FileWriterTest, ValidatesTheSchema) {
  auto open = [](std::vector<ColumnSpec> schema) {
    std::string out;
    return FileWriter::Open(std::move(schema), {}, NewStringSink(&out)).status();
  };
  EXPECT_FALSE(open({}).ok());
  EXPECT_NE(open({{"a", ColumnType::kInt64}, {"a", ColumnType::kUtf8}}).message().find("twice"),
            std::string::npos);
  EXPECT_NE(open({{"a", ColumnType::kUtf8, true, Encoding::kDeltaBinaryPacked}})
                .message()
                .find("DELTA_BINARY_PACKED"),
            std::string::npos);
  EXPECT_FALSE(open({{"a", ColumnType::kBool, true, Encoding::kDictionary}}).ok());
  EXPECT_FALSE(open({{"a", ColumnType::kDecimal, true, Encoding::kPlain, 39, 0}}).ok());
  EXPECT_FALSE(open({{"a", ColumnType::kDecimal, true, Encoding::kPlain, 10, 11}}).ok());
  EXPECT_FALSE(open({{"a.b", ColumnType::kInt64}}).ok());
  EXPECT_TRUE(open({{"a", ColumnType::kDecimal, true, Encoding::kDeltaByteArray, 30, 2}}).ok());
}

TEST_F(FileWriterTest, MemoryStaysWithinARowGroup) {
  std::string out;
  WriterOptions o;
  o.row_group_bytes = 64 << 10;
  auto w = FileWriter::Open(Schema(), o, NewStringSink(&out));
  int64_t max_buffered = 0;
  int64_t sent = 0;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE((*w)->WriteBatch(Batch(2000, i * 2000)).ok());
    // bytes_written = sent to the sink + buffered; the sink is a string we cannot peek into,
    // so track the difference via a second measure: buffered never exceeds a group by much.
    int64_t total = (*w)->bytes_written();
    max_buffered = std::max(max_buffered, total - sent);
    sent = total;
  }
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_GT(out.size(), 1u << 20);  // 200k rows really were written
  EXPECT_LT(max_buffered, 3 * o.row_group_bytes);
}

TEST_F(FileWriterTest, RowAppenderBatchesRows) {
  std::string out;
  auto w = std::move(FileWriter::Open(Schema(), {}, NewStringSink(&out))).value();
  RowAppender rows(w.get(), 100);
  for (int i = 0; i < 250; ++i) {
    rows.column(0).AppendInt64(i);
    rows.column(1).AppendBytes("x");
    ASSERT_TRUE(rows.EndRow().ok());
  }
  EXPECT_EQ(w->rows_written(), 200);  // two full batches sent, 50 rows pending
  rows.column(0).AppendInt64(250);
  Status s = rows.EndRow();  // column 'name' got no value
  EXPECT_NE(s.message().find("'name'"), std::string::npos) << s.message();
}

TEST_F(FileWriterTest, RowAppenderCloses) {
  std::string out;
  auto w = std::move(FileWriter::Open(Schema(), {}, NewStringSink(&out))).value();
  RowAppender rows(w.get(), 100);
  for (int i = 0; i < 150; ++i) {
    rows.column(0).AppendInt64(i);
    rows.column(1).AppendNull();
    ASSERT_TRUE(rows.EndRow().ok());
  }
  ASSERT_TRUE(rows.Close().ok());
  EXPECT_EQ(w->rows_written(), 150);
  EXPECT_EQ(out.substr(out.size() - 4), "PAR1");
}

TEST(DecimalBytes, MinimalWidths) {
  EXPECT_EQ(DecimalBytes(1), 1);
  EXPECT_EQ(DecimalBytes(2), 1);
  EXPECT_EQ(DecimalBytes(3), 2);
  EXPECT_EQ(DecimalBytes(18), 8);
  EXPECT_EQ(DecimalBytes(19), 9);
  EXPECT_EQ(DecimalBytes(38), 16);
  EXPECT_EQ(DecimalToFixed(-1, 3), std::string("\xff\xff\xff", 3));
  EXPECT_EQ(DecimalToFixed(258, 2), std::string("\x01\x02", 2));
}

}  // namespace
}  // namespace tablelake::parquet
