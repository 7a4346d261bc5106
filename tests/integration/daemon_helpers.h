// Helpers for tests of `homelab-observer run` (and of the tools that talk to
// it): child processes that are always killed and reaped, even when a test
// fails half-way; free loopback ports; a tiny HTTP/1.1 client over POSIX
// sockets; a parser for the Prometheus text format; and the daemon itself,
// started on a free port and waited for. Header-only.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <iostream>

#include "tests/integration/process_helpers.h"

namespace hlo::testing {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// The example homelab's clock (examples/homelab/README.md).
inline constexpr char kExampleNow[] = "2026-05-13T09:00:00Z";

inline double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Calls `done` every `step` until it returns true (→ true) or `timeout`
// passes (→ false; `done` is asked one last time).
inline bool WaitUntil(const std::function<bool()>& done, Millis timeout, Millis step = Millis(5)) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(step);
  }
  return done();
}

// A copy of examples/homelab (root and inventory in one) in a fresh TempDir.
inline void CopyExample(const fs::path& to) {
  fs::copy(fs::path(HLO_SOURCE_DIR) / "examples" / "homelab", to,
           fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  // A checkout may hold outputs of an earlier run on the example itself.
  fs::remove_all(to / "world");
  fs::remove(to / "state" / "observer_checkpoint.json");
  fs::remove(to / "state" / "rejected-events.jsonl");
}

// ------------------------------------------------------------ processes ----

namespace detail {

inline void CheckSpawn(int rc, const std::string& what) {
  if (rc != 0) throw std::runtime_error(what + ": " + std::strerror(rc));
}

inline ProcessResult DecodeStatus(int status) {
  ProcessResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

}  // namespace detail

// A child process; stdin from a file (or /dev/null), stdout and stderr to
// files. The destructor SIGKILLs and reaps it if it is still running, so a
// failed assertion never leaves a process behind.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err,
        const std::optional<fs::path>& in = std::nullopt)
      : out_(out), err_(err) {
    posix_spawn_file_actions_t actions;
    detail::CheckSpawn(posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init");
    const std::string in_path = in ? in->string() : "/dev/null";
    posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    detail::CheckSpawn(rc, "posix_spawnp " + argv[0]);
  }
  ~Child() {
    if (!result_) {
      ::kill(pid_, SIGKILL);
      Reap(0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig) const {
    if (!result_) ::kill(pid_, sig);
  }

  // The exit (out and err filled in) once the child has ended within
  // `timeout`; nullopt while it still runs.
  std::optional<ProcessResult> Wait(Millis timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!result_ && !Reap(WNOHANG) && Clock::now() < deadline) {
      std::this_thread::sleep_for(Millis(2));
    }
    return result_;
  }
  bool Running() { return !Wait(Millis(0)); }

  std::string Out() const { return ReadFile(out_).value_or(""); }
  std::string Err() const { return ReadFile(err_).value_or(""); }

 private:
  bool Reap(int flags) {
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid_, &status, flags)) < 0 && errno == EINTR) {
    }
    if (r != pid_) return false;
    ProcessResult result = detail::DecodeStatus(status);
    result.out = Out();
    result.err = Err();
    result_ = std::move(result);
    return true;
  }

  pid_t pid_ = 0;
  fs::path out_, err_;
  std::optional<ProcessResult> result_;
};

// Runs `argv` (argv[0] looked up in PATH when it has no '/') with `input` as
// its stdin, to completion; SIGKILLed and timed_out after `timeout`.
inline ProcessResult RunTool(const std::vector<std::string>& argv, std::string_view input = "",
                             Millis timeout = Millis(30000)) {
  TempDir io;
  const fs::path in = io.Write("stdin", input);
  Child child(argv, io.path() / "stdout", io.path() / "stderr", in);
  if (std::optional<ProcessResult> r = child.Wait(timeout)) return *r;
  child.Signal(SIGKILL);
  ProcessResult r = child.Wait(Millis(5000)).value_or(ProcessResult{});
  r.timed_out = true;
  return r;
}

// ---------------------------------------------------------------- ports ----

