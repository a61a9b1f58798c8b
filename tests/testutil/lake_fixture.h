// A fresh data folder and a folder bucket (`<root>/lake/bucket`) in a temporary directory, for
// delivery tests: the store, a delivery service over it, and a task config that points there.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "tablelake/delivery.h"

namespace tablelake::testing {

class LakeFixture : public ::testing::Test {
 protected:
  // Opens the store (with table t(id INTEGER)) and the service; `name` tells the folders apart.
  // One scan range unless `options` asks for more, so that file splits do not depend on the
  // machine's cores.
  void OpenLake(const std::string& name, DeliveryOptions options = {}) {
    if (options.scan_ranges == 0) options.scan_ranges = 1;
    root_ = std::filesystem::temp_directory_path() /
            ("tablelake-" + name + "-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(root_ / "lake" / "bucket");
    store_ = std::move(TableStore::Open((root_ / "data").string())).value();
    service_ = std::move(DeliveryService::Open(store_.get(), options)).value();
    ASSERT_TRUE(store_->CreateTable({"t", {{"id", PrimaryKeyType::kInteger}}, {}}).ok());
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    std::filesystem::remove_all(root_);
  }
  // A task delivering into the folder bucket under `prefix`.
  DeliveryTaskConfig FolderTask(const std::string& prefix) const {
    DeliveryTaskConfig c;
    c.oss_bucket = "bucket";
    c.oss_endpoint = "file://" + (root_ / "lake").string();
    c.oss_prefix = prefix;
    return c;
  }
  // A task of hourly partitions under `prefix`, by "ts" (Unix seconds), of columns id, ts, v.
  DeliveryTaskConfig HourlyFolderTask(const std::string& prefix) const {
    DeliveryTaskConfig c = FolderTask(prefix + "/$yyyy/$MM/$dd/$HH");
    c.event_time_column = "ts";
    c.event_time_format = EventTimeFormat::kUnix;
    c.schema = {{"id", "id", "INT64"}, {"ts", "ts", "INT64"}, {"v", "v", "UTF8"}};
    return c;
  }

  std::filesystem::path root_;
  std::unique_ptr<TableStore> store_;
  std::unique_ptr<DeliveryService> service_;
};

}  // namespace tablelake::testing
