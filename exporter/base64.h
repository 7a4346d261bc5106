// Base64 (RFC 4648): the standard alphabet for HTTP basic authentication
// (§4), the URL-safe one for the API's pagination cursors (§5).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hlo {

enum class Base64Alphabet { kStandard, kUrl };

// Without padding.
std::string Base64Encode(std::string_view data, Base64Alphabet alphabet);

// Padding optional (trailing '=' are ignored); nullopt on any character
// outside the alphabet or an impossible length.
std::optional<std::string> Base64Decode(std::string_view text, Base64Alphabet alphabet);

}  // namespace hlo
