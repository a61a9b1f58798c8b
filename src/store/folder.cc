#include "store/folder.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "fmt/format.h"

namespace tablelake::store {

std::string FolderUser::Describe() const {
  return command.empty() ? fmt::format("pid {}", pid) : fmt::format("pid {}: {}", pid, command);
}

std::optional<FolderUser> FolderInUse(const std::string& dir) {
  int fd = ::open((dir + "/LOCK").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct flock lock;
  std::memset(&lock, 0, sizeof(lock));
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  int rc = ::fcntl(fd, F_GETLK, &lock);
  ::close(fd);
  if (rc != 0 || lock.l_type == F_UNLCK) return std::nullopt;
  FolderUser user;
  user.pid = lock.l_pid;
  std::ifstream in(fmt::format("/proc/{}/cmdline", user.pid), std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : raw) c = c == '\0' ? ' ' : c;
  while (!raw.empty() && raw.back() == ' ') raw.pop_back();
  // The program's own name, not its path; the arguments never hold secrets (they come from
  // the environment or standard input).
  size_t space = raw.find(' ');
  size_t slash = raw.rfind('/', space);
  user.command = slash == std::string::npos ? raw : raw.substr(slash + 1);
  return user;
}

int64_t FreeBytes(const std::string& dir) {
  struct statvfs st;
  if (::statvfs(dir.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

Result<std::string> MakeTempFolder(const std::string& stem) {
  std::string pattern = (std::filesystem::temp_directory_path() / (stem + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::IOError(
        fmt::format("cannot create a temporary folder '{}': {}", pattern, std::strerror(errno)));
  }
  return pattern;
}

}  // namespace tablelake::store
