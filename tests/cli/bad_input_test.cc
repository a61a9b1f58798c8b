// Issue 8's list of crashes, partial writes, wrong numbers and misleading messages, run through
// the built binary: each case checks the exit code, the one-line message, and that nothing was
// written.
#include <algorithm>
#include <csignal>
#include <map>
#include <thread>

#include "cli_fixture.h"
#include "store/folder.h"

namespace tablelake::testing {
namespace {

struct BadCase {
  std::vector<std::string> args;
  std::string input;
  std::string message;  // a part of the one error line
};

std::string Lines(int n, const std::function<std::string(int)>& line) {
  std::string s;
  for (int i = 0; i < n; ++i) s += line(i) + "\n";
  return s;
}

class BadInputTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    Ok({"--data", "d", "table", "create", "p", "--pk", "k:STRING"});
    Ok({"--data", "d", "table", "create", "n", "--pk", "id:INTEGER", "--stream-hours", "24"});
    Ok({"--data", "d", "table", "create", "ai", "--pk", "p:STRING", "--pk",
        "id:INTEGER:AUTO_INCREMENT"});
    Ok({"--data", "d", "put", "n"},
       Lines(3, [](int i) { return "{\"id\":" + std::to_string(i) + "}"; }));
  }
  size_t Count(const std::string& table) {
    CmdResult r = Tl({"--data", "d", "range", table});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.Lines().size();
  }
  void ExpectAllRefused(const std::vector<BadCase>& cases) {
    for (const auto& c : cases) {
      std::vector<std::string> args = {"--data", "d"};
      args.insert(args.end(), c.args.begin(), c.args.end());
      CmdResult r = Tl(args, c.input);
      std::string what =
          c.args.empty() ? "" : c.args[0] + " " + (c.args.size() > 1 ? c.args[1] : "");
      SCOPED_TRACE(what);
      ExpectError(r, c.message);
      EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;
    }
    EXPECT_EQ(Count("p"), 0u);
    EXPECT_EQ(Count("n"), 3u);
    EXPECT_EQ(Count("ai"), 0u);
  }
};

// Items 1, 3, 5: loads are whole or nothing, whatever rule a line breaks.
TEST_F(BadInputTest, LoadsWriteNothingWhenAnyLineIsBad) {
  auto key = [](int bad_at, int n) {
    return Lines(n, [=](int i) {
      return "{\"k\":\"" + (i == bad_at ? std::string(2000, 'x') : "k" + std::to_string(i)) + "\"}";
    });
  };
  auto version = [](int bad_at, int n) {
    return Lines(n, [=](int i) {
      std::string v = i == bad_at ? "{\"$value\":1,\"$ts\":1000}" : std::to_string(i);
      return "{\"k\":\"k" + std::to_string(i) + "\",\"v\":" + v + "}";
    });
  };
  std::string csv = "k,v\na,1\nb,2\n" + std::string(2000, 'y') + ",3\n";
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "bad.csv") << csv;
  std::ofstream(dir_ / "bad.jsonl") << key(999, 1000);
  ExpectAllRefused({
      {{"put", "p"}, key(5, 10), "stdin line 6: "},
      {{"put", "p"}, key(500, 1000), "stdin line 501: "},
      {{"put", "p"}, version(500, 1000), "stdin line 501: "},
      {{"import", "p", "-", "--format", "jsonl"}, key(5, 10), "stdin line 6"},
      {{"import", "p", "bad.csv", "--format", "csv"}, "", "bad.csv line 4"},
      {{"import", "p", "bad.jsonl", "--format", "jsonl"}, "", "bad.jsonl line 1000"},
      {{"put", "ai"}, "{\"p\":\"a\"}\n{\"p\":\"b\"}\n{\"p\":\"c\",\"x\":null}\n", "stdin line 3"},
      {{"put", "p", ""}, "{\"k\":\"from stdin\"}\n", "row argument is empty"},
      {{"put", "p", "  "}, "", "row argument is empty"},
  });
  // The whole message names one line, and says nothing was written.
  CmdResult r = Tl({"--data", "d", "put", "p"}, key(500, 1000));
  EXPECT_NE(r.err.find("nothing was written"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("line 601"), std::string::npos) << r.err;
  // A load fixed and run again writes each row once (AUTO_INCREMENT tables included).
  Ok({"--data", "d", "put", "ai"}, "{\"p\":\"a\"}\n{\"p\":\"b\"}\n{\"p\":\"c\"}\n");
  EXPECT_EQ(Count("ai"), 3u);
  // `import -` reads standard input (it crashed before).
  Ok({"--data", "d", "import", "p", "-", "--format", "jsonl"}, "{\"k\":\"a\"}\n{\"k\":\"b\"}\n");
  Ok({"--data", "d", "import", "p", "-", "--format", "jsonl"}, "");
  EXPECT_EQ(Count("p"), 2u);
}

