// Reading a bucket back with DuckDB (scripts/lake-query.mjs), for tests that check delivered
// Parquet with a reader nobody here wrote.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "nlohmann/json.hpp"

namespace tablelake::testing {

// The rows of one SQL statement run by DuckDB, as a JSON array (BIGINTs come back as strings:
// cast to INTEGER where a number is wanted).
inline nlohmann::json Query(const std::string& sql) {
  std::string cmd = std::string("node '") + TABLELAKE_SOURCE_DIR +
                    "/scripts/lake-query.mjs' --json \"" + sql + "\"";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (p && std::fgets(buf, sizeof(buf), p)) out += buf;
  EXPECT_EQ(pclose(p), 0) << out;
  return nlohmann::json::parse(out);
}

}  // namespace tablelake::testing
