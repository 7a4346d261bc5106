// The status page's files (exporter/web/), embedded in the binary at build
// time (exporter/web/embed.cmake), so the page needs nothing from outside:
// no CDN, no fonts, no files beside the program.
#pragma once

#include <string_view>

namespace hlo {

struct WebAsset {
  std::string_view path;          // "/", "/assets/status.js", …
  std::string_view content_type;  // "text/html; charset=utf-8", …
  std::string_view bytes;
};

// The asset served at `path`, or null.
const WebAsset* FindWebAsset(std::string_view path);

}  // namespace hlo
