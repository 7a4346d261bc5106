#include "tests/fakes/temp_dir.h"

#include <stdlib.h>

#include <fstream>
#include <stdexcept>
#include <system_error>

namespace hlo {

TempDir::TempDir() {
  std::error_code ec;
  std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string pattern = (base / "hlo-test-XXXXXX").string();
  // mkdtemp, unlike composing a name ourselves, cannot collide with a
  // parallel test process.
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("TempDir: cannot create a folder under " + base.string());
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::Write(const std::string& relative, std::string_view content) const {
  const std::filesystem::path full = path_ / relative;
  std::error_code ec;
  std::filesystem::create_directories(full.parent_path(), ec);
  std::ofstream out(full, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw std::runtime_error("TempDir: cannot write " + full.string());
  return full;
}

}  // namespace hlo
