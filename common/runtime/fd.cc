#include "runtime/fd.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xnet {

constexpr size_t kMaxFds = 8;

namespace {

Result<sockaddr_un> unix_address(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path) return fail(ENAMETOOLONG, "the socket path " + path);
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    return a;
}

}  // namespace

Result<UniqueFd> listen_unix(const std::string& path, int type, int backlog) {
    XNET_TRY_ASSIGN(auto addr, unix_address(path));
    UniqueFd s(socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!s) return fail(errno, "creating socket " + path);
    ::unlink(path.c_str());
    if (bind(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        return fail(errno, "binding " + path);
    }
    if (listen(s.get(), backlog) != 0) return fail(errno, "listening on " + path);
    return s;
}

Result<UniqueFd> connect_unix(const std::string& path, int type) {
    XNET_TRY_ASSIGN(auto addr, unix_address(path));
    UniqueFd s(socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    if (!s) return fail(errno, "creating a socket for " + path);
    if (connect(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        return fail(errno, "connecting to " + path);
    }
    return s;
}

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

long send_with_fds(int sock, const void* buf, size_t len, std::span<const int> fds) {
    if (fds.size() > kMaxFds) {
        errno = EINVAL;
        return -1;
    }
    iovec iov{const_cast<void*>(buf), len};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds.empty()) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    long n;
    do {
        n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
}

long recv_with_fds(int sock, void* buf, size_t len, std::vector<UniqueFd>& fds) {
    iovec iov{buf, len};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    long n;
    do {
        n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return n;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            fds.emplace_back(fd);
        }
    }
    // Descriptors that did not fit were closed by the kernel; the message
    // is then incomplete and the caller must treat it as malformed.
    if (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
        errno = EMSGSIZE;
        return -1;
    }
    return n;
}

}  // namespace xnet
