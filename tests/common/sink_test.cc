// File sinks: a deferred sink creates its folders and file when its bytes go out, publishes the
// file whole under its name, and copes with folders made or removed by others meanwhile.
#include "common/sink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace tablelake {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Status Write(const std::string& path, const std::string& bytes) {
  TL_ASSIGN_OR_RETURN(auto sink, NewFileSink(path, /*sync=*/false, /*no_replace=*/true,
                                             /*deferred=*/true));
  TL_RETURN_IF_ERROR(sink->Append(bytes));
  return sink->Commit();
}

TEST(FileSink, DeferredSinksMakeTheirFoldersWhateverHappenedToThemMeanwhile) {
  fs::path root = fs::temp_directory_path() / ("tablelake-sink-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  // New folders, then a second file in a folder this thread knows.
  ASSERT_TRUE(Write((root / "a/b/c/one").string(), "1").ok());
  ASSERT_TRUE(Write((root / "a/b/c/two").string(), "2").ok());
  EXPECT_EQ(Read(root / "a/b/c/one"), "1");
  EXPECT_EQ(Read(root / "a/b/c/two"), "2");
  // The known folder removed by someone else: made again.
  fs::remove_all(root / "a");
  ASSERT_TRUE(Write((root / "a/b/c/three").string(), "3").ok());
  EXPECT_EQ(Read(root / "a/b/c/three"), "3");
  // A folder made by someone else first.
  fs::create_directories(root / "x/y");
  ASSERT_TRUE(Write((root / "x/y/four").string(), "4").ok());
  EXPECT_EQ(Read(root / "x/y/four"), "4");
  // No replacing an existing name; nothing but the published files is left behind.
  Status again = Write((root / "x/y/four").string(), "5");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(Read(root / "x/y/four"), "4");
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) files += e.is_regular_file();
  EXPECT_EQ(files, 2u);  // three and four (one and two went with folder a)
  // A bare file name: the current folder.
  fs::path cwd = fs::current_path();
  fs::current_path(root);
  ASSERT_TRUE(Write("bare", "6").ok());
  fs::current_path(cwd);
  EXPECT_EQ(Read(root / "bare"), "6");
  fs::remove_all(root);
}

}  // namespace
}  // namespace tablelake
