// The daemon's sockets, served on the shared reactor (runtime/reactor.h)
// as the daemons' are. Bad clients cost only their own
// connection: oversized xenstore messages and malformed platform requests
// close it, a client that stops reading is dropped once its backlog passes
// a bound, and nothing a client sends can stop the loop.
#include "daemon.h"

#include <sys/epoll.h>
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
#include "runtime/reactor.h"
#include "store.h"
#include "xs_server.h"

namespace xnet::sim {
namespace {

using namespace simproto;
namespace fs = std::filesystem;

constexpr size_t kMaxBacklog = 4 << 20;         // unread replies and events per connection
constexpr std::chrono::seconds kRetryEvery{1};  // Hypervisor::retry_deferred

class Daemon {
  public:
    Daemon(std::string dir, Reactor& r)
        : dir_(std::move(dir)),
          r_(r),
          store_([this](const WatchEvent& ev) { xs_.watch_event(ev); }),
          xs_(store_, [this](ConnId c, const std::string& bytes) { queue(c, bytes); }) {}

    Status start() {
        XNET_TRY_ASSIGN(auto hv, Hypervisor::create({[this](DomId d) { return listen_for(d); },
                                                     [this](DomId d) { domain_gone(d); }}));
        hv_ = std::make_unique<Hypervisor>(std::move(hv));
        XNET_TRY(hv_->create_domain(0));
        // What xen-init-dom0 writes for the control domain.
        store_.connect(kToolstack, 0, true);
        (void)store_.write(kToolstack, 0, "/local/domain/0/name", "Domain-0");
        (void)store_.write(kToolstack, 0, "/local/domain/0/domid", "0");
        (void)store_.introduce(kToolstack, 0);
        arm_retry();
        return {};
    }

    // Removes every domain's sockets (on the way out).
    void remove_sockets() {
        for (DomId d : hv_->domains()) {
            std::error_code ec;
            fs::remove_all(domain_dir(dir_, d), ec);
        }
    }

  private:
    enum class Kind { xs_listen, plat_listen, xs, plat };
    struct Conn {
        Kind kind;
        DomId dom;
        UniqueFd fd;
        std::string out;        // xenstore bytes not yet written
        bool want_out = false;  // watched for EPOLLOUT: out is not empty
        Registration watch;     // after fd: let go before it closes
    };

    ConnId add_conn(Kind kind, DomId dom, UniqueFd fd) {
        ConnId id = next_id_++;
        int raw = fd.get();
        Conn& c = conns_[id] = Conn{kind, dom, std::move(fd), {}, false, {}};
        auto st = c.watch.watch(r_, raw, EPOLLIN, [this, id](uint32_t ev) { on_ready(id, ev); });
        if (!st) close_later(id);
        return id;
    }

    void on_ready(ConnId id, uint32_t events) {
        auto it = conns_.find(id);
        if (it == conns_.end()) return;
        Conn& c = it->second;
        switch (c.kind) {
            case Kind::xs_listen:
            case Kind::plat_listen:
                return accept_on(c);
            case Kind::xs:
                if (events & EPOLLOUT) flush(id, c);
                if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_xs(id, c);
                return;
            case Kind::plat:
                return read_plat(id, c);
        }
    }

    // A new domain's two sockets.
    Status listen_for(DomId dom) {
        std::error_code ec;
        fs::create_directories(domain_dir(dir_, dom), ec);
        if (ec) return fail(ec.value(), "creating " + domain_dir(dir_, dom));
        XNET_TRY_ASSIGN(auto xs, listen_unix(xenstore_socket(dir_, dom), SOCK_STREAM, 64));
        XNET_TRY_ASSIGN(auto pl, listen_unix(platform_socket(dir_, dom), SOCK_SEQPACKET, 64));
        add_conn(Kind::xs_listen, dom, std::move(xs));
        add_conn(Kind::plat_listen, dom, std::move(pl));
        return {};
    }

    // The hypervisor destroyed DOM: its connections and sockets go, and
    // xenstore releases it (firing @releaseDomain), as xenstored does when
    // it notices a domain died.
    void domain_gone(DomId dom) {
        for (auto& [id, c] : conns_) {
            if (c.dom == dom) close_later(id);
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
                return close_later(id);
            }
            c.out.erase(0, size_t(n));
        }
        // A client that stopped reading: drop it rather than grow forever.
        if (c.out.size() > kMaxBacklog) return close_later(id);
        if (c.want_out != !c.out.empty()) {
            c.want_out = !c.out.empty();
            if (!c.watch.modify(EPOLLIN | (c.want_out ? uint32_t(EPOLLOUT) : 0u))) close_later(id);
        }
    }

    void accept_on(Conn& l) {
        UniqueFd fd(accept4(l.fd.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
        if (!fd) return;
        if (l.kind == Kind::xs_listen) {
            store_.connect(add_conn(Kind::xs, l.dom, std::move(fd)), l.dom, l.dom == 0);
        } else {
            add_conn(Kind::plat, l.dom, std::move(fd));
        }
    }

    void read_xs(ConnId id, Conn& c) {
        char buf[16384];
        ssize_t n = recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return close_later(id);
        if (n > 0 && !xs_.input(id, std::string_view(buf, size_t(n)))) close_later(id);
    }

    void read_plat(ConnId id, Conn& c) {
        Request req{};
        std::vector<UniqueFd> junk;  // clients have no reason to send descriptors
        long n = recv_with_fds(c.fd.get(), &req, sizeof req, junk);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return close_later(id);
        if (n < 0) return;
        Reply rep;
        std::vector<int> fds;
        if (size_t(n) < offsetof(Request, refs) || req.count > kMaxBatch ||
            size_t(n) < offsetof(Request, refs) + req.count * sizeof(uint32_t)) {
            rep.status = -EINVAL;
        } else {
            rep = hv_->handle(id, c.dom, req, fds);
        }
        if (send_with_fds(c.fd.get(), &rep, sizeof rep, fds) < 0) close_later(id);
    }

    // Connections are closed after the handler that found them broken
    // returns: it may still hold a reference to one, or to the store.
    void close_later(ConnId id) {
        closing_.push_back(id);
        if (close_scheduled_) return;
        close_scheduled_ = true;
        work_.defer(r_, [this] {
            close_scheduled_ = false;
            while (!closing_.empty()) {
                ConnId c = closing_.back();
                closing_.pop_back();
                close_conn(c);
            }
        });
    }

    void arm_retry() {
        auto t = r_.after(kRetryEvery, [this] {
            hv_->retry_deferred();
            arm_retry();
        });
        if (t) retry_ = std::move(*t);
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
    Reactor& r_;
    Store store_;
    XsServer xs_;
    std::unique_ptr<Hypervisor> hv_;
    std::map<ConnId, Conn> conns_;
    std::vector<ConnId> closing_;
    bool close_scheduled_ = false;
    ConnId next_id_ = 1;
    Timer retry_;
    DeferredWork work_;
};

}  // namespace

Status run_daemon(const DaemonOptions& opts) {
    XNET_TRY_ASSIGN(auto r, EpollReactor::create());
    XNET_TRY(r->stop_on_signals());
    Daemon d(opts.dir, *r);  // after the reactor: its watches go first
    XNET_TRY(d.start());
    if (opts.ready_fd >= 0) {
        char ok = 1;
        (void)!write(opts.ready_fd, &ok, 1);
        close(opts.ready_fd);
    }
    auto st = r->run();
    d.remove_sockets();
    return st;
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
