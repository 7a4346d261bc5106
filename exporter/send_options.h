// What `homelab-observer send` takes from the command line (cli.cc fills it
// in Config::send). Defaults are the documented ones (docs/operations.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace hlo {

struct SendOptions {
  // --url: the observer's POST /api/v1/events, or its base URL (the path is
  // appended when missing). Required.
  std::string url;
  // --user and --password-file: basic auth; the password is read from the
  // file (first line, without its newline), never taken as a flag value.
  std::string user;
  std::optional<std::filesystem::path> password_file;
  // --ca-file: a PEM bundle to verify the observer's certificate with
  // (default: the system's).
  std::string ca_file;
  // --spool: append the input to this folder first, then drain it.
  std::optional<std::filesystem::path> spool;
  // --timeout: one request, connect to last byte of the answer. Default 30s.
  std::chrono::milliseconds timeout{30000};
  // --retries: attempts after the first, per batch. Default 8.
  int retries = 8;
  // --batch.max-events, --batch.max-bytes: the most per POST.
  size_t batch_events = 1000;
  size_t batch_bytes = 1 << 20;
  // FILE, or "-" for stdin. Without one: stdin, or nothing with --spool
  // (drain only: the cron/timer use).
  std::optional<std::string> input;
  // --drain-only: with --spool, read no input at all.
  bool drain_only = false;
};

}  // namespace hlo