// Items 13 and 14: options and input that used to be taken silently or wrongly.
TEST_F(BadInputTest, OptionsAndValuesAreCheckedWithClearMessages) {
  std::ofstream(dir_ / "dup.csv") << "k,v,v\na,1,2\n";
  std::ofstream(dir_ / "bad.csv") << "k,v\na,\"1\" x\n";
  std::ofstream(dir_ / "unnamed.csv") << "k,,v\na,1,2\n";
  std::ofstream(dir_ / "digit.csv") << "k,1v\na,1\n";
  std::ofstream(dir_ / "latin1.csv") << "k,v\na,1\nb,caf\xe9\n";  // a spreadsheet's Latin-1
  std::ofstream(dir_ / "header-only.csv") << "\r\n\nk,,v\n";      // blank lines, then the header
  std::ofstream(dir_ / "semicolons.csv") << "k;v\na;1\n";         // a spreadsheet's other export
  std::string long_name(100000, 'c');
  ExpectAllRefused({
      {{"range", "n", "--limit", "0"}, "", "--limit takes at least 1"},
      {{"range", "n", "--limit", "-1"}, "", "--limit takes at least 1"},
      {{"stream", "read", "n", "--from", "-1"}, "", "--from takes a sequence >= 0"},
      {{"stream", "read", "n", "--limit", "0"}, "", "--limit takes at least 1"},
      {{"table", "create", "z", "--pk", "id:INTEGER", "--stream-hours", "0"}, "", "1 to 168"},
      {{"range", "n", "--if", "id >= 100"}, "", "'id' is a primary key column"},
      {{"range", "n", "--columns", ",,", "--limit", "2"}, "", "--columns: column name ''"},
      {{"import", "p", "dup.csv", "--format", "csv"}, "", "names column 'v' twice"},
      // The header's fault is told at the header, not at the first row.
      {{"import", "p", "unnamed.csv", "--format", "csv"}, "", "line 1: header column 2: name ''"},
      {{"import", "p", "digit.csv", "--format", "csv"}, "", "line 1: header column 2: name '1v'"},
      {{"import", "p", "latin1.csv", "--format", "csv"},
       "",
       "line 3: table 'p': column 'v' is a STRING, but its value is not valid UTF-8"},
      {{"import", "p", "header-only.csv", "--format", "csv"}, "", "line 3: header column 2"},
      {{"import", "p", "semicolons.csv", "--format", "csv"},
       "",
       "the header is one field: fields are separated by ',', not ';'"},
      {{"put", "p", R"({"k":"a","v":1,"v":2})"}, "", "the key 'v' appears twice"},
      {{"put", "p", R"({"k":"a","v":[1,2]})"}, "", "an array holds versions"},
      {{"put", "p"}, "{\"k\":\"a\",\"v\":\"\xff\"}\n", "ill-formed UTF-8"},
      {{"put", "p", "{\"k\":\"a\",\"v\\u0000x\":1}"}, "", "'v\\x00x' is invalid"},
      {{"put", "p", "{\"k\":\"a\",\"" + long_name + "\":1}"}, "", "...(100000 bytes)"},
      {{"put", "p", R"({"k":"a","v":1e400})"}, "", "number overflow"},
      {{"put", "p", R"({"k":"a","v":99999999999999999999})"}, "", "beyond INTEGER's range"},
      {{"put", "n", R"({"id":99999999999999999999})"}, "", "beyond INTEGER's range"},
      {{"put", "n", R"({"id":9223372036854775808})"}, "", "overflows int64"},
      {{"get", "p", R"({"k":"a"})", "--columns", "a b"}, "", "column name 'a b'"},
  });
  EXPECT_EQ(Tl({"--data", "d", "table", "describe", "z"}).exit_code, 1);  // not created
  CmdResult long_error = Tl({"--data", "d", "put", "p", "{\"k\":\"a\",\"" + long_name + "\":1}"});
  EXPECT_LT(long_error.err.size(), 400u);
  // Multi-value options take one value each, never the table name after them.
  CmdResult columns = Tl({"--data", "d", "range", "--columns", "id", "n"});
  EXPECT_EQ(columns.exit_code, 0) << columns.err;
  EXPECT_EQ(columns.Lines().size(), 3u);
  // A spreadsheet's CSV starts with a byte-order mark.
  std::ofstream(dir_ / "bom.csv") << "\xEF\xBB\xBFk,v\na,1\n";
  Ok({"--data", "d", "import", "p", "bom.csv", "--format", "CSV"});
  EXPECT_EQ(Tl({"--data", "d", "get", "p", R"({"k":"a"})"}).out, "{\"k\":\"a\",\"v\":1}\n");
}

