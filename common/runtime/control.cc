#include "runtime/control.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>

namespace xnet {
namespace {

constexpr size_t kMaxRequest = 1024;

}  // namespace

struct ControlServer::Client {
    UniqueFd fd;
    std::string in, out;
    size_t sent = 0;
};

ControlServer::ControlServer(Reactor& r, std::string path, UniqueFd fd, Handler h)
    : r_(r), path_(std::move(path)), fd_(std::move(fd)), h_(std::move(h)) {}

ControlServer::~ControlServer() {
    for (auto& [fd, c] : clients_)
        r_.remove(fd);
    r_.remove(fd_.get());
    ::unlink(path_.c_str());
}

Result<std::unique_ptr<ControlServer>> ControlServer::listen(Reactor& r, const std::string& path,
                                                             Handler h) {
    auto fd = listen_unix(path, SOCK_STREAM, 16);
    if (!fd) return fail(fd.error().code, "listening on control socket " + path);
    chmod(path.c_str(), 0600);
    std::unique_ptr<ControlServer> s(new ControlServer(r, path, std::move(*fd), std::move(h)));
    auto* raw = s.get();
    XNET_TRY(r.add(raw->fd_.get(), EPOLLIN, [raw](uint32_t) { raw->accept_clients(); }));
    return s;
}

void ControlServer::accept_clients() {
    for (;;) {
        UniqueFd c(accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!c) return;
        int raw = c.get();
        if (!r_.add(raw, EPOLLIN, [this, raw](uint32_t ev) { serve(raw, ev); })) continue;
        auto cl = std::make_unique<Client>();
        cl->fd = std::move(c);
        clients_[raw] = std::move(cl);
    }
}

void ControlServer::drop(int fd) {
    r_.remove(fd);
    clients_.erase(fd);
}

void ControlServer::serve(int fd, uint32_t events) {
    auto it = clients_.find(fd);
    if (it == clients_.end()) return;
    Client& c = *it->second;
    if (c.out.empty()) {
        char buf[256];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            if (n < 0 && errno == EAGAIN) return;
            return drop(fd);
        }
        c.in.append(buf, size_t(n));
        auto nl = c.in.find('\n');
        if (nl == std::string::npos) {
            if (c.in.size() > kMaxRequest) drop(fd);
            return;
        }
        c.out = h_(std::string_view(c.in).substr(0, nl)) + "\n";
        (void)r_.modify(fd, EPOLLOUT);
        events = EPOLLOUT;
    }
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
        ssize_t n = ::send(fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) return;
        if (n < 0) return drop(fd);
        c.sent += size_t(n);
        if (c.sent == c.out.size()) drop(fd);
    }
}

Result<std::string> control_request(const std::string& path, std::string_view request,
                                    int timeout_ms) {
    XNET_TRY_ASSIGN(UniqueFd fd, connect_unix(path, SOCK_STREAM));
    std::string req(request);
    req += '\n';
    if (::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) {
        return fail(errno, "sending to " + path);
    }
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd.get(), POLLIN, 0};
        if (left.count() <= 0 || poll(&p, 1, int(left.count())) <= 0) {
            return fail(ETIMEDOUT, "waiting for an answer from " + path);
        }
        char buf[4096];
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) return fail(errno, "reading from " + path);
        if (n == 0) break;
        out.append(buf, size_t(n));
    }
    while (!out.empty() && out.back() == '\n')
        out.pop_back();
    return out;
}

std::string control_list(const std::vector<std::string>& vifs_json) {
    JsonWriter w;
    w.begin_object().key("vifs").begin_array();
    for (const auto& v : vifs_json)
        w.raw(v);
    w.end_array().end_object();
    return w.take();
}

std::string control_error(std::string_view message) {
    JsonWriter w;
    w.begin_object().field("error", message).end_object();
    return w.take();
}

}  // namespace xnet
