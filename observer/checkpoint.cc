#include "observer/checkpoint.h"

#include <cstdio>
#include <stdexcept>

#include <simdjson.h>

#include "observer/event_parser.h"
#include "observer/json_writer.h"
#include "observer/model_codec.h"
#include "observer/world_reader.h"
#include "observer/world_serializer.h"
#include "observer/world_snapshot.h"

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

// The window's events: [time, file (hex), line, type, node, service,
// correlation_id, severity or null, stage, [diagnostics]].
void WriteTimedEvent(JsonWriter& out, const TimedEvent& t) {
  const Event& e = t.event;
  out.BeginArray();
  out.String(FormatTimestamp(t.key.timestamp));
  out.String(ToHex(t.key.file));
  out.Uint(t.key.line);
  out.String(EventTypeName(e.type));
  out.String(e.node);
  out.String(e.service);
  out.String(e.correlation_id);
  if (e.severity) {
    out.String(SeverityName(*e.severity));
  } else {
    out.Null();
  }
  out.String(e.stage);
  out.BeginArray();
  for (const std::string& d : e.diagnostics) out.String(d);
  out.EndArray();
  out.String(e.id);
  out.EndArray();
}

Timestamp ReadTime(simdjson::dom::element value) {
  std::optional<Timestamp> t = ParseTimestamp(As<std::string_view>(value, "window"));
  if (!t) Refuse("bad time in the window");
  return *t;
}

TimedEvent ReadTimedEvent(simdjson::dom::element value) {
  std::vector<simdjson::dom::element> f;
  for (simdjson::dom::element item : As<simdjson::dom::array>(value, "window")) f.push_back(item);
  if (f.size() != 11) Refuse("a window event has another shape");
  TimedEvent t;
  t.key.timestamp = ReadTime(f[0]);
  t.key.file = FromHex(As<std::string_view>(f[1], "window"));
  t.key.line = As<uint64_t>(f[2], "window");
  Event& e = t.event;
  e.timestamp = t.key.timestamp;
  e.type = EventTypeFromName(As<std::string_view>(f[3], "window"));
  e.node = std::string(As<std::string_view>(f[4], "window"));
  e.service = std::string(As<std::string_view>(f[5], "window"));
  e.correlation_id = std::string(As<std::string_view>(f[6], "window"));
  if (!f[7].is_null()) {
    e.severity = SeverityFromName(As<std::string_view>(f[7], "window"));
    if (!e.severity) Refuse("bad severity in the window");
  }
  e.stage = std::string(As<std::string_view>(f[8], "window"));
  for (simdjson::dom::element d : As<simdjson::dom::array>(f[9], "window")) {
    e.diagnostics.emplace_back(As<std::string_view>(d, "window"));
  }
  e.id = std::string(As<std::string_view>(f[10], "window"));
  return t;
}

std::string HistoryText(size_t index, const Model& model) {
  JsonWriter w(JsonWriter::Style::kCompact);
  WriteWorldFile(index, WorldSnapshot{}, model, w);
  return w.Take();
}

void WriteWindow(JsonWriter& out, const Checkpoint::Window& w) {
  out.BeginObject();
  out.Key("absent");
  out.BeginArray();
  for (const auto& [kind, key] : w.absent) {
    out.BeginArray();
    out.Uint(static_cast<uint64_t>(kind));
    out.String(ToHex(key));
    out.EndArray();
  }
  out.EndArray();
  out.Key("added_ids");
  out.BeginArray();
  for (const std::string& id : w.added_ids) out.String(id);
  out.EndArray();
  out.Key("before");
  WriteModel(out, w.before);
  out.KeyString("before_deployments", HistoryText(0, w.before));
  out.KeyString("before_incidents", HistoryText(1, w.before));
  out.Key("events");
  out.BeginArray();
  for (const TimedEvent& e : w.events) WriteTimedEvent(out, e);
  out.EndArray();
  out.Key("floor");
  if (w.floor) {
    out.BeginArray();
    out.String(FormatTimestamp(w.floor->timestamp));
    out.String(ToHex(w.floor->file));
    out.Uint(w.floor->line);
    out.EndArray();
  } else {
    out.Null();
  }
  out.EndObject();
}

Checkpoint::Window ReadWindow(simdjson::dom::element value, std::string* error) {
  const simdjson::dom::object j = As<simdjson::dom::object>(value, "window");
  Checkpoint::Window w;
  for (simdjson::dom::element item : As<simdjson::dom::array>(At(j, "absent"), "absent")) {
    std::vector<simdjson::dom::element> f;
    for (simdjson::dom::element x : As<simdjson::dom::array>(item, "absent")) f.push_back(x);
    if (f.size() != 2) Refuse("bad absent entry");
    const uint64_t kind = As<uint64_t>(f[0], "absent");
    if (kind > static_cast<uint64_t>(UndoStep::Kind::kDeployment)) Refuse("bad absent kind");
    w.absent.emplace_back(static_cast<UndoStep::Kind>(kind),
                          FromHex(As<std::string_view>(f[1], "absent")));
  }
  for (simdjson::dom::element id : As<simdjson::dom::array>(At(j, "added_ids"), "added_ids")) {
    w.added_ids.emplace_back(As<std::string_view>(id, "added_ids"));
  }
  std::optional<Model> before = ReadModel(At(j, "before"), error);
  if (!before) Refuse(error ? *error : "bad window model");
  w.before = std::move(*before);
  std::optional<StringMap<DeploymentState>> deployments = ReadDeployments(
      As<std::string_view>(At(j, "before_deployments"), "before_deployments"), error);
  std::optional<StringMap<IncidentState>> incidents = ReadIncidents(
      As<std::string_view>(At(j, "before_incidents"), "before_incidents"), error);
  if (!deployments || !incidents) Refuse("bad window history");
  w.before.deployments = std::move(*deployments);
  w.before.incidents = std::move(*incidents);
  for (simdjson::dom::element e : As<simdjson::dom::array>(At(j, "events"), "events")) {
    w.events.push_back(ReadTimedEvent(e));
  }
  const simdjson::dom::element floor = At(j, "floor");
  if (!floor.is_null()) {
    std::vector<simdjson::dom::element> f;
    for (simdjson::dom::element x : As<simdjson::dom::array>(floor, "floor")) f.push_back(x);
    if (f.size() != 3) Refuse("bad floor");
    w.floor = OrderKey{ReadTime(f[0]), FromHex(As<std::string_view>(f[1], "floor")),
                       As<uint64_t>(f[2], "floor")};
  }
  return w;
}

