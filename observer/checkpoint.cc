#include "observer/checkpoint.h"

#include <cstdio>
#include <stdexcept>

#include <simdjson.h>

#include "observer/event_parser.h"
#include "observer/json_writer.h"
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
void WriteProgress(JsonWriter& out, const FileProgress& p) {
  out.BeginArray();
  out.Uint(p.offset);
  out.Uint(p.lines);
  if (!p.fingerprint.empty()) {
    char stamp[17];
    std::snprintf(stamp, sizeof stamp, "%016llx", static_cast<unsigned long long>(p.stamp));
    out.String(p.fingerprint);
    out.String(stamp);
  }
  out.EndArray();
}

// One of `files` keyed by name (the UTF-8 names) or by hex (the others).
// Hex keeps the byte order of names, so both come out sorted.
void WriteFiles(JsonWriter& out, const std::map<std::string, FileProgress>& files, bool utf8) {
  out.BeginObject();
  for (const auto& [name, p] : files) {
    if (IsValidUtf8(name) != utf8) continue;
    out.Key(utf8 ? name : ToHex(name));
    WriteProgress(out, p);
  }
  out.EndObject();
}

// What is wrong with the checkpoint; thrown on the way down, caught by
// ParseCheckpoint.
[[noreturn]] void Refuse(const std::string& what) { throw std::invalid_argument(what); }

simdjson::dom::element At(simdjson::dom::object object, std::string_view key) {
  simdjson::dom::element value;
  if (object.at_key(key).get(value) != simdjson::SUCCESS) {
    Refuse("missing field '" + std::string(key) + "'");
  }
  return value;
}

template <class T>
T As(simdjson::dom::element value, std::string_view what) {
  T out;
  if (value.get(out) != simdjson::SUCCESS) Refuse("'" + std::string(what) + "' is mistyped");
  return out;
}

uint64_t ParseStamp(std::string_view hex) {
  if (hex.empty() || hex.size() > 16) Refuse("bad stamp in a file entry");
  uint64_t stamp = 0;
  for (const char c : hex) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0) Refuse("bad stamp in a file entry");
    stamp = stamp << 4 | static_cast<uint64_t>(digit);
  }
  return stamp;
}

FileProgress ReadProgress(simdjson::dom::element slot) {
  simdjson::dom::element items[4];
  size_t n = 0;
  for (const simdjson::dom::element item : As<simdjson::dom::array>(slot, "files")) {
    if (n < 4) items[n] = item;
    ++n;
  }
  if (n < 2) Refuse("a file entry is too short");
  FileProgress p(As<uint64_t>(items[0], "files"), As<uint64_t>(items[1], "files"));
  if (n >= 4) {
    p.fingerprint = std::string(As<std::string_view>(items[2], "files"));
    p.stamp = ParseStamp(As<std::string_view>(items[3], "files"));
  }
  return p;
}

// Entries come sorted (see WriteFiles), so each is placed at the end without
// a search; a hand-sorted file would only be slower.
void ReadFiles(simdjson::dom::element value, bool hex, std::map<std::string, FileProgress>& files) {
  for (const simdjson::dom::key_value_pair entry : As<simdjson::dom::object>(value, "files")) {
    std::string name = hex ? FromHex(entry.key) : std::string(entry.key);
    files.insert_or_assign(files.end(), std::move(name), ReadProgress(entry.value));
  }
}

}  // namespace
}  // namespace detail

std::string SerializeCheckpoint(const Checkpoint& c) {
  bool any_hex = c.file && !IsValidUtf8(*c.file);
  for (const auto& [name, p] : c.files) any_hex = any_hex || !IsValidUtf8(name);
  JsonWriter out(JsonWriter::Style::kCompact);
  out.BeginObject();  // keys in sorted order, as JsonWriter needs them
  out.KeyUint("deployments", c.model.deployments.size());
  out.KeyUint("events_processed", c.model.counters.events_processed);
  out.KeyUint("events_rejected", c.model.counters.events_rejected);
  // `file` of a non-UTF-8 name is shown with U+FFFD; file_hex is the truth.
  out.Key("file");
  if (c.file) {
    out.String(*c.file);
  } else {
    out.Null();
  }
  if (c.file && !IsValidUtf8(*c.file)) out.KeyString("file_hex", detail::ToHex(*c.file));
  out.Key("files");
  detail::WriteFiles(out, c.files, /*utf8=*/true);
  if (any_hex) {
    out.Key("files_hex");
    detail::WriteFiles(out, c.files, /*utf8=*/false);
  }
  out.KeyUint("incidents", c.model.incidents.size());
  out.Key("model");
  WriteModel(out, c.model);
  out.KeyUint("offset", c.offset);
  out.KeyUint("rebuilds", c.rebuilds);
  out.KeyUint("rejected_log_bytes", c.rejected_log_bytes);
  out.Key("version");
  out.Int(kCheckpointVersion);
  out.KeyString("world_digest", c.world_digest);
  out.EndObject();
  out.Finish("\n");
  return out.Take();
}

std::optional<Checkpoint> ParseCheckpoint(std::string_view text, std::string* error) {
  using detail::As;
  using detail::At;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object j;
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS ||
      root.get(j) != simdjson::SUCCESS) {
    if (error) *error = "not a JSON object";
    return std::nullopt;
  }
  try {
    int64_t version = 0;
    if (At(j, "version").get(version) != simdjson::SUCCESS || version != kCheckpointVersion) {
      if (error) *error = "unsupported checkpoint version";
      return std::nullopt;
    }
    Checkpoint c;
    const simdjson::dom::element file = At(j, "file");
    if (!file.is_null()) c.file = std::string(As<std::string_view>(file, "file"));
    simdjson::dom::element file_hex;
    if (j.at_key("file_hex").get(file_hex) == simdjson::SUCCESS) {
      c.file = detail::FromHex(As<std::string_view>(file_hex, "file_hex"));
    }
    c.offset = As<uint64_t>(At(j, "offset"), "offset");
    detail::ReadFiles(At(j, "files"), /*hex=*/false, c.files);
    simdjson::dom::element files_hex;
    if (j.at_key("files_hex").get(files_hex) == simdjson::SUCCESS) {
      detail::ReadFiles(files_hex, /*hex=*/true, c.files);
    }
    c.rebuilds = As<uint64_t>(At(j, "rebuilds"), "rebuilds");
    c.rejected_log_bytes = As<uint64_t>(At(j, "rejected_log_bytes"), "rejected_log_bytes");
    c.world_digest = std::string(As<std::string_view>(At(j, "world_digest"), "world_digest"));
    std::optional<Model> model = ReadModel(At(j, "model"), error);
    if (!model) return std::nullopt;
    c.model = std::move(*model);
    c.expected_incidents = As<uint64_t>(At(j, "incidents"), "incidents");
    c.expected_deployments = As<uint64_t>(At(j, "deployments"), "deployments");
    if (As<uint64_t>(At(j, "events_processed"), "events_processed") !=
        c.model.counters.events_processed) {
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
