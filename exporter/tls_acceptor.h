// What every TLS handshake of the HTTP server goes through, on top of the
// contexts tls_context.h builds:
//
//  - The context in use can be replaced while the server runs (SIGHUP, a
//    renewed certificate): civetweb keeps the SSL_CTX it was started with,
//    and each new handshake moves to the current one as soon as its
//    ClientHello has arrived, taking its certificate chain, key, TLS versions
//    and client-certificate policy. Connections already established keep
//    the context they were made with until they close.
//  - A handshake has a deadline. civetweb does the handshake on one of its
//    worker threads and only gives up after request_timeout_ms without
//    progress at each step, so a client that sends three bytes of a
//    ClientHello and waits holds a thread for that long. When the deadline
//    passes, the connection's socket is shut down and civetweb's SSL_accept
//    fails at once, freeing the thread.
//
// OpenSSL stays out of this header.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "exporter/tls_context.h"

struct ssl_st;  // OpenSSL's SSL

namespace hlo {

class TlsAcceptor {
 public:
  // Starts the thread that enforces `handshake_timeout`.
  explicit TlsAcceptor(std::chrono::milliseconds handshake_timeout);
  // Stops that thread. Must outlive every connection of the contexts given
  // to Adopt (HttpServer destroys civetweb first).
  ~TlsAcceptor();
  TlsAcceptor(const TlsAcceptor&) = delete;
  TlsAcceptor& operator=(const TlsAcceptor&) = delete;

  // Installs this acceptor's callbacks in `ctx` and makes it the context new
  // handshakes use. Returns the context (another reference to it) for
  // whoever else needs it: the first one goes to civetweb. Thread-safe.
  SslCtxPtr Adopt(SslCtxPtr ctx);

  // Handshakes cut by the deadline so far.
  uint64_t handshakes_cut() const;

  // For the OpenSSL callbacks in tls_acceptor.cc.
  void Arm(ssl_st* ssl, int fd);
  void Disarm(const ssl_st* ssl);
  bool SwitchToCurrent(ssl_st* ssl);

 private:
  void Watch();

  const std::chrono::milliseconds timeout_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<ssl_ctx_st> current_;  // guarded by mu_
  struct Pending {
    int fd;
    std::chrono::steady_clock::time_point deadline;
  };
  std::map<const ssl_st*, Pending> pending_;  // handshakes under way; guarded by mu_
  uint64_t cut_ = 0;                          // guarded by mu_
  bool stopping_ = false;                     // guarded by mu_
  std::thread watcher_;
};

}  // namespace hlo