void WriteCounts(JsonWriter& out, const std::map<std::string, uint64_t, std::less<>>& counts,
                 bool hex) {
  out.BeginArray();
  for (const auto& [name, n] : counts) {
    out.BeginArray();
    out.String(hex ? ToHex(name) : name);
    out.Uint(n);
    out.EndArray();
  }
  out.EndArray();
}

void ReadCounts(simdjson::dom::element value, bool hex,
                std::map<std::string, uint64_t, std::less<>>& counts) {
  for (simdjson::dom::element item : As<simdjson::dom::array>(value, "counts")) {
    std::vector<simdjson::dom::element> f;
    for (simdjson::dom::element x : As<simdjson::dom::array>(item, "counts")) f.push_back(x);
    if (f.size() != 2) Refuse("bad count entry");
    const std::string_view name = As<std::string_view>(f[0], "counts");
    counts[hex ? FromHex(name) : std::string(name)] = As<uint64_t>(f[1], "counts");
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
  out.KeyUint("event_ids_bytes", c.event_ids.bytes);
  out.KeyUint("event_ids_count", c.event_ids.count);
  out.KeyUint("event_ids_hash", c.event_ids.hash);
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
  out.Key("flap");
  out.BeginArray();
  out.Int(c.flap.high);
  out.Int(c.flap.low);
  out.EndArray();
  out.Key("history");
  WriteArchiveState(out, c.archive, c.model);
  out.KeyUint("incidents", c.model.incidents.size());
  out.Key("late_events");  // by file name, in hex
  detail::WriteCounts(out, c.late_events, /*hex=*/true);
  out.Key("model");
  WriteModel(out, c.model);
  out.KeyUint("offset", c.offset);
  out.KeyUint("rebuilds", c.rebuilds);
  out.Key("rebuilds_by_reason");
  detail::WriteCounts(out, c.rebuilds_by_reason, /*hex=*/false);
  out.Key("rejected_last");
  if (c.rejected_log.last) {
    out.BeginArray();
    out.String(detail::ToHex(c.rejected_log.last->first));
    out.Uint(c.rejected_log.last->second);
    out.EndArray();
  } else {
    out.Null();
  }
  out.KeyUint("rejected_log_bytes", c.rejected_log.bytes);
  out.KeyUint("rejected_log_hash", c.rejected_log.hash);
  out.Key("replay_due");
  out.Bool(c.replay_due);
  out.Key("version");
  out.Int(kCheckpointVersion);
  out.Key("window");
  detail::WriteWindow(out, c.window);
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
    c.event_ids.bytes = As<uint64_t>(At(j, "event_ids_bytes"), "event_ids_bytes");
    c.event_ids.count = As<uint64_t>(At(j, "event_ids_count"), "event_ids_count");
    c.event_ids.hash = As<uint64_t>(At(j, "event_ids_hash"), "event_ids_hash");
    c.rejected_log.bytes = As<uint64_t>(At(j, "rejected_log_bytes"), "rejected_log_bytes");
    c.rejected_log.hash = As<uint64_t>(At(j, "rejected_log_hash"), "rejected_log_hash");
    detail::ReadCounts(At(j, "rebuilds_by_reason"), /*hex=*/false, c.rebuilds_by_reason);
    detail::ReadCounts(At(j, "late_events"), /*hex=*/true, c.late_events);
    c.replay_due = As<bool>(At(j, "replay_due"), "replay_due");
    {
      std::vector<int64_t> flap;
      for (simdjson::dom::element x : As<simdjson::dom::array>(At(j, "flap"), "flap")) {
        flap.push_back(As<int64_t>(x, "flap"));
      }
      if (flap.size() != 2 || flap[0] < 0 || flap[0] > 100 || flap[1] < 0 || flap[1] > 100) {
        detail::Refuse("bad flap");
      }
      c.flap = {static_cast<int>(flap[0]), static_cast<int>(flap[1])};
    }
    const simdjson::dom::element last = At(j, "rejected_last");
    if (!last.is_null()) {
      std::vector<simdjson::dom::element> f;
      for (simdjson::dom::element x : As<simdjson::dom::array>(last, "rejected_last")) {
        f.push_back(x);
      }
      if (f.size() != 2) detail::Refuse("bad rejected_last");
      c.rejected_log.last = std::pair<std::string, uint64_t>(
          detail::FromHex(As<std::string_view>(f[0], "rejected_last")),
          As<uint64_t>(f[1], "rejected_last"));
    }
    c.window = detail::ReadWindow(At(j, "window"), error);
    c.world_digest = std::string(As<std::string_view>(At(j, "world_digest"), "world_digest"));
    std::optional<Model> model = ReadModel(At(j, "model"), error);
    if (!model) return std::nullopt;
    c.model = std::move(*model);
    if (!ReadArchiveState(At(j, "history"), &c.archive, &c.model, error)) return std::nullopt;
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
