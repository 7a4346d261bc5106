#include "exporter/ingest_policy.h"

#include <arpa/inet.h>

namespace hlo {

bool IsLoopbackListenAddress(std::string_view listen_address) {
  const auto colon = listen_address.rfind(':');
  if (colon == std::string_view::npos) return false;
  const std::string host(listen_address.substr(0, colon));
  if (host == "localhost" || host == "[::1]") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) != 1) return false;
  return (ntohl(v4.s_addr) >> 24) == 127;
}

std::optional<std::string> IngestRefusal(std::string_view listen_address, bool basic_auth) {
  if (basic_auth || IsLoopbackListenAddress(listen_address)) return std::nullopt;
  return "--web.enable-ingest on " + std::string(listen_address) +
         " (not loopback) needs basic authentication: set basic_auth_users in a "
         "--web.config.file (and ingest_users to limit who may POST), or listen on "
         "127.0.0.1";
}

}  // namespace hlo
