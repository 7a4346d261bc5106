#include "observer/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <cerrno>
#include <cstring>

namespace hlo {
namespace detail {
namespace {

std::string Why(const std::string& what, const std::filesystem::path& path) {
  return what + " " + path.string() + ": " +
         (errno != 0 ? std::strerror(errno) : "its content could not be produced");
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

// Dot-prefixed and .tmp-suffixed: ignored by anything reading the folder
// by the contract's rules. The pid keeps concurrent writers apart.
std::string TemporaryPrefix(const std::filesystem::path& path) {
  return "." + path.filename().string() + ".";
}
constexpr std::string_view kTemporarySuffix = ".tmp";

}  // namespace
}  // namespace detail

void RemoveLeftoverTemporaries(const std::filesystem::path& path) {
  const std::string prefix = detail::TemporaryPrefix(path);
  std::error_code ec;
  for (std::filesystem::directory_iterator it(path.parent_path(), ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix) || !name.ends_with(detail::kTemporarySuffix)) continue;
    const std::string_view pid = std::string_view(name).substr(
        prefix.size(), name.size() - prefix.size() - detail::kTemporarySuffix.size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string_view::npos) continue;
    std::error_code ignored;  // best effort: a leftover only wastes space
    std::filesystem::remove(it->path(), ignored);
  }
}

namespace detail {
namespace {

// The temporary file for `path`, written and fsynced; nullopt (with *error,
// nothing left behind) on failure.
std::optional<std::filesystem::path> WriteTemporary(const FileToWrite& file,
                                                    std::string* error) {
  const std::filesystem::path& path = file.path;
  std::string tmp_name = TemporaryPrefix(path);
  tmp_name += std::to_string(::getpid());
  tmp_name += kTemporarySuffix;
  const std::filesystem::path tmp = path.parent_path() / tmp_name;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (error) *error = Why("cannot create", tmp);
    return std::nullopt;
  }
  errno = 0;
  bool written = false;
  try {
    written = file.produce
                  ? file.produce([fd](std::string_view bytes) { return WriteAll(fd, bytes); })
                  : WriteAll(fd, file.content);
  } catch (...) {  // (out of memory in the producer) nothing is left behind
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  const bool ok = written && ::fsync(fd) == 0;
  const std::string write_error = ok ? "" : Why("cannot write", tmp);
  if (::close(fd) != 0 || !ok) {
    if (error) *error = ok ? Why("cannot close", tmp) : write_error;
    ::unlink(tmp.c_str());
    return std::nullopt;
  }
  return tmp;
}

}  // namespace
}  // namespace detail

bool WriteFileAtomic(const std::filesystem::path& path, std::string_view content,
                     std::string* error) {
  return WriteFilesAtomic({{path, content, nullptr}}, error);
}

bool WriteFilesAtomic(const std::vector<FileToWrite>& files, std::string* error) {
  // Several files are written by two threads, the caller and a helper, each
  // taking the next file not taken yet: producing a big file (the world's
  // incidents.json) then overlaps producing and syncing the others. Each
  // file's producer runs on one thread; producers must not share state.
  std::vector<std::optional<std::filesystem::path>> temporaries(files.size());
  std::vector<std::string> errors(files.size());
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  const auto work = [&] {
    try {
      for (size_t i; (i = next.fetch_add(1)) < files.size();) {
        temporaries[i] = detail::WriteTemporary(files[i], &errors[i]);
      }
    } catch (...) {  // out of memory in a producer: the caller rethrows it
      next = files.size();
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  };
  if (files.size() > 1) {
    std::thread helper(work);
    work();
    helper.join();
  } else {
    work();
  }
  const auto unlink_from = [&](size_t first) {
    for (size_t j = first; j < files.size(); ++j) {
      if (temporaries[j]) ::unlink(temporaries[j]->c_str());
    }
  };
  if (failure) {
    unlink_from(0);
    std::rethrow_exception(failure);
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (!temporaries[i]) {
      if (error) *error = errors[i];
      unlink_from(0);
      return false;
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (::rename(temporaries[i]->c_str(), files[i].path.c_str()) != 0) {
      if (error) *error = detail::Why("cannot rename over", files[i].path);
      unlink_from(i);
      return false;
    }
  }
  std::vector<std::filesystem::path> synced;
  for (const FileToWrite& file : files) {
    const std::filesystem::path dir = file.path.parent_path();
    if (std::find(synced.begin(), synced.end(), dir) != synced.end()) continue;
    detail::SyncDirectory(dir);
    synced.push_back(dir);
  }
  return true;
}

std::optional<std::string> ReadWholeFile(const std::filesystem::path& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (error) *error = detail::Why("cannot open", path);
    return std::nullopt;
  }
  // Read straight into the string, sized by fstat (the file may still grow
  // or shrink meanwhile: read until EOF either way). The spare byte lets the
  // usual case see EOF without growing the string.
  struct stat st {};
  const size_t size =
      ::fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0;
  std::string out(size + 1, '\0');
  size_t used = 0;
  for (;;) {
    if (used == out.size()) out.resize(std::max<size_t>(out.size() * 2, size_t{1} << 16));
    const ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (error) *error = detail::Why("cannot read", path);
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  out.resize(used);
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
