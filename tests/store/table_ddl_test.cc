#include "store_fixture.h"

namespace tablelake::testing {
namespace {

using TableDdlTest = StoreTest;

TEST_F(TableDdlTest, CreateDescribeListDrop) {
  TableMeta meta{
      "orders", {{"shop", PrimaryKeyType::kString}, {"id", PrimaryKeyType::kInteger, true}}, {}};
  TableOptions options;
  options.time_to_live = 86400 * 7;
  options.max_versions = 3;
  ASSERT_TRUE(store_->CreateTable(meta, options, {true, 48}).ok());
  auto d = store_->DescribeTable("orders");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->meta.primary_key.size(), 2u);
  EXPECT_TRUE(d->meta.primary_key[1].auto_increment);
  EXPECT_EQ(d->options.max_versions, 3);
  EXPECT_EQ(d->options.time_to_live, 86400 * 7);
  EXPECT_TRUE(d->stream.enabled);
  EXPECT_EQ(d->stream.expiration_hours, 48);
  EXPECT_FALSE(d->stream_id.empty());

  Reopen();  // the catalog is durable
  auto names = store_->ListTable();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"orders"});
  EXPECT_EQ(store_->DescribeTable("orders")->options.max_versions, 3);

  ASSERT_TRUE(store_->DeleteTable("orders").ok());
  EXPECT_EQ(store_->DescribeTable("orders").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteTable("orders").code(), StatusCode::kNotFound);
}

TEST_F(TableDdlTest, RejectsBadDefinitions) {
  auto create = [&](TableMeta meta, TableOptions o = {}, StreamSpecification s = {}) {
    return store_->CreateTable(meta, o, s);
  };
  EXPECT_EQ(create({"9bad", {{"a", PrimaryKeyType::kInteger}}, {}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(create({"t-x", {{"a", PrimaryKeyType::kInteger}}, {}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(create({"t", {}, {}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(create({"t",
                    {{"a", PrimaryKeyType::kInteger},
                     {"b", PrimaryKeyType::kInteger},
                     {"c", PrimaryKeyType::kInteger},
                     {"d", PrimaryKeyType::kInteger},
                     {"e", PrimaryKeyType::kInteger}},
                    {}})
                .code(),
            StatusCode::kInvalidArgument);
  Status dup = create({"t", {{"a", PrimaryKeyType::kInteger}, {"a", PrimaryKeyType::kString}}, {}});
  EXPECT_NE(dup.message().find("duplicated primary key name: 'a'"), std::string::npos);
  // AUTO_INCREMENT never on the partition key, only on INTEGER, at most once.
  EXPECT_FALSE(create({"t", {{"a", PrimaryKeyType::kInteger, true}}, {}}).ok());
  EXPECT_FALSE(
      create({"t", {{"a", PrimaryKeyType::kInteger}, {"b", PrimaryKeyType::kString, true}}, {}})
          .ok());
  EXPECT_FALSE(create({"t",
                       {{"a", PrimaryKeyType::kInteger},
                        {"b", PrimaryKeyType::kInteger, true},
                        {"c", PrimaryKeyType::kInteger, true}},
                       {}})
                   .ok());
  TableOptions bad_ttl;
  bad_ttl.time_to_live = 10;
  EXPECT_FALSE(create({"t", {{"a", PrimaryKeyType::kInteger}}, {}}, bad_ttl).ok());
  TableOptions bad_versions;
  bad_versions.max_versions = 0;
  EXPECT_FALSE(create({"t", {{"a", PrimaryKeyType::kInteger}}, {}}, bad_versions).ok());
  EXPECT_FALSE(create({"t", {{"a", PrimaryKeyType::kInteger}}, {}}, {}, {true, 0}).ok());
  EXPECT_TRUE(store_->ListTable()->empty());  // nothing was created
}

TEST_F(TableDdlTest, DuplicateNameIsAlreadyExists) {
  CreateSample();
  TableMeta meta{"sampleTable", {{"x", PrimaryKeyType::kInteger}}, {}};
  Status s = store_->CreateTable(meta);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_STREQ(s.OtsErrorCode(), "OTSObjectAlreadyExist");
  EXPECT_NE(s.message().find("sampleTable"), std::string::npos);
}

TEST_F(TableDdlTest, DropRemovesDataAndNameCanBeReused) {
  CreateSample();
  ASSERT_TRUE(Put(Key(1, "a"), {{"c", Value::Integer(1)}}).ok());
  ASSERT_TRUE(store_->DeleteTable("sampleTable").ok());
  CreateSample();
  EXPECT_FALSE(Get(Key(1, "a")).has_value());
  auto stream = store_->ReadStream("sampleTable", 0);
  ASSERT_TRUE(stream.ok());
  EXPECT_TRUE(stream->records.empty());
}

TEST_F(TableDdlTest, UpdateTableChangesOptionsAndStream) {
  CreateSample("sampleTable", {}, {});
  EXPECT_FALSE(store_->ReadStream("sampleTable", 0).ok());  // no stream yet
  TableOptions o;
  o.max_versions = 5;
  ASSERT_TRUE(store_->UpdateTable("sampleTable", o, StreamSpecification{true, 12}).ok());
  auto d = store_->DescribeTable("sampleTable");
  EXPECT_EQ(d->options.max_versions, 5);
  EXPECT_TRUE(d->stream.enabled);
  EXPECT_EQ(d->stream.expiration_hours, 12);
  ASSERT_TRUE(Put(Key(1, "a"), {{"c", Value::Integer(1)}}).ok());
  EXPECT_EQ(store_->ReadStream("sampleTable", 0)->records.size(), 1u);
  ASSERT_TRUE(
      store_->UpdateTable("sampleTable", std::nullopt, StreamSpecification{false, 12}).ok());
  EXPECT_FALSE(store_->ReadStream("sampleTable", 0).ok());
  EXPECT_EQ(store_->UpdateTable("nope", o, std::nullopt).code(), StatusCode::kNotFound);
}

TEST_F(TableDdlTest, MetadataSpace) {
  ASSERT_TRUE(store_->PutMetadata("delivery/t/a", "1").ok());
  ASSERT_TRUE(store_->PutMetadata("delivery/t/b", "2").ok());
  ASSERT_TRUE(store_->PutMetadata("other", "3").ok());
  Reopen();
  EXPECT_EQ(**store_->GetMetadata("delivery/t/a"), "1");
  EXPECT_FALSE(store_->GetMetadata("missing")->has_value());
  auto list = store_->ListMetadata("delivery/");
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].first, "delivery/t/b");
  ASSERT_TRUE(store_->DeleteMetadata("delivery/t/a").ok());
  EXPECT_EQ(store_->ListMetadata("delivery/")->size(), 1u);
  EXPECT_TRUE(store_->ListTable()->empty());  // not confused with tables
}

TEST_F(TableDdlTest, TableQuota) {
  StoreOptions options;
  options.clock = clock_;
  options.max_tables = 2;
  store_.reset();
  auto s = TableStore::Open(dir_, options);
  ASSERT_TRUE(s.ok());
  store_ = std::move(s).value();
  CreateSample("t1");
  CreateSample("t2");
  TableMeta meta{"t3", {{"a", PrimaryKeyType::kInteger}}, {}};
  EXPECT_EQ(store_->CreateTable(meta).code(), StatusCode::kQuotaExhausted);
}

}  // namespace
}  // namespace tablelake::testing