// serve's command line: each mistake is one line naming it, before anything listens.
TEST_F(BadInputTest, ServeOptionsAreChecked) {
  std::ofstream(dir_ / "bad.json") << "[1]";
  std::ofstream(dir_ / "nokey.json") << R"({"keys": [{"access_key_id": "K"}]})";
  std::ofstream(dir_ / "twice.json") << R"({"instances": [{"name": "i", "data": "e"}]})";
  ExpectAllRefused({
      {{"serve", "--access-key-id", "K"}, "", "--instance is required"},
      {{"serve", "--instance", "i", "--access-key-id", "K"}, "", "no secret for access key 'K'"},
      {{"serve", "--instance", "i"}, "", "give --access-key-id"},
      {{"serve", "--instance", "i", "--access-key-id", "K", "--listen", "nonsense"},
       "s\n",
       "--listen takes HOST:PORT"},
      {{"serve", "--instance", "i", "--access-key-id", "K", "--listen", "127.0.0.1:70000"},
       "s\n",
       "'70000' is not a port"},
      {{"serve", "--instance", "i", "--access-key-id", "K", "--config", "bad.json"},
       "s\n",
       "is not a JSON object"},
      {{"serve", "--instance", "i", "--config", "nokey.json"},
       "",
       "needs access_key_id and a secret"},
      {{"serve", "--instance", "i", "--access-key-id", "K", "--config", "twice.json"},
       "s\n",
       "instance 'i' or its folder"},
      {{"serve", "--instance", "i", "--access-key-id", "K", "--listen", "256.0.0.1:1"},
       "s\n",
       "listen address '256.0.0.1'"},
      {{"serve", "--instance", "i", "--access-key-id", "K", "--memory-mb", "16"},
       "s\n",
       "--memory-mb: Value 16 not in range 32"},
  });
}

