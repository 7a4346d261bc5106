#include "observer/checkpoint.h"

#include <cstdio>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "observer/event_parser.h"
#include "observer/model_codec.h"
#include "observer/world_reader.h"

namespace hlo {
namespace detail {
namespace {

// Event file names are raw bytes, but JSON strings must be UTF-8. A name that
// is not is kept losslessly in hex beside its readable (replaced) spelling:
// a mangled name would look like an unprocessed file on the next run.
std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  throw std::invalid_argument("bad hex digit in a file name");
}

std::string FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) throw std::invalid_argument("odd hex file name");
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out += static_cast<char>(HexDigit(hex[i]) * 16 + HexDigit(hex[i + 1]));
  }
  return out;
}

// A file's entry: [offset, lines] or, with a fingerprint, [offset, lines,
// fingerprint, stamp in hex]. Readers of older checkpoints ignore the extra
// elements; an entry without them is simply not checked.
nlohmann::json EncodeProgress(const FileProgress& p) {
  nlohmann::json slot = nlohmann::json::array({p.offset, p.lines});
  if (!p.fingerprint.empty()) {
    char stamp[17];
    std::snprintf(stamp, sizeof stamp, "%016llx", static_cast<unsigned long long>(p.stamp));
    slot.push_back(p.fingerprint);
    slot.push_back(stamp);
  }
  return slot;
}

FileProgress DecodeProgress(const nlohmann::json& slot) {
  FileProgress p(slot.at(0).get<uint64_t>(), slot.at(1).get<uint64_t>());
  if (slot.size() >= 4) {
    p.fingerprint = slot.at(2).get<std::string>();
    p.stamp = std::stoull(slot.at(3).get<std::string>(), nullptr, 16);
  }
  return p;
}

}  // namespace
}  // namespace detail

std::string SerializeCheckpoint(const Checkpoint& c) {
  using nlohmann::json;
  json files = json::object();
  json files_hex = json::object();
  for (const auto& [name, p] : c.files) {
    json& slot = IsValidUtf8(name) ? files[name] : files_hex[detail::ToHex(name)];
    slot = detail::EncodeProgress(p);
  }
  json j = {{"version", kCheckpointVersion},
            {"file", c.file ? json(*c.file) : json()},
            {"offset", c.offset},
            {"events_processed", c.model.counters.events_processed},
            {"events_rejected", c.model.counters.events_rejected},
            {"rebuilds", c.rebuilds},
            {"rejected_log_bytes", c.rejected_log_bytes},
            {"world_digest", c.world_digest},
            {"incidents", c.model.incidents.size()},
            {"deployments", c.model.deployments.size()},
            {"files", files},
            {"model", EncodeModel(c.model)}};
  if (!files_hex.empty()) j["files_hex"] = std::move(files_hex);
  if (c.file && !IsValidUtf8(*c.file)) j["file_hex"] = detail::ToHex(*c.file);
  // `file` of a non-UTF-8 name is shown with U+FFFD; file_hex is the truth.
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::optional<Checkpoint> ParseCheckpoint(std::string_view text, std::string* error) {
  using nlohmann::json;
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    if (error) *error = "not a JSON object";
    return std::nullopt;
  }
  try {
    if (j.at("version").get<int>() != kCheckpointVersion) {
      if (error) *error = "unsupported checkpoint version";
      return std::nullopt;
    }
    Checkpoint c;
    if (!j.at("file").is_null()) c.file = j.at("file").get<std::string>();
    if (j.contains("file_hex")) c.file = detail::FromHex(j.at("file_hex").get<std::string>());
    c.offset = j.at("offset").get<uint64_t>();
    for (const auto& [name, p] : j.at("files").items()) {
      c.files[name] = detail::DecodeProgress(p);
    }
    if (j.contains("files_hex")) {
      for (const auto& [hex, p] : j.at("files_hex").items()) {
        c.files[detail::FromHex(hex)] = detail::DecodeProgress(p);
      }
    }
    c.rebuilds = j.at("rebuilds").get<uint64_t>();
    c.rejected_log_bytes = j.at("rejected_log_bytes").get<uint64_t>();
    c.world_digest = j.at("world_digest").get<std::string>();
    std::optional<Model> model = DecodeModel(j.at("model"), error);
    if (!model) return std::nullopt;
    c.model = std::move(*model);
    c.expected_incidents = j.at("incidents").get<uint64_t>();
    c.expected_deployments = j.at("deployments").get<uint64_t>();
    if (j.at("events_processed").get<uint64_t>() != c.model.counters.events_processed) {
      if (error) *error = "events_processed disagrees with the model";
      return std::nullopt;
    }
    return c;
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return std::nullopt;
  }
}

bool AttachHistory(Checkpoint& c, std::string_view incidents_json,
                   std::string_view deployments_json, std::string* error) {
  std::optional<StringMap<IncidentState>> incidents = ReadIncidents(incidents_json, error);
  if (!incidents) return false;
  std::optional<StringMap<DeploymentState>> deployments = ReadDeployments(deployments_json, error);
  if (!deployments) return false;
  if (incidents->size() != c.expected_incidents ||
      deployments->size() != c.expected_deployments) {
    if (error) *error = "the world files hold another number of incidents or deployments";
    return false;
  }
  // Cross-references must hold, or Apply would later trip over them.
  for (const auto& [key, s] : c.model.services) {
    if (s.active_incident.empty()) continue;
    const auto it = incidents->find(s.active_incident);
    if (it == incidents->end() || !it->second.active) {
      if (error) *error = "service " + key + " names an incident that is not active";
      return false;
    }
  }
  c.model.incidents = std::move(*incidents);
  c.model.deployments = std::move(*deployments);
  return true;
}

}  // namespace hlo
