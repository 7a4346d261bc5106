// The embedded status page (exporter/web/, embed.cmake): what the browser
// test (tests/browser/) relies on, checked without a browser.
#include "exporter/web_assets.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace hlo {
namespace {

std::string SourceFile(const std::string& relative) {
  std::ifstream in(std::string(HLO_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(WebAssetsTest, RootIsTheStatusPage) {
  const WebAsset* page = FindWebAsset("/");
  ASSERT_NE(page, nullptr);
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_NE(page->bytes.find("<main"), std::string_view::npos);
}

TEST(WebAssetsTest, ServesEachFileAtItsPathWithItsType) {
  struct Case {
    const char* path;
    const char* type;
    const char* file;
  };
  for (const Case& c : {Case{"/", "text/html; charset=utf-8", "exporter/web/index.html"},
                        Case{"/assets/status.js", "text/javascript; charset=utf-8", "exporter/web/status.js"},
                        Case{"/assets/status.css", "text/css; charset=utf-8", "exporter/web/status.css"},
                        Case{"/assets/favicon.svg", "image/svg+xml", "exporter/web/favicon.svg"}}) {
    const WebAsset* asset = FindWebAsset(c.path);
    ASSERT_NE(asset, nullptr) << c.path;
    EXPECT_EQ(asset->content_type, c.type) << c.path;
    // Byte for byte, so a stale generated file shows up here.
    EXPECT_EQ(asset->bytes, SourceFile(c.file)) << c.path;
  }
}

TEST(WebAssetsTest, UnknownPathsAreNotAssets) {
  for (const char* path : {"", "/index.html", "/assets/", "/assets/embed.cmake", "/assets/../status.js",
                           "/favicon.ico", "/assets/status.js?v=1"}) {
    EXPECT_EQ(FindWebAsset(path), nullptr) << path;
  }
}

// Every /assets/ URL the page names is embedded, so the browser never meets
// a 404 (the favicon included: without a <link rel=icon> it asks for
// /favicon.ico).
TEST(WebAssetsTest, EveryAssetThePageLinksIsEmbedded) {
  const std::string page(FindWebAsset("/")->bytes);
  const std::regex link(R"((?:src|href)="(/assets/[^"]+)\")");
  int links = 0;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), link); it != std::sregex_iterator(); ++it) {
    ++links;
    EXPECT_NE(FindWebAsset((*it)[1].str()), nullptr) << (*it)[1].str();
  }
  EXPECT_GE(links, 3);
  EXPECT_NE(page.find("rel=\"icon\""), std::string::npos);
}

// The HTTP server's Content-Security-Policy allows no inline script or style
// and nothing from elsewhere: the page must not need any.
TEST(WebAssetsTest, PageNeedsNothingTheContentSecurityPolicyBlocks) {
  const std::string page(FindWebAsset("/")->bytes);
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(<script(?![^>]*\bsrc=))"))) << "inline <script>";
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(\sstyle=)"))) << "style attribute";
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(<style)"))) << "<style> element";
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(\son[a-z]+=)"))) << "inline event handler";
  for (const char* path : {"/", "/assets/status.js", "/assets/status.css"}) {
    const std::string text(FindWebAsset(path)->bytes);
    EXPECT_FALSE(std::regex_search(text, std::regex(R"((https?:)?//[a-z0-9.-]+\.[a-z]{2,}/)")))
        << path << " names another host";
  }
  const std::string script(FindWebAsset("/assets/status.js")->bytes);
  EXPECT_EQ(script.find("innerHTML"), std::string::npos) << "host-supplied names go in as text only";
  EXPECT_EQ(script.find("eval("), std::string::npos);
}

}  // namespace
}  // namespace hlo
