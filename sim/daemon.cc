// The daemon's sockets and loop. Bad clients cost only their own
// connection: oversized xenstore messages and malformed platform requests
// close it, a client that stops reading is dropped once its backlog passes
// a bound, and nothing a client sends can stop the loop.
#include "daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "hypervisor.h"
#include "platform/sim/sim_proto.h"
#include "runtime/fd.h"
#include "store.h"
#include "xs_server.h"

namespace xnet::sim {
namespace {

using namespace simproto;
namespace fs = std::filesystem;

constexpr size_t kMaxBacklog = 4 << 20;  // unread replies and events per connection

class Daemon {
  public:
    explicit Daemon(std::string dir)
        : dir_(std::move(dir)),
          store_([this](const WatchEvent& ev) { xs_.watch_event(ev); }),
          xs_(store_, [this](ConnId c, const std::string& bytes) { queue(c, bytes); }) {}

    Status start() {
        auto hv = Hypervisor::create(
            {[this](DomId d) { return listen_for(d); }, [this](DomId d) { domain_gone(d); }});
        if (!hv) return Unexpected{hv.error()};
        hv_ = std::make_unique<Hypervisor>(std::move(*hv));
        if (auto r = hv_->create_domain(0); !r) return r;
        // What xen-init-dom0 writes for the control domain.
        store_.connect(kToolstack, 0, true);
        (void)store_.write(kToolstack, 0, "/local/domain/0/name", "Domain-0");
        (void)store_.write(kToolstack, 0, "/local/domain/0/domid", "0");
        (void)store_.introduce(kToolstack, 0);
        return {};
    }

    // Removes every domain's sockets (on the way out).
    void remove_sockets() {
        for (DomId d : hv_->domains()) {
            std::error_code ec;
            fs::remove_all(domain_dir(dir_, d), ec);
        }
    }

    Status loop();

  private:
    enum class Kind { xs_listen, plat_listen, xs, plat };
    struct Conn {
        Kind kind;
        DomId dom;
        UniqueFd fd;
        std::string out;  // xenstore bytes not yet written
    };

    // A new domain's two sockets.
    Status listen_for(DomId dom) {
        std::error_code ec;
        fs::create_directories(domain_dir(dir_, dom), ec);
        if (ec) return fail(ec.value(), "creating " + domain_dir(dir_, dom));
        auto xs = listen_unix(xenstore_socket(dir_, dom), SOCK_STREAM, 64);
        if (!xs) return Unexpected{xs.error()};
        auto pl = listen_unix(platform_socket(dir_, dom), SOCK_SEQPACKET, 64);
        if (!pl) return Unexpected{pl.error()};
        conns_[next_id_++] = Conn{Kind::xs_listen, dom, std::move(*xs), {}};
        conns_[next_id_++] = Conn{Kind::plat_listen, dom, std::move(*pl), {}};
        return {};
    }

    // The hypervisor destroyed DOM: its connections and sockets go, and
    // xenstore releases it (firing @releaseDomain), as xenstored does when
    // it notices a domain died.
    void domain_gone(DomId dom) {
        for (auto& [id, c] : conns_) {
            if (c.dom == dom) closing_.push_back(id);
        }
        std::error_code ec;
        fs::remove_all(domain_dir(dir_, dom), ec);
        (void)store_.release(kToolstack, dom);
    }

    void queue(ConnId id, const std::string& bytes) {
        auto it = conns_.find(id);
        if (it == conns_.end()) return;
        Conn& c = it->second;
        c.out += bytes;
        flush(id, c);
    }

    void flush(ConnId id, Conn& c) {
        while (!c.out.empty()) {
            ssize_t n = send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) break;
                closing_.push_back(id);
                return;
            }
            c.out.erase(0, size_t(n));
        }
        // A client that stopped reading: drop it rather than grow forever.
        if (c.out.size() > kMaxBacklog) closing_.push_back(id);
    }

