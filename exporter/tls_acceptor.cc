#include "exporter/tls_acceptor.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <utility>

namespace hlo {
namespace {

using Clock = std::chrono::steady_clock;

// An SSL's ex_data slot holding its acceptor while its handshake is armed.
// OpenSSL calls FreeSlot for every SSL it frees, so a connection that ends
// in the middle of its handshake is disarmed before civetweb closes its
// socket (civetweb frees the SSL first): the watcher never shuts down a
// descriptor number that a new connection may have taken.
void FreeSlot(void* parent, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  if (ptr != nullptr) static_cast<TlsAcceptor*>(ptr)->Disarm(static_cast<const SSL*>(parent));
}

int Slot() {
  static const int slot = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeSlot);
  return slot;
}

// A context's slot naming the acceptor whose callbacks it carries (not
// app_data, which civetweb may use).
int ContextSlot() {
  static const int slot = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return slot;
}

TlsAcceptor* AcceptorOf(const SSL* ssl) {
  return static_cast<TlsAcceptor*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ContextSlot()));
}

void OnInfo(const SSL* ssl, int where, int) {
  TlsAcceptor* acceptor = AcceptorOf(ssl);
  if (acceptor == nullptr) return;
  if ((where & SSL_CB_HANDSHAKE_START) != 0) {
    // OpenSSL hands the callback a const SSL; arming stores into its
    // ex_data, which is the connection's own.
    acceptor->Arm(const_cast<SSL*>(ssl), SSL_get_fd(ssl));
  } else if ((where & SSL_CB_HANDSHAKE_DONE) != 0) {
    acceptor->Disarm(ssl);
  }
}

int OnClientHello(SSL* ssl, int* alert, void* arg) {
  if (static_cast<TlsAcceptor*>(arg)->SwitchToCurrent(ssl)) return SSL_CLIENT_HELLO_SUCCESS;
  *alert = SSL_AD_INTERNAL_ERROR;
  return SSL_CLIENT_HELLO_ERROR;
}

}  // namespace

TlsAcceptor::TlsAcceptor(std::chrono::milliseconds handshake_timeout)
    : timeout_(handshake_timeout) {
  Slot();  // registered before any SSL can need them
  ContextSlot();
  watcher_ = std::thread([this] { Watch(); });
}

TlsAcceptor::~TlsAcceptor() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  watcher_.join();
}

SslCtxPtr TlsAcceptor::Adopt(SslCtxPtr ctx) {
  SSL_CTX* raw = ctx.get();
  SSL_CTX_set_ex_data(raw, ContextSlot(), this);
  SSL_CTX_set_info_callback(raw, OnInfo);
  SSL_CTX_set_client_hello_cb(raw, OnClientHello, this);
  SSL_CTX_up_ref(raw);
  std::shared_ptr<ssl_ctx_st> current(raw, SslCtxFree());
  {
    std::lock_guard lock(mu_);
    current_.swap(current);
  }
  return ctx;  // `current` (the old one) is released outside the lock
}

uint64_t TlsAcceptor::handshakes_cut() const {
  std::lock_guard lock(mu_);
  return cut_;
}

void TlsAcceptor::Arm(SSL* ssl, int fd) {
  if (fd < 0) return;
  SSL_set_ex_data(ssl, Slot(), this);
  bool earliest = false;
  {
    std::lock_guard lock(mu_);
    const auto deadline = Clock::now() + timeout_;
    pending_[ssl] = Pending{fd, deadline};
    earliest = pending_.size() == 1;
  }
  // Deadlines only grow, so only a first pending one can be earlier than
  // what the watcher waits for.
  if (earliest) cv_.notify_all();
}

void TlsAcceptor::Disarm(const SSL* ssl) {
  std::lock_guard lock(mu_);
  pending_.erase(ssl);
}

bool TlsAcceptor::SwitchToCurrent(SSL* ssl) {
  std::shared_ptr<ssl_ctx_st> current;
  {
    std::lock_guard lock(mu_);
    current = current_;
  }
  SSL_CTX* ctx = current.get();
  if (ctx == nullptr || SSL_get_SSL_CTX(ssl) == ctx) return true;
  // SSL_set_SSL_CTX brings the certificate chain and key (and takes a
  // reference, so the context lives as long as the connection). What
  // SSL_new copied from the old context is set here by hand; the version
  // is negotiated after this callback, the client certificate asked for
  // later still.
  if (SSL_set_SSL_CTX(ssl, ctx) != ctx) return false;
  SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx), SSL_CTX_get_verify_callback(ctx));
  STACK_OF(X509_NAME)* cas = SSL_CTX_get_client_CA_list(ctx);
  SSL_set_client_CA_list(ssl, cas != nullptr ? SSL_dup_CA_list(cas) : nullptr);
  return SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(ctx)) == 1 &&
         SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(ctx)) == 1;
}

void TlsAcceptor::Watch() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto now = Clock::now();
    auto next = Clock::time_point::max();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.deadline <= now) {
        // Under the lock: the descriptor is the connection's until its SSL
        // is freed (FreeSlot), which waits for this lock.
        shutdown(it->second.fd, SHUT_RDWR);
        ++cut_;
        it = pending_.erase(it);
      } else {
        next = std::min(next, it->second.deadline);
        ++it;
      }
    }
    if (next == Clock::time_point::max()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, next);
    }
  }
}

}  // namespace hlo
