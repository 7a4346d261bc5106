// `homelab-observer send`: input → events with ids → (spool) → batches
// posted to the observer. The parts: send_input.h (parsing, ids), spool.h,
// event_sender.h (batching, retries), http_client.h (libcurl).
#include <signal.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "exporter/commands.h"
#include "exporter/event_sender.h"
#include "exporter/http_client.h"
#include "exporter/send_input.h"
#include "exporter/spool.h"

namespace hlo {
namespace detail {
namespace {

constexpr size_t kMaxRejectedShown = 50;

bool ReadInput(const std::string& name, std::string* text, std::string* error) {
  if (name == "-") {
    text->assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (std::cin.bad()) *error = "cannot read stdin";
    return !std::cin.bad();
  }
  std::ifstream in(name, std::ios::binary);
  if (!in) {
    *error = "cannot open " + name;
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  *text = s.str();
  return true;
}

bool ReadPassword(const std::filesystem::path& path, std::string* password, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read the password file " + path.string();
    return false;
  }
  std::getline(in, *password);
  if (!password->empty() && password->back() == '\r') password->pop_back();
  return true;
}

// Waits for the spool's drain lock: another sender may be draining it (a
// timer's run overlapping this one). It finishes within its retries.
bool LockSpool(Spool& spool, const std::string& dir, std::string* error) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  bool told = false;
  while (!spool.TryLockForDrain(error)) {
    if (error->rfind("another sender", 0) != 0) return false;
    if (std::chrono::steady_clock::now() > give_up) return false;
    if (!told) {
      std::cerr << "send: waiting for another sender draining " << dir << "\n";
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace
}  // namespace detail

int RunSend(const Config& config) {
  const SendOptions& options = config.send;
  ::signal(SIGPIPE, SIG_IGN);
  HttpClientOptions http;
  http.user = options.user;
  http.ca_file = options.ca_file;
  http.timeout = options.timeout;
  http.connect_timeout = std::min(options.timeout, std::chrono::milliseconds(10000));
  std::string error;
  if (options.password_file && !detail::ReadPassword(*options.password_file, &http.password, &error)) {
    std::cerr << "send: " << error << "\n";
    return 2;
  }

  // The input: FILE, "-", or stdin when there is neither FILE nor spool.
  std::optional<std::string> input_name = options.input;
  if (!input_name && !options.spool && !options.drain_only) input_name = "-";
  SendInput input;
  if (input_name) {
    std::string text;
    if (!detail::ReadInput(*input_name, &text, &error)) {
      std::cerr << "send: " << error << "\n";
      return 1;
    }
    input = ParseSendInput(text, RandomEventId);
  }
  const std::string shown_name = input_name && *input_name != "-" ? *input_name : "stdin";
  for (const SendInputProblem& p : input.problems) {
    std::cerr << "send: " << shown_name << ":" << p.line << ": " << p.reason << ": " << p.detail
              << " (not sent)\n";
  }
  // Where each event came from, to report rejections by input line.
  std::unordered_map<std::string, uint64_t> line_of;
  std::unique_ptr<Spool> spool;
  std::unique_ptr<Outbox> outbox;
  if (options.spool) {
    spool = Spool::Open(*options.spool, &error);
    if (!spool) {
      std::cerr << "send: " << error << "\n";
      return 1;
    }
    std::vector<std::string> lines;
    lines.reserve(input.events.size());
    for (const SendEvent& e : input.events) {
      lines.push_back(e.json);
      line_of.emplace(e.json, e.line);
    }
    if (!spool->Append(lines, &error)) {
      std::cerr << "send: cannot spool the events: " << error << "\n";
      return 1;
    }
    if (!detail::LockSpool(*spool, options.spool->string(), &error)) {
      std::cerr << "send: " << error << "; the events are spooled in " << options.spool->string()
                << " for the next run\n";
      return 1;
    }
    outbox = std::make_unique<SpoolOutbox>(*spool);
  } else {
    std::vector<SpooledEvent> events;
    events.reserve(input.events.size());
    for (SendEvent& e : input.events) {
      events.push_back({std::move(e.json), shown_name + ":" + std::to_string(e.line)});
    }
    outbox = std::make_unique<MemoryOutbox>(std::move(events));
  }

  const std::unique_ptr<HttpClient> client = MakeCurlHttpClient(http);
  SenderOptions sender_options;
  sender_options.batch_events = options.batch_events;
  sender_options.batch_bytes = options.batch_bytes;
  sender_options.retries = options.retries;
  Sender sender(*client, EventsEndpoint(options.url), sender_options,
                [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); },
                std::hash<std::string>()(RandomEventId()));
  const SendReport report = sender.Run(*outbox);

  for (const std::string& w : report.warnings) std::cerr << "send: warning: " << w << "\n";
  size_t shown = 0;
  for (const SendReport::Rejected& r : report.rejected) {
    if (++shown > detail::kMaxRejectedShown) break;
    std::string origin = r.origin;
    if (const auto it = line_of.find(r.event); it != line_of.end()) {
      origin = shown_name + ":" + std::to_string(it->second);
    }
    std::cerr << "send: " << origin << ": " << r.reason << (r.detail.empty() ? "" : ": ")
              << r.detail << "\n";
  }
  if (report.rejected.size() > detail::kMaxRejectedShown) {
    std::cerr << "send: ... and " << report.rejected.size() - detail::kMaxRejectedShown
              << " more rejected\n";
  }
  if (!report.failure.empty()) std::cerr << "send: " << report.failure << "\n";
  const uint64_t left = outbox->Remaining();
  std::cerr << "send: " << input.events.size() + input.problems.size() << " read, "
            << report.accepted << " accepted, " << report.duplicates << " duplicates, "
            << report.rejected.size() + input.problems.size() << " rejected, " << left
            << (spool ? " left in the spool" : " not delivered") << " (" << report.batches
            << " batches, " << report.retries << " retries)\n";
  const bool ok = report.failure.empty() && report.rejected.empty() && input.problems.empty() &&
                  left == 0;
  return ok ? 0 : 1;
}

}  // namespace hlo