    void accept_on(Conn& l) {
        UniqueFd fd(accept4(l.fd.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
        if (!fd) return;
        ConnId id = next_id_++;
        if (l.kind == Kind::xs_listen) {
            store_.connect(id, l.dom, l.dom == 0);
            conns_[id] = Conn{Kind::xs, l.dom, std::move(fd), {}};
        } else {
            conns_[id] = Conn{Kind::plat, l.dom, std::move(fd), {}};
        }
    }

    void read_xs(ConnId id, Conn& c) {
        char buf[16384];
        ssize_t n = recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            closing_.push_back(id);
            return;
        }
        if (n > 0 && !xs_.input(id, std::string_view(buf, size_t(n)))) closing_.push_back(id);
    }

    void read_plat(ConnId id, Conn& c) {
        Request req{};
        std::vector<UniqueFd> junk;  // clients have no reason to send descriptors
        long n = recv_with_fds(c.fd.get(), &req, sizeof req, junk);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            closing_.push_back(id);
            return;
        }
        if (n < 0) return;
        Reply rep;
        std::vector<int> fds;
        if (size_t(n) < offsetof(Request, refs) || req.count > kMaxBatch ||
            size_t(n) < offsetof(Request, refs) + req.count * sizeof(uint32_t)) {
            rep.status = -EINVAL;
        } else {
            rep = hv_->handle(id, c.dom, req, fds);
        }
        if (send_with_fds(c.fd.get(), &rep, sizeof rep, fds) < 0) closing_.push_back(id);
    }

    void close_conn(ConnId id) {
        auto it = conns_.find(id);
        if (it == conns_.end()) return;
        if (it->second.kind == Kind::xs) {
            store_.disconnect(id);
            xs_.forget(id);
        } else if (it->second.kind == Kind::plat) {
            hv_->close_handle(id);
        }
        conns_.erase(it);
    }

    static constexpr ConnId kToolstack = 0;  // the daemon's own store identity
    std::string dir_;
    Store store_;
    XsServer xs_;
    std::unique_ptr<Hypervisor> hv_;
    std::map<ConnId, Conn> conns_;
    std::vector<ConnId> closing_;
    ConnId next_id_ = 1;
};

Status Daemon::loop() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal(SIGPIPE, SIG_IGN);
    UniqueFd sig(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sig) return fail(errno, "creating a signalfd");

    std::vector<pollfd> pfds;
    std::vector<ConnId> ids;
    for (;;) {
        pfds.assign(1, pollfd{sig.get(), POLLIN, 0});
        ids.assign(1, 0);
        for (auto& [id, c] : conns_) {
            short ev = POLLIN;
            if (!c.out.empty()) ev |= POLLOUT;
            pfds.push_back(pollfd{c.fd.get(), ev, 0});
            ids.push_back(id);
        }
        int n = poll(pfds.data(), pfds.size(), 1000);
        if (n < 0 && errno != EINTR) return fail(errno, "polling");
        if (n <= 0) {
            hv_->retry_deferred();
            continue;
        }
        if (pfds[0].revents) return {};  // SIGTERM or SIGINT
        for (size_t i = 1; i < pfds.size(); ++i) {
            if (!pfds[i].revents) continue;
            auto it = conns_.find(ids[i]);
            if (it == conns_.end()) continue;
            Conn& c = it->second;
            switch (c.kind) {
                case Kind::xs_listen:
                case Kind::plat_listen:
                    accept_on(c);
                    break;
                case Kind::xs:
                    if (pfds[i].revents & POLLOUT) flush(ids[i], c);
                    if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) read_xs(ids[i], c);
                    break;
                case Kind::plat:
                    read_plat(ids[i], c);
                    break;
            }
        }
        while (!closing_.empty()) {
            ConnId id = closing_.back();
            closing_.pop_back();
            close_conn(id);
        }
    }
}

}  // namespace

Status run_daemon(const DaemonOptions& opts) {
    Daemon d(opts.dir);
    if (auto r = d.start(); !r) return r;
    if (opts.ready_fd >= 0) {
        char ok = 1;
        (void)!write(opts.ready_fd, &ok, 1);
        close(opts.ready_fd);
    }
    auto r = d.loop();
    d.remove_sockets();
    return r;
}

}  // namespace xnet::sim

namespace xnet::sim {

Result<pid_t> spawn_daemon(const std::string& dir) {
    int ready[2];
    if (pipe(ready) != 0) return fail(errno, "creating a pipe for the daemon");
    pid_t pid = fork();
    if (pid < 0) return fail(errno, "forking the daemon");
    if (pid == 0) {
        close(ready[0]);
        auto r = run_daemon({dir, ready[1]});
        _exit(r ? 0 : 1);
    }
    close(ready[1]);
    char ok = 0;
    bool started = read(ready[0], &ok, 1) == 1;
    close(ready[0]);
    if (!started) return fail(0, "the daemon did not start in " + dir);
    return pid;
}

}  // namespace xnet::sim
