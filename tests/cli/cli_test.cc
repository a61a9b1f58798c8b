// Runs the built `tablelake` binary as a user would and checks its output and exit codes.
#include <algorithm>

#include "cli_fixture.h"

namespace tablelake::testing {
namespace {

TEST_F(CliTest, TableLifecycleAndDataOption) {
  Ok({"--data", "d1", "table", "create", "t", "--pk", "id:INTEGER", "--max-versions", "3"});
  CmdResult list = Tl({"table", "list", "--data", "d1"});  // --data after the subcommand too
  EXPECT_EQ(list.out, "t\n");
  EXPECT_EQ(Tl({"table", "list"}).out, "");  // the default folder is another store
  CmdResult d = Tl({"--data", "d1", "table", "describe", "t"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  auto j = nlohmann::json::parse(d.out);
  EXPECT_EQ(j["table_options"]["max_versions"], 3);
  EXPECT_EQ(j["primary_key"][0]["type"], "INTEGER");
  Ok({"--data", "d1", "table", "update", "t", "--stream-hours", "12", "--max-versions", "2"});
  j = nlohmann::json::parse(Tl({"--data", "d1", "table", "describe", "t"}).out);
  EXPECT_EQ(j["stream"]["enabled"], true);
  EXPECT_EQ(j["stream"]["expiration_hours"], 12);
  EXPECT_EQ(j["table_options"]["max_versions"], 2);
  Ok({"--data", "d1", "table", "drop", "t"});
  ExpectError(Tl({"--data", "d1", "table", "describe", "t"}), "OTSObjectNotExist");
}

TEST_F(CliTest, CreateRejectsBadArguments) {
  ExpectError(Tl({"table", "create", "t", "--pk", "id:FLOAT"}), "FLOAT");
  ExpectError(Tl({"table", "create", "t", "--pk", "id"}), "COL:TYPE");
  ExpectError(Tl({"table", "create", "t", "--pk", "id:INTEGER:AUTO_INCREMENT"}), "AUTO_INCREMENT");
  ExpectError(Tl({"table", "create", "bad-name", "--pk", "id:INTEGER"}), "bad-name");
  EXPECT_NE(Tl({"table", "create", "t"}).exit_code, 0);
  EXPECT_EQ(Tl({"table", "list"}).out, "");
}

TEST_F(CliTest, TypedValuesRoundTrip) {
  CreateSample();
  std::string row =
      R"({"PK1":{"$int":"-9223372036854775808"},"PK2":"ü","big":{"$int":"9007199254740993"},)"
      R"("bin":{"$binary":"AAH/"},"d":0.1,"whole":{"$double":3},"nan":{"$double":"NaN"},)"
      R"("t":true,"s":"line\nbreak"})";
  Ok({"put", "sampleTable", row});
  CmdResult got =
      Tl({"get", "sampleTable", R"({"PK1":{"$int":"-9223372036854775808"},"PK2":"ü"})"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  auto j = nlohmann::json::parse(got.out);
  EXPECT_EQ(j["big"]["$int"], "9007199254740993");
  EXPECT_EQ(j["bin"]["$binary"], "AAH/");
  EXPECT_EQ(j["whole"].dump(), "3.0");
  EXPECT_EQ(j["nan"]["$double"], "NaN");
  // Printed output fed back as input writes the same row.
  Ok({"table", "create", "copy", "--pk", "PK1:INTEGER", "--pk", "PK2:STRING"});
  Ok({"put", "copy", got.out});
  CmdResult again = Tl({"range", "copy"});
  EXPECT_EQ(again.out, got.out);
}

TEST_F(CliTest, PutFromStdinAndRange) {
  CreateSample();
  std::string input;
  for (int i = 0; i < 1000; ++i) {
    input += "{\"PK1\":" + std::to_string(i % 10) + ",\"PK2\":\"k" + std::to_string(i) +
             "\",\"Col1\":" + std::to_string(i) + ".5}\n";
  }
  CmdResult put = Tl({"put", "sampleTable"}, input);
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_NE(put.err.find("1000 rows"), std::string::npos) << put.err;  // the rows/s summary
  EXPECT_EQ(Tl({"range", "sampleTable"}).Lines().size(), 1000u);
  auto some =
      Tl({"range", "sampleTable", "--start", R"({"PK1":3})", "--end", R"({"PK1":5})"}).Lines();
  EXPECT_EQ(some.size(), 200u);
  EXPECT_EQ(some.front()["PK1"], 3);
  auto limited = Tl({"range", "sampleTable", "--backward", "--limit", "3"}).Lines();
  ASSERT_EQ(limited.size(), 3u);
  EXPECT_EQ(limited[0]["PK1"], 9);
  auto filtered =
      Tl({"range", "sampleTable", "--if", "Col1 >= 998.0", "--columns", "Col1"}).Lines();
  ASSERT_EQ(filtered.size(), 2u);
  EXPECT_EQ(filtered[0].size(), 3u);  // PK1, PK2, Col1
}

TEST_F(CliTest, BadInputWritesNothing) {
  CreateSample();
  std::string input =
      "{\"PK1\":1,\"PK2\":\"a\"}\n{\"PK1\":2,\"PK2\":\"b\"}\n{\"PK1\":\"3\",\"PK2\":\"c\"}\n";
  CmdResult r = Tl({"put", "sampleTable"}, input);
  ExpectError(r, "stdin line 3");
  EXPECT_NE(r.err.find("'PK1'"), std::string::npos);
  ExpectError(Tl({"put", "sampleTable"}, "{\"PK1\":1,\"PK2\":\"a\"}\nnot json\n"), "line 2");
  ExpectError(Tl({"put", "sampleTable", "{oops"}), "not valid JSON");
  ExpectError(Tl({"put", "sampleTable", R"({"PK1":1})"}), "'PK2' is missing");
  ExpectError(Tl({"put", "sampleTable", R"({"PK1":1,"PK2":"a","x":null})"}), "null");
  ExpectError(Tl({"put", "nope", R"({"PK1":1,"PK2":"a"})"}), "'nope'");
  CmdResult missing = Tl({"get", "sampleTable", R"({"PK1":1,"PK2":"zz"})"});
  EXPECT_EQ(missing.exit_code, 0) << missing.err;  // as Tablestore: an empty row, no error
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(Tl({"range", "sampleTable"}).out, "");
}

TEST_F(CliTest, UpdateDeleteAndConditions) {
  CreateSample();
  Ok({"put", "sampleTable", R"({"PK1":1,"PK2":"a","n":1,"s":"x"})", "--expect", "not-exist"});
  ExpectError(Tl({"put", "sampleTable", R"({"PK1":1,"PK2":"a"})", "--expect", "not-exist"}),
              "OTSConditionCheckFail");
  Ok({"update", "sampleTable", R"({"PK1":1,"PK2":"a","m":"new"})", "--increment", "n=41",
      "--delete", "s", "--if", "n = 1"});
  auto j = nlohmann::json::parse(Tl({"get", "sampleTable", R"({"PK1":1,"PK2":"a"})"}).out);
  EXPECT_EQ(j["n"], 42);
  EXPECT_EQ(j["m"], "new");
  EXPECT_FALSE(j.contains("s"));
  ExpectError(Tl({"update", "sampleTable", R"({"PK1":1,"PK2":"a"})", "--increment", "n=1", "--if",
                  "n = 1"}),
              "OTSConditionCheckFail");
  ExpectError(Tl({"update", "sampleTable", R"({"PK1":1,"PK2":"a"})", "--increment", "n=x"}), "n=x");
  ExpectError(Tl({"delete", "sampleTable", R"({"PK1":1,"PK2":"a"})", "--if", "n lt 4"}),
              "COLUMN OP VALUE");
  ExpectError(Tl({"delete", "sampleTable", R"({"PK1":1,"PK2":"a"})", "--expect", "maybe"}),
              "maybe");
  Ok({"delete", "sampleTable", R"({"PK1":1,"PK2":"a"})", "--expect", "exist"});
  ExpectError(Tl({"delete", "sampleTable", R"({"PK1":1,"PK2":"a"})", "--expect", "exist"}),
              "does not exist");
}

TEST_F(CliTest, VersionsOutput) {
  Ok({"table", "create", "v", "--pk", "id:INTEGER", "--max-versions", "3"});
  // Versions must lie within a day of now, so the test takes them from the clock.
  const int64_t ts = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const std::string t1 = std::to_string(ts - 1000), t2 = std::to_string(ts);
  Ok({"put", "v",
      R"({"id":1,"c":[{"$value":1,"$ts":)" + t1 + R"(},{"$value":2,"$ts":)" + t2 + "}]}"});
  auto j = nlohmann::json::parse(Tl({"get", "v", R"({"id":1})", "--max-versions", "3"}).out);
  ASSERT_EQ(j["c"].size(), 2u);
  EXPECT_EQ(j["c"][0]["$value"], 2);
  Ok({"update", "v", R"({"id":1})", "--delete-version", "c@" + t2});
  j = nlohmann::json::parse(Tl({"get", "v", R"({"id":1})"}).out);
  EXPECT_EQ(j["c"], 1);
}

TEST_F(CliTest, AutoIncrementPrintsTheKey) {
  Ok({"table", "create", "ai", "--pk", "p:STRING", "--pk", "id:INTEGER:AUTO_INCREMENT"});
  CmdResult r = Tl({"put", "ai", R"({"p":"x","v":1})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["id"].is_number_integer() || j["id"].contains("$int"));
}

TEST_F(CliTest, ImportJsonlAndCsv) {
  CreateSample();
  {
    std::ofstream f(dir_ / "rows.jsonl");
    for (int i = 0; i < 500; ++i)
      f << "{\"PK1\":" << i << ",\"PK2\":\"j\",\"Col1\":" << i << ".25}\n";
  }
  {
    std::ofstream f(dir_ / "rows.csv");
    f << "PK1,PK2,Col1,flag,note:STRING,raw:BINARY\n";
    f << "1,c,1.5,true,007,AAE=\n";
    f << "2,\"c,2\",2,false,\"say \"\"hi\"\"\",\n";
  }
  CmdResult r = Tl({"import", "--table", "sampleTable", "--format", "jsonl", "rows.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("500 rows"), std::string::npos) << r.err;
  Ok({"import", "sampleTable", "rows.csv", "--format", "csv"});
  auto rows = Tl({"range", "sampleTable", "--start", R"({"PK1":1,"PK2":"c"})", "--end",
                  R"({"PK1":2,"PK2":"d"})"})
                  .Lines();
  ASSERT_EQ(rows.size(), 3u);  // (1,c), (1,j), (2,"c,2")
  EXPECT_EQ(rows[0]["Col1"], 1.5);
  EXPECT_EQ(rows[0]["flag"], true);
  EXPECT_EQ(rows[0]["note"], "007");
  EXPECT_EQ(rows[0]["raw"]["$binary"], "AAE=");
  EXPECT_EQ(rows[2]["PK2"], "c,2");
  EXPECT_EQ(rows[2]["Col1"], 2);  // inferred INTEGER
  EXPECT_EQ(rows[2]["note"], "say \"hi\"");
  EXPECT_FALSE(rows[2].contains("raw"));

  std::ofstream(dir_ / "bad.csv") << "PK1,PK2\n1,a\nx,b\n";
  ExpectError(Tl({"import", "--table", "sampleTable", "--format", "csv", "bad.csv"}),
              "bad.csv line 3");
  ExpectError(Tl({"import", "--table", "sampleTable", "--format", "xml", "rows.csv"}), "xml");
  ExpectError(Tl({"import", "--table", "sampleTable", "--format", "csv", "missing.csv"}),
              "missing.csv");
  EXPECT_EQ(Tl({"range", "sampleTable"}).Lines().size(), 502u);  // bad.csv wrote nothing
}

// A CSV row whose values all read plainly is handed to the loader as views of its fields; any
// other row (here: one with a BINARY value) goes through JSON. Both read every value alike.
TEST_F(CliTest, CsvValuesReadTheSameWithOrWithoutJson) {
  const std::vector<std::string> untyped = {"+5",
                                            "-0",
                                            "007",
                                            "1e999",
                                            "-1e999",
                                            "nan",
                                            "inf",
                                            "0x1p3",
                                            "1.5e-3",
                                            "9223372036854775808",
                                            "-9223372036854775808",
                                            "true",
                                            "True",
                                            "a b",
                                            "\"\"",
                                            "\"5\"",
                                            "\"x \"\"y\"\"\"",
                                            "-",
                                            "1e",
                                            " 5"};
  const std::vector<std::string> integers = {" 5", "+7", "-3", "0010"};
  for (const std::string table : {"plain", "json"}) {
    Ok({"table", "create", table, "--pk", "PK1:INTEGER", "--pk", "PK2:STRING"});
    std::ofstream f(dir_ / (table + ".csv"));
    f << "PK2,v,i:INTEGER,d:DOUBLE,PK1" << (table == "json" ? ",raw:BINARY" : "") << "\n";
    for (size_t n = 0; n < untyped.size(); ++n) {
      f << "k," << untyped[n] << "," << integers[n % integers.size()] << ", 2.5e1," << n
        << (table == "json" ? ",AAE=" : "") << "\n";
    }
    f.close();
    Ok({"import", table, table + ".csv", "--format", "csv"});
  }
  auto plain = Tl({"range", "plain"}).Lines();
  auto json = Tl({"range", "json"}).Lines();
  ASSERT_EQ(plain.size(), untyped.size());
  ASSERT_EQ(json.size(), untyped.size());
  for (size_t n = 0; n < plain.size(); ++n) {
    EXPECT_EQ(json[n]["raw"]["$binary"], "AAE=");
    json[n].erase("raw");
    EXPECT_EQ(plain[n], json[n]) << untyped[n];
  }
  EXPECT_EQ(plain[0]["v"], 5);
  EXPECT_EQ(plain[4]["v"]["$double"], "-Infinity");
  EXPECT_EQ(plain[14]["v"], "");
  EXPECT_EQ(plain[15]["v"], "5");
  EXPECT_EQ(plain[16]["v"], "x \"y\"");
  EXPECT_EQ(plain[19]["v"], 5.0);  // untyped, with a space: as strtod reads it, a DOUBLE
  EXPECT_EQ(plain[1]["i"], 7);
  EXPECT_EQ(plain[0]["d"], 25.0);
}

// RFC 4180: a quoted field may hold line breaks (CRLF or LF), also across the blocks the input
// is read in; errors name the line a record starts on; a quote that never closes is refused.
TEST_F(CliTest, CsvQuotedFieldsHoldLineBreaks) {
  CreateSample();
  const std::string tall = "top\n" + std::string(300 << 10, 't') + "\r\nbottom";  // > a block
  {
    std::ofstream f(dir_ / "notes.csv", std::ios::binary);
    f << "PK1,PK2,note\r\n";
    f << "1,\"two\nlines\",\"a \"\"quoted\"\"\r\nword\"\r\n";
    for (int i = 2; i < 2000; ++i) f << i << ",k,\"row\n" << i << "\"\n";
    f << "2000,k,\"" << tall << "\"\n";
    f << "2001,k,last\n";
  }
  Ok({"import", "sampleTable", "notes.csv", "--format", "csv"});
  EXPECT_EQ(Tl({"range", "sampleTable"}).Lines().size(), 2001u);
  auto note = [&](const std::string& key) {
    return Tl({"get", "sampleTable", key}).Lines().at(0)["note"].get<std::string>();
  };
  EXPECT_EQ(Tl({"get", "sampleTable", R"({"PK1":1,"PK2":"two\nlines"})"}).Lines().at(0)["note"],
            "a \"quoted\"\r\nword");
  EXPECT_EQ(note(R"({"PK1":1999,"PK2":"k"})"), "row\n1999");
  EXPECT_EQ(note(R"({"PK1":2000,"PK2":"k"})"), tall);
  EXPECT_EQ(note(R"({"PK1":2001,"PK2":"k"})"), "last");

  // Line numbers count the line breaks inside fields: row 3 starts on line 5.
  std::ofstream(dir_ / "bad.csv") << "PK1,PK2,note\n1,a,\"x\ny\"\n2,b,\"z\n\"\nx,c,1\n";
  ExpectError(Tl({"import", "sampleTable", "bad.csv", "--format", "csv"}), "bad.csv line 6:");
  std::ofstream(dir_ / "open.csv") << "PK1,PK2,note\n1,a,ok\n2,b,\"never closed\n3,c,1\n";
  ExpectError(Tl({"import", "sampleTable", "open.csv", "--format", "csv"}),
              "open.csv line 3: unterminated quoted field");
  // A quote that never closes, with more than 64 MiB of lines after it: refused once that much
  // is held, not read to the end into memory.
  {
    std::ofstream f(dir_ / "runaway.csv", std::ios::binary);
    f << "PK1,PK2,note\n1,a,ok\n2,b,\"open\n";
    const std::string line = "3,c," + std::string(1000, 'x') + "\n";
    for (int i = 0; i < 70000; ++i) f << line;
  }
  ExpectError(Tl({"import", "sampleTable", "runaway.csv", "--format", "csv"}),
              "runaway.csv line 3: a quoted field is still open 64 MiB on");
  EXPECT_EQ(Tl({"range", "sampleTable"}).Lines().size(), 2001u);  // none wrote anything
}

TEST_F(CliTest, StreamRead) {
  CreateSample();
  Ok({"put", "sampleTable", R"({"PK1":1,"PK2":"a","x":1})"});
  Ok({"update", "sampleTable", R"({"PK1":1,"PK2":"a","y":2})"});
  Ok({"delete", "sampleTable", R"({"PK1":1,"PK2":"a"})"});
  auto recs = Tl({"stream", "read", "sampleTable"}).Lines();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0]["op"], "PUT");
  EXPECT_EQ(recs[1]["op"], "UPDATE");
  EXPECT_EQ(recs[1]["row"]["x"], 1);
  EXPECT_EQ(recs[1]["row"]["y"], 2);
  EXPECT_EQ(recs[2]["op"], "DELETE");
  auto from = Tl({"stream", "read", "sampleTable", "--from", recs[1]["seq"].dump(), "--limit", "1"})
                  .Lines();
  ASSERT_EQ(from.size(), 1u);
  EXPECT_EQ(from[0]["op"], "UPDATE");
}

TEST_F(CliTest, CredentialSetsKeepSecretsOffTheCommandLineAndOutput) {
  // The secret comes on standard input (or from an environment variable), never as an argument.
  Ok({"delivery", "credentials", "put", "lake-writer", "--access-key-id", "AKID1"},
     "s3cr3t-value\n");
  Ok({"delivery", "credentials", "put", "r2", "--access-key-id", "AKID2", "--secret-env", "HOME"});
  CmdResult list = Tl({"delivery", "credentials", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out,
            "{\"role\":\"lake-writer\",\"access_key_id\":\"AKID1\"}\n"
            "{\"role\":\"r2\",\"access_key_id\":\"AKID2\"}\n");
  EXPECT_EQ(list.out.find("s3cr3t"), std::string::npos);
  ExpectError(Tl({"delivery", "credentials", "put", "bad role", "--access-key-id", "X"}, "s\n"),
              "role 'bad role' is invalid");
  ExpectError(Tl({"delivery", "credentials", "put", "r3", "--access-key-id", "X"}),
              "no access key secret");
  Ok({"delivery", "credentials", "delete", "r2"});
  ExpectError(Tl({"delivery", "credentials", "delete", "r2"}),
              "credential set 'r2' does not exist");
  // A remote endpoint needs a role naming one.
  CreateSample();
  ExpectError(
      Tl({"delivery", "create", "--table", "sampleTable", "--name", "remote", "--bucket", "b",
          "--oss-endpoint", "oss-cn-hangzhou.aliyuncs.com", "--schema", "PK1:PK1:INT64"}),
      "needs a role (OssRoleName)");
  Ok({"delivery", "create", "--table", "sampleTable", "--name", "remote", "--bucket", "b",
      "--oss-endpoint", "oss-cn-hangzhou.aliyuncs.com", "--role", "lake-writer", "--schema",
      "PK1:PK1:INT64"});
}

// Issue 13: a load far larger than its memory (--memory-mb 1: many sorted runs) is all or
// nothing - a bad line near the end writes nothing and names its line - and a good one writes
// every row once, the last of a key winning, leaving no run behind.
TEST_F(CliTest, ALoadLargerThanItsMemoryIsAllOrNothing) {
  Ok({"table", "create", "t", "--pk", "id:INTEGER"});
  std::string input;
  constexpr int kRows = 60000;
  for (int i = 0; i < kRows; ++i) {
    int id = (i * 7919) % kRows;
    input += "{\"id\":" + std::to_string(id) + ",\"v\":" + std::to_string(i) + ",\"pad\":\"" +
             std::string(40, 'x') + "\"}\n";
  }
  std::string bad = input + "{\"id\":1,\"v\":1}\n{\"id\":\"two\"}\n{\"id\":3}\n";
  ExpectError(Tl({"put", "t", "--memory-mb", "1"}, bad), "stdin line 60002");
  EXPECT_EQ(Tl({"range", "t", "--limit", "1"}).out, "") << "nothing written";
  input += "{\"id\":0,\"v\":-1}\n";  // the last row of key 0
  CmdResult load = Tl({"put", "t", "--memory-mb", "1"}, input);
  ASSERT_EQ(load.exit_code, 0) << load.err;
  EXPECT_NE(load.err.find("60001 rows"), std::string::npos) << load.err;
  CmdResult all = Tl({"range", "t", "--columns", "v"});
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), kRows);
  EXPECT_EQ(Tl({"get", "t", R"({"id":0})"}).out, "{\"id\":0,\"v\":-1}\n");
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "tablelake-data" / "bulk"));
  ExpectError(Tl({"put", "t", "--memory-mb", "0"}, input), "--memory-mb");
}

// Lines are parsed on several threads, a batch of 2,048 each: the error is still the first bad
// line of the input, whichever batch a thread finished first.
TEST_F(CliTest, TheFirstBadLineIsTheOneNamedWhateverThreadParsedIt) {
  Ok({"table", "create", "t", "--pk", "id:INTEGER"});
  std::string input;
  for (int i = 1; i <= 20000; ++i) {
    // Line 2,100 sits in the second batch; the later bad lines in batches parsed meanwhile.
    input += i == 2100 || i == 5000 || i % 7000 == 0 ? "{\"id\":\"bad\"}\n"
                                                     : "{\"id\":" + std::to_string(i) + "}\n";
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    ExpectError(Tl({"put", "t"}, input), "stdin line 2100:");
  }
  EXPECT_EQ(Tl({"range", "t", "--limit", "1"}).out, "") << "nothing written";
}

}  // namespace
}  // namespace tablelake::testing
