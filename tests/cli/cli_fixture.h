// The `tablelake` binary run as a user would: a fresh folder per test, commands with their
// standard input, output, error and exit code.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "nlohmann/json.hpp"

namespace tablelake::testing {

struct CmdResult {
  int exit_code;
  std::string out;
  std::string err;
  std::vector<nlohmann::json> Lines() const {
    std::vector<nlohmann::json> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }
};

inline std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("tablelake-cli-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `tablelake ARGS` in the test folder, feeding `input` on stdin. The environment's
  // TABLELAKE_DATA is dropped, or set to `data_env_` when that is not empty.
  CmdResult Tl(const std::vector<std::string>& args, const std::string& input = "") {
    std::string env = data_env_.empty() ? "env -u TABLELAKE_DATA "
                                        : "env TABLELAKE_DATA=" + Quote(data_env_) + " ";
    std::string cmd = "cd " + Quote(dir_.string()) + " && " + env + TABLELAKE_BIN;
    for (const auto& a : args) cmd += " " + Quote(a);
    std::ofstream(dir_ / "stdin") << input;
    cmd += " < stdin > stdout 2> stderr";
    int status = std::system(cmd.c_str());
    return {WEXITSTATUS(status), Slurp(dir_ / "stdout"), Slurp(dir_ / "stderr")};
  }
  void Ok(const std::vector<std::string>& args, const std::string& input = "") {
    CmdResult r = Tl(args, input);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void CreateSample() {
    Ok({"table", "create", "sampleTable", "--pk", "PK1:INTEGER", "--pk", "PK2:STRING",
        "--stream-hours", "24"});
  }
  // A failed command exits non-zero with exactly one line on stderr naming `expected`.
  void ExpectError(const CmdResult& r, const std::string& expected) {
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }

  std::filesystem::path dir_;
  std::string data_env_;
};

}  // namespace tablelake::testing