// A loopback port that was free a moment ago (bound to port 0, then closed).
// Another process may take it before we do: callers retry on "in use".
inline int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a loopback socket to port 0");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A socket listening on a loopback port for as long as it lives.
class PortBlocker {
 public:
  PortBlocker() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen on a loopback port");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~PortBlocker() { ::close(fd_); }
  PortBlocker(const PortBlocker&) = delete;
  PortBlocker& operator=(const PortBlocker&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// ----------------------------------------------------------------- HTTP ----

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // de-chunked, not decompressed

  std::string Header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

namespace detail {

inline std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

inline std::optional<std::string> Dechunk(std::string_view in) {
  std::string out;
  for (;;) {
    const size_t eol = in.find("\r\n");
    if (eol == std::string_view::npos) return std::nullopt;
    const size_t size = std::stoul(std::string(in.substr(0, eol)), nullptr, 16);
    in.remove_prefix(eol + 2);
    if (size == 0) return out;
    if (in.size() < size + 2) return std::nullopt;
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

}  // namespace detail

// One request to 127.0.0.1:port with `Connection: close`; nullopt when the
// connection fails, times out or the response does not parse.
inline std::optional<HttpResponse> Http(int port, const std::string& method,
                                        const std::string& target,
                                        const std::vector<std::string>& headers = {},
                                        Millis timeout = Millis(5000),
                                        const std::string& body = "") {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  std::string request = method + " " + target +
                        " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nConnection: close\r\n";
  for (const std::string& h : headers) request += h + "\r\n";
  if (method == "POST" || !body.empty()) {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  std::string raw;
  bool ok = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size());
  char buf[1 << 16];
  for (ssize_t n; ok && (n = ::recv(fd, buf, sizeof buf, 0)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      ok = false;
    else
      raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t head_end = raw.find("\r\n\r\n");
  if (!ok || head_end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0) return std::nullopt;

  HttpResponse response;
  std::istringstream head(raw.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  const size_t space = line.find(' ');
  if (space == std::string::npos) return std::nullopt;
  response.status = std::atoi(line.c_str() + space + 1);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const size_t value = line.find_first_not_of(' ', colon + 1);
    response.headers[detail::Lower(line.substr(0, colon))] =
        value == std::string::npos ? "" : line.substr(value);
  }
  response.body = raw.substr(head_end + 4);
  if (detail::Lower(response.Header("transfer-encoding")) == "chunked") {
    std::optional<std::string> body = detail::Dechunk(response.body);
    if (!body) return std::nullopt;
    response.body = std::move(*body);
  } else if (!response.Header("content-length").empty() && method != "HEAD") {
    const size_t length = std::stoul(response.Header("content-length"));
    if (response.body.size() < length) return std::nullopt;
    response.body.resize(length);
  }
  return response;
}

// Percent-encodes everything but RFC 3986's unreserved characters.
inline std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// ----------------------------------------------------------- exposition ----

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// The samples of a Prometheus text-format exposition (comments skipped,
// label values unescaped). Throws std::runtime_error on a line it cannot
// read.
inline std::vector<Sample> ParseExposition(std::string_view text) {
  std::vector<Sample> samples;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    size_t i = line.find_first_of("{ ");
    if (i == std::string::npos) throw std::runtime_error("bad sample line: " + line);
    s.name = line.substr(0, i);
    if (line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const size_t eq = line.find("=\"", i);
        if (eq == std::string::npos) throw std::runtime_error("bad labels: " + line);
        const std::string key = line.substr(i, eq - i);
        std::string value;
        for (i = eq + 2; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\' && i + 1 < line.size()) {
            ++i;
            value += line[i] == 'n' ? '\n' : line[i];
          } else {
            value += line[i];
          }
        }
        s.labels[key] = value;
        i += 1;  // the closing quote
        if (i < line.size() && line[i] == ',') ++i;
      }
      i += 1;  // '}'
    }
    s.value = std::strtod(line.c_str() + i, nullptr);
    samples.push_back(std::move(s));
  }
  return samples;
}

// The value of the series `name` with exactly `labels`; nullopt if absent.
inline std::optional<double> Value(const std::vector<Sample>& samples, const std::string& name,
                                   const std::map<std::string, std::string>& labels = {}) {
  for (const Sample& s : samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

// The sum of the series `name` whose labels include `subset` (e.g.
// homelab_observer_rebuilds_total over all its reasons); nullopt when there
// is no such series at all, so that a metric that vanished is not read as 0.
inline std::optional<double> Sum(const std::vector<Sample>& samples, const std::string& name,
                                 const std::map<std::string, std::string>& subset = {}) {
  std::optional<double> sum;
  for (const Sample& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : subset) {
      const auto it = s.labels.find(k);
      match = match && it != s.labels.end() && it->second == v;
    }
    if (match) sum = sum.value_or(0) + s.value;
  }
  return sum;
}

// How many series `name` has whose labels include `subset`.
inline size_t CountSeries(const std::vector<Sample>& samples, const std::string& name,
                          const std::map<std::string, std::string>& subset = {}) {
  return static_cast<size_t>(std::count_if(samples.begin(), samples.end(), [&](const Sample& s) {
    if (s.name != name) return false;
    for (const auto& [k, v] : subset) {
      const auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) return false;
    }
    return true;
  }));
}

// --------------------------------------------------------------- daemon ----

// `homelab-observer run --root ROOT --now NOW --web.listen-address
// 127.0.0.1:<free port>` plus `extra`, started by Start() and SIGKILLed by
// the destructor unless Stop() ended it first. Its stdout and stderr go to
// files in a TempDir of its own.
class DaemonProcess {
 public:
  // `now`: the daemon's --now; "" runs it on the real clock.
  explicit DaemonProcess(fs::path root, std::vector<std::string> extra = {},
                         std::string now = kExampleNow)
      : root_(std::move(root)), extra_(std::move(extra)), now_(std::move(now)) {}

  // Kills the daemon, then fails the test if any of its runs reported a
  // sanitizer finding (a sanitizer build prints them on stderr).
  ~DaemonProcess() {
    child_.reset();
    for (int i = 1; i <= starts_; ++i) {
      const std::string err = ReadFile(logs_.path() / ("stderr-" + std::to_string(i))).value_or("");
      for (const char* marker : {"AddressSanitizer", "LeakSanitizer", "runtime error:"}) {
        if (err.find(marker) != std::string::npos) {
          ADD_FAILURE() << "run " << i << " of the daemon reported " << marker << ":\n" << err;
          break;
        }
      }
    }
  }
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Starts the daemon and waits until it answers /readyz with 200 (or, when
  // `wait_ready` is false, until it answers HTTP at all). Retries on another
  // port when the one picked was taken meanwhile. "" on success, else what
  // went wrong (with the daemon's stderr).
  std::string Start(bool wait_ready = true, Millis timeout = Millis(20000)) {
    std::string why;
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = FreePort();
      std::vector<std::string> argv = {HLO_BINARY, "run", "--root", root_.string(),
                                       "--web.listen-address",
                                       "127.0.0.1:" + std::to_string(port_)};
      if (!now_.empty()) argv.insert(argv.end(), {"--now", now_});  // "": the real clock
      argv.insert(argv.end(), extra_.begin(), extra_.end());
      ++starts_;
      const std::string tag = std::to_string(starts_);
      child_.reset();
      child_ = std::make_unique<Child>(argv, logs_.path() / ("stdout-" + tag),
                                       logs_.path() / ("stderr-" + tag));
      started_at_ = Clock::now();
      bool answered = false;
      WaitUntil(
          [&] {
            if (!child_->Running()) return true;
            const auto r =
                Http(port_, "GET", wait_ready ? "/readyz" : "/healthz", {}, Millis(1000));
            answered = r && r->status == 200;
            return answered;
          },
          timeout, Millis(2));
      if (answered) return "";
      if (child_->Running()) return "the daemon did not get ready in time; stderr:\n" + Err();
      why = "the daemon exited early: " + Err();
      if (Err().find("in use") == std::string::npos) return why;
    }
    return why;
  }

  // Sends `sig` and waits for the exit; the result, and in *millis how long
  // the exit took. A daemon still running after `timeout` is SIGKILLed and
  // reported as timed_out.
  ProcessResult Stop(int sig = SIGTERM, Millis timeout = Millis(10000), double* millis = nullptr) {
    const auto start = Clock::now();
    child_->Signal(sig);
    std::optional<ProcessResult> r = child_->Wait(timeout);
    if (millis) *millis = MillisSince(start);
    if (r) return *r;
    child_->Signal(SIGKILL);
    ProcessResult killed = child_->Wait(Millis(5000)).value_or(ProcessResult{});
    killed.timed_out = true;
    return killed;
  }

  int port() const { return port_; }
  void Signal(int sig) const {
    if (child_) child_->Signal(sig);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  bool Running() { return child_ && child_->Running(); }
  std::string Err() const { return child_ ? child_->Err() : ""; }
  Clock::time_point started_at() const { return started_at_; }

  // GET /metrics; "" when the request fails or is not a 200.
  std::string MetricsText(const std::string& path = "/metrics") const {
    const auto r = Http(port_, "GET", path);
    return r && r->status == 200 ? r->body : "";
  }
  std::vector<Sample> Metrics() const { return ParseExposition(MetricsText()); }

  // Polls /metrics until `done` holds (→ true) or `timeout` passes.
  bool WaitForMetrics(const std::function<bool(const std::vector<Sample>&)>& done,
                      Millis timeout = Millis(5000), Millis step = Millis(2)) const {
    return WaitUntil([&] { return done(Metrics()); }, timeout, step);
  }

 private:
  fs::path root_;
  std::vector<std::string> extra_;
  std::string now_;
  TempDir logs_;
  int port_ = 0;
  int starts_ = 0;
  Clock::time_point started_at_;
  std::unique_ptr<Child> child_;
};

// "" when `root`'s world files are byte-identical to those of a single
// `once --now NOW` over a fresh copy of the example whose events/ and
// state/stages/ are replaced by `root`'s (inventory = the copy itself); else
// what differs.
inline std::string DifferenceFromExampleOnce(const fs::path& root,
                                             const std::string& now = kExampleNow) {
  TempDir clean;
  const fs::path home = clean.path() / "homelab";
  CopyExample(home);
  fs::remove_all(home / "events");
  fs::copy(root / "events", home / "events", fs::copy_options::recursive);
  fs::remove_all(home / "state" / "stages");
  if (fs::exists(root / "state" / "stages")) {
    fs::copy(root / "state" / "stages", home / "state" / "stages", fs::copy_options::recursive);
  }
  const ProcessResult r = RunTool(
      {HLO_BINARY, "once", "--root", home.string(), "--inventory", home.string(), "--now", now});
  if (r.exit_code != 0) return "clean once failed: " + r.err;
  std::string diff = WorldDifference(home, root);
  const std::string rejected =
      FirstDifference(ReadFile(home / "state" / "rejected-events.jsonl").value_or(""),
                      ReadFile(root / "state" / "rejected-events.jsonl").value_or(""));
  if (!rejected.empty()) diff += "rejected-events.jsonl: " + rejected + "\n";
  return diff;
}

}  // namespace hlo::testing