// Items 11, 12, 16: the data folder, the log files, the command line itself.
TEST_F(BadInputTest, FoldersLogsAndTheCommandLine) {
  CmdResult typo = Tl({"--data", "dd", "table", "list"});
  ExpectError(typo, "data folder 'dd' does not exist");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "dd"));
  EXPECT_EQ(typo.err.find("OTS"), std::string::npos) << typo.err;  // a local mistake
  ExpectError(Tl({"--data", "d", "put", "p", R"({"k":"a"})", "--expect", "exist"}),
              "OTSConditionCheckFail");  // a request error keeps Tablestore's code
  std::filesystem::create_directories(dir_ / "empty");
  ExpectError(Tl({"--data", "empty", "table", "list"}), "not a Tablelake data folder");
  data_env_ = "d";
  EXPECT_EQ(Tl({"table", "list"}).out, "ai\nn\np\n");
  data_env_.clear();
  for (int i = 0; i < 20; ++i)
    Ok({"--data", "d", "put", "n", "{\"id\":" + std::to_string(i) + "}"});
  int logs = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_ / "d")) {
    logs += e.path().filename().string().rfind("LOG", 0) == 0;
  }
  EXPECT_LE(logs, 2);  // LOG and LOG.old, not one file per command
  CmdResult unknown = Tl({"foo"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown command 'foo'"), std::string::npos) << unknown.err;
  CmdResult help = Tl({"help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Usage: tablelake"), std::string::npos) << help.out;
  CmdResult version = Tl({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("tablelake 0."), std::string::npos) << version.out;
  // Values compare without case.
  Ok({"--data", "d", "table", "create", "lower", "--pk", "id:integer"});
  Ok({"--data", "d", "put", "lower", R"({"id":1})", "--expect", "IGNORE"});
}

// Item 10: while one process holds the folder, writers are told who, and readers read.
TEST_F(BadInputTest, AFolderInUseNamesTheProcessAndStillServesReads) {
  // A task to run, so that `delivery run` keeps delivering (and holding the folder) until
  // interrupted.
  std::filesystem::create_directories(dir_ / "lake" / "b");
  Ok({"--data", "d", "delivery", "create", "--table", "n", "--name", "keep", "--type", "inc",
      "--bucket", "b", "--oss-endpoint", "file://" + (dir_ / "lake").string(), "--schema",
      "id:id:INT64"});
  std::string cmd = "cd " + Quote(dir_.string()) + " && exec " + TABLELAKE_BIN +
                    " --data d delivery run > run.out 2> run.err & echo $!";
  FILE* p = popen(cmd.c_str(), "r");
  int pid = 0;
  ASSERT_EQ(std::fscanf(p, "%d", &pid), 1);
  pclose(p);
  // Until the runner holds the folder: asked of its lock, since a probing write could take the
  // folder just as the runner starts and make it give up.
  for (int i = 0; i < 1200 && !store::FolderInUse((dir_ / "d").string()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CmdResult put = Tl({"--data", "d", "put", "n", R"({"id":7})"});
  const size_t rows = 3;
  ExpectError(put, "is in use by another process (pid " + std::to_string(pid) + ": tablelake");
  EXPECT_NE(put.err.find("reading commands"), std::string::npos);
  // A runner that keeps going: writing meanwhile is what `serve` is for.
  EXPECT_NE(put.err.find("run them in `tablelake serve` instead"), std::string::npos) << put.err;
  EXPECT_EQ(put.err.find("LOCK"), std::string::npos) << put.err;
  EXPECT_EQ(Tl({"--data", "d", "table", "list"}).out, "ai\nn\np\n");
  EXPECT_EQ(Count("n"), rows);
  EXPECT_EQ(Tl({"--data", "d", "delivery", "list"}).exit_code, 0);
  kill(pid, SIGINT);
  for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Ok({"--data", "d", "put", "n", R"({"id":7})"});
}

// Items 4, 6, 9, 15 and the extras: delivery through the CLI.
TEST_F(BadInputTest, DeliveryChecksSummariesAndDroppedTables) {
  std::string lake = (dir_ / "lake").string();
  std::filesystem::create_directories(lake + "/b");
  std::string endpoint = "file://" + lake;
  // A BaseTask of table n; `more` replaces or adds options.
  auto create = [&](const std::string& name, std::map<std::string, std::string> more) {
    std::map<std::string, std::string> options = {
        {"--bucket", "b"}, {"--oss-endpoint", endpoint}, {"--schema", "id:id:INT64"}};
    for (const auto& [k, v] : more) options[k] = v;
    if (options.count("--config")) options.erase("--bucket");
    std::vector<std::string> args = {"--data", "d",      "delivery", "create", "--table",
                                     "n",      "--name", name,       "--type", "base"};
    for (const auto& [k, v] : options) {
      args.push_back(k);
      args.push_back(v);
    }
    return Tl(args);
  };
  std::ofstream(dir_ / "typed.json") << R"({"oss_bucket":"b","file_bytes":"big"})";
  ExpectError(create("ep1", {{"--oss-endpoint", "/tmp/lake"}}),
              "a local folder is file:///tmp/lake");
  ExpectError(create("ep2", {{"--oss-endpoint", "file://lake"}}), "needs an absolute path");
  ExpectError(create("ep3", {{"--bucket", "../.."}}), "bucket name '../..' is invalid");
  ExpectError(create("ep4", {{"--oss-endpoint", "ftp://x"}}), "not one of file:///ABS/DIR");
  ExpectError(create("ep5", {{"--config", "typed.json"}}), "field 'file_bytes' must be an integer");
  ExpectError(create("ep6", {{"--schema", "id:year:INT64"}, {"--prefix", "year=$yyyy"}}),
              "partition key 'year='");
  CmdResult twice = create("ep7", {{"--schema", "id:id:DECIMAL(50,2)"}});
  ExpectError(twice, "precision");
  EXPECT_EQ(twice.err.find("column 'id': column 'id'"), std::string::npos) << twice.err;
  EXPECT_EQ(Tl({"--data", "d", "delivery", "list", "--json"}).out, "");  // nothing created
  CmdResult missing = create("later", {{"--bucket", "nob"}});
  EXPECT_EQ(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("warning: the bucket folder"), std::string::npos) << missing.err;

  // A memory budget too small (or negative, or 0) is refused before any task runs.
  for (const char* mb : {"8", "-5", "0"}) {
    ExpectError(Tl({"--data", "d", "delivery", "run", "--once", "--memory-mb", mb}),
                "--memory-mb: Value " + std::string(mb) + " not in range 32");
  }

  // Two broken tasks: the run names both.
  ASSERT_EQ(create("later2", {{"--bucket", "nob2"}}).exit_code, 0);
  CmdResult both = Tl({"--data", "d", "delivery", "run", "--once"});
  EXPECT_NE(both.exit_code, 0);
  EXPECT_NE(both.err.find("2 of 2 tasks failed"), std::string::npos) << both.err;
  EXPECT_NE(both.err.find("'nob'"), std::string::npos) << both.err;
  EXPECT_NE(both.err.find("'nob2'"), std::string::npos) << both.err;
  Ok({"--data", "d", "delivery", "delete", "--table", "n", "--name", "later"});
  Ok({"--data", "d", "delivery", "delete", "--table", "n", "--name", "later2"});

  // Summaries: delivered, dirty and where they went, time; INTEGER into DOUBLE is delivered.
  Ok({"--data", "d", "put", "n"}, "{\"id\":10,\"v\":5}\n{\"id\":11,\"v\":\"x\"}\n");
  ASSERT_EQ(create("sum", {{"--schema", "id:id:INT64,v:v:DOUBLE"}, {"--prefix", "sum"}}).exit_code,
            0);
  CmdResult run = Tl({"--data", "d", "delivery", "run", "--once"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("delivered 4 rows in 1 file "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("1 dirty row dropped (set --dirty-prefix to keep them)"),
            std::string::npos)
      << run.err;
  CmdResult files =
      Tl({"--data", "d", "delivery", "files", "--table", "n", "--name", "sum", "--json"});
  ASSERT_EQ(files.Lines().size(), 1u) << files.out;
  EXPECT_EQ(files.Lines()[0]["rows"], 4);
  CmdResult list = Tl({"--data", "d", "delivery", "list"});
  EXPECT_NE(list.out.find("FINISHED"), std::string::npos) << list.out;

  // An IncTask's first batch reports a lag of seconds, not the age of the epoch.
  Ok({"--data", "d", "delivery", "create", "--table", "n", "--name", "inc", "--type", "inc",
      "--bucket", "b", "--oss-endpoint", endpoint, "--schema", "id:id:INT64", "--prefix", "inc"});
  Ok({"--data", "d", "put", "n", R"({"id":20})"});
  Ok({"--data", "d", "delete", "n", R"({"id":0})"});
  run = Tl({"--data", "d", "delivery", "run", "--once", "--table", "n", "--name", "inc"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("lag 0."), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("1 delete skipped"), std::string::npos) << run.err;

  // Item 4: dropping the table deletes its tasks; a new table of that name starts clean.
  CmdResult drop = Tl({"--data", "d", "table", "drop", "n"});
  ASSERT_EQ(drop.exit_code, 0) << drop.err;
  EXPECT_NE(drop.err.find("delivery task(s) inc, sum"), std::string::npos) << drop.err;
  Ok({"--data", "d", "table", "create", "n", "--pk", "id:INTEGER"});
  Ok({"--data", "d", "put", "n", R"({"id":10})"});
  EXPECT_EQ(Tl({"--data", "d", "delivery", "list", "--json", "--table", "n"}).out, "");
  ExpectError(Tl({"--data", "d", "delivery", "describe", "--table", "n", "--name", "inc"}),
              "has no delivery task 'inc'");
}

}  // namespace
}  // namespace tablelake::testing

namespace tablelake::testing {
namespace {

// `n` JSON lines of table t(k STRING): keys key0, key1, ..., each with 60 bytes of 'x'.
std::string CompressibleRows(int n) {
  return Lines(n, [](int i) {
    return "{\"k\":\"key" + std::to_string(i) + "\",\"v\":\"" + std::string(60, 'x') + "\"}";
  });
}

// A tmpfs of `megabytes` at dir/small for the test's life, or false where none can be mounted
// (not root; CI runs as root).
class SmallDisk {
 public:
  SmallDisk(const std::filesystem::path& dir, int megabytes) : path_((dir / "small").string()) {
    std::filesystem::create_directories(path_);
    std::string mount = "mount -t tmpfs -o size=" + std::to_string(megabytes) + "m tmpfs " +
                        Quote(path_) + " 2>/dev/null";
    mounted_ = std::system(mount.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) (void)!std::system(("umount " + Quote(path_)).c_str());
  }
  explicit operator bool() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

// Item 2: a full disk under the data folder.
TEST_F(CliTest, AFullDiskGivesOneLineWritesNothingAndTheStoreStillOpens) {
  SmallDisk disk(dir_, 8);
  if (!disk) GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  Ok({"--data", "small/d", "table", "create", "t", "--pk", "k:STRING"});
  std::string rows = CompressibleRows(100000);
  CmdResult load = Tl({"--data", "small/d", "put", "t"}, rows);
  ExpectError(load, "no space left on device");
  EXPECT_NE(load.err.find("nothing was written"), std::string::npos) << load.err;
  // The same load spilling runs (1 MiB of memory): the run that cannot be written is the
  // loader's failure, not the line that filled it.
  CmdResult spilling = Tl({"--data", "small/d", "put", "t", "--memory-mb", "1"}, rows);
  ExpectError(spilling, "No space left on device; nothing was written");
  EXPECT_EQ(spilling.err.find("line"), std::string::npos) << spilling.err;
  // Single writes until the disk is full: each fails cleanly, none aborts the process.
  std::string value(120000, 'y');
  int failed = 0;
  for (int i = 0; i < 80 && failed < 3; ++i) {
    CmdResult put = Tl({"--data", "small/d", "put", "t",
                        "{\"k\":\"big" + std::to_string(i) + "\",\"v\":\"" + value + "\"}"});
    ASSERT_TRUE(put.exit_code == 0 || put.exit_code == 1) << put.exit_code << " " << put.err;
    if (put.exit_code == 1) {
      ++failed;
      EXPECT_NE(put.err.find("no space left on device"), std::string::npos) << put.err;
    }
  }
  EXPECT_GT(failed, 0);
  CmdResult list = Tl({"--data", "small/d", "table", "list"});  // reads still work
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out, "t\n");
  CmdResult range = Tl({"--data", "small/d", "range", "t", "--columns", "k"});
  EXPECT_EQ(range.exit_code, 0) << range.err;
  EXPECT_EQ(range.out.find("key"), std::string::npos);  // nothing of the failed load
  // Room again: writes work again.
  std::string grow = "mount -o remount,size=32m " + Quote((dir_ / "small").string());
  ASSERT_EQ(std::system(grow.c_str()), 0);
  Ok({"--data", "small/d", "put", "t", R"({"k":"after"})"});
}

// A load is refused for the room its table files take, not for its rows' size as given: rows
// that compress well load where their sorted runs fit (200,000 rows: 17 MiB of runs, under 1 MiB
// of table files, on a 30 MiB disk; refused before as "needs about 19 MiB ... has 14 MiB free").
TEST_F(CliTest, ALoadNeedsRoomForItsFilesNotForItsRowsUncompressed) {
  SmallDisk disk(dir_, 30);
  if (!disk) GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  Ok({"--data", "small/d", "table", "create", "t", "--pk", "k:STRING"});
  CmdResult load =
      Tl({"--data", "small/d", "put", "t", "--memory-mb", "4"}, CompressibleRows(200000));
  ASSERT_EQ(load.exit_code, 0) << load.err;
  CmdResult range = Tl({"--data", "small/d", "range", "t", "--columns", "k"});
  ASSERT_EQ(range.exit_code, 0) << range.err;
  EXPECT_EQ(std::count(range.out.begin(), range.out.end(), '\n'), 200000);
  const auto runs = dir_ / "small" / "d" / "bulk";
  EXPECT_TRUE(!std::filesystem::exists(runs) || std::filesystem::is_empty(runs));
}

}  // namespace
}  // namespace tablelake::testing
