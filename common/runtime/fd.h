// Owning file descriptors and the Unix-socket plumbing both sides of the
// sim protocol use (messages with descriptors attached).
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "runtime/error.h"

namespace xnet {

// Closes its descriptor on destruction; move-only.
class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) reset(std::exchange(o.fd_, -1));
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1);

  private:
    int fd_ = -1;
};

// One datagram (SOCK_SEQPACKET) with up to 8 descriptors attached. Returns
// the byte count or -1 with errno set.
long send_with_fds(int sock, const void* buf, size_t len, std::span<const int> fds);
// Receives one datagram; attached descriptors are appended to FDS (owned).
// Returns the byte count, 0 at end of stream, or -1 with errno set.
long recv_with_fds(int sock, void* buf, size_t len, std::vector<UniqueFd>& fds);

// A listening AF_UNIX socket of TYPE (SOCK_STREAM, SOCK_SEQPACKET) at PATH,
// non-blocking, in place of a dead predecessor's socket file there.
Result<UniqueFd> listen_unix(const std::string& path, int type, int backlog);
// A blocking AF_UNIX socket of TYPE connected to PATH; errors name it.
Result<UniqueFd> connect_unix(const std::string& path, int type);

}  // namespace xnet
