#include "observer/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hlo {
namespace detail {
namespace {

std::string Why(const std::string& what, const std::filesystem::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

bool WriteAll(int fd, std::string_view content) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    content.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace
}  // namespace detail

bool WriteFileAtomic(const std::filesystem::path& path, std::string_view content,
                     std::string* error) {
  // Dot-prefixed and .tmp-suffixed: ignored by anything reading the folder
  // by the contract's rules.
  std::string tmp_name = ".";
  tmp_name += path.filename().string();
  tmp_name += '.';
  tmp_name += std::to_string(::getpid());
  tmp_name += ".tmp";
  const std::filesystem::path tmp = path.parent_path() / tmp_name;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (error) *error = detail::Why("cannot create", tmp);
    return false;
  }
  const bool ok = detail::WriteAll(fd, content) && ::fsync(fd) == 0;
  const std::string write_error = ok ? "" : detail::Why("cannot write", tmp);
  if (::close(fd) != 0 || !ok) {
    if (error) *error = ok ? detail::Why("cannot close", tmp) : write_error;
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    if (error) *error = detail::Why("cannot rename over", path);
    ::unlink(tmp.c_str());
    return false;
  }
  detail::SyncDirectory(path.parent_path());
  return true;
}

std::optional<std::string> ReadWholeFile(const std::filesystem::path& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (error) *error = detail::Why("cannot open", path);
    return std::nullopt;
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (error) *error = detail::Why("cannot read", path);
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

bool AppendAndSync(const std::filesystem::path& path, std::string_view content,
                   std::string* error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (error) *error = detail::Why("cannot open", path);
    return false;
  }
  const bool ok = detail::WriteAll(fd, content) && ::fsync(fd) == 0;
  if (!ok && error) *error = detail::Why("cannot append to", path);
  ::close(fd);
  return ok;
}

bool TruncateTo(const std::filesystem::path& path, uint64_t size, std::string* error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT && size == 0) return true;
    if (error) *error = detail::Why("cannot stat", path);
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) == size) return true;
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
    if (error) *error = detail::Why("cannot truncate", path);
    return false;
  }
  return true;
}

}  // namespace hlo
