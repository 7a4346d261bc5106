// The inverse of SerializeWorld for incidents.json and deployments.json
// (CONTRACT §5): the model's incidents and deployments read back from the
// world files, so that the checkpoint need not store them again.
//
// Exact: for every model m that Apply built, reading the files SerializeWorld
// wrote for m gives maps == m.incidents and m.deployments. (Apply's strings
// come from parsed events, so they are valid UTF-8; the serializer would
// replace invalid UTF-8 with U+FFFD, which no reader can undo.)
// `duration_seconds` is derived: it must be present (a number or null), but
// its value is not read.
//
// Strict: anything the serializer would not have written — not JSON, a
// missing, unknown or repeated field, a wrong type, an unknown status or
// severity, a bad timestamp, "" where the serializer writes null, more than
// kMaxIncidentEvents events, a status that disagrees with resolved_at, or an
// entry whose key differs from its id / correlation_id — gives nullopt and a
// short reason in *error (when error is not null). Callers then replay from
// zero rather than trust the file.
//
// Pure: no I/O; no exception other than std::bad_alloc leaves these functions.
// The text is copied once into simdjson's padded buffer; it need not outlive
// the call.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "observer/model.h"

namespace hlo {

std::optional<StringMap<IncidentState>> ReadIncidents(std::string_view incidents_json,
                                                      std::string* error);

std::optional<StringMap<DeploymentState>> ReadDeployments(std::string_view deployments_json,
                                                          std::string* error);

}  // namespace hlo
