// When `run --web.enable-ingest` may start (docs/security.md): anyone who can
// reach the port could write events, so off loopback it needs basic
// authentication (--web.config.file with basic_auth_users).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hlo {

// Whether a --web.listen-address only listens on loopback: a host of
// 127.0.0.0/8, "localhost" or [::1]. An empty host (all interfaces) is not.
bool IsLoopbackListenAddress(std::string_view listen_address);

// Why ingestion must not start (a message for stderr), or nullopt when it
// may.
std::optional<std::string> IngestRefusal(std::string_view listen_address, bool basic_auth);

}  // namespace hlo
