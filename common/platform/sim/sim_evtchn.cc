// Event channels on xnet-sim. Every port has an eventfd made by the daemon;
// binding hands this handle its own port's eventfd (to wait on) and the
// peer port's (to signal). notify() is one write(2) to the peer's eventfd:
// the daemon is not involved, only consulted again when the port's
// generation in shared memory says the binding changed. The handle's fd is
// an epoll set of its ports, armed EPOLLONESHOT: a port that fired stays
// silent until unmask() re-arms it, which is Xen's mask bit.
#include "platform/sim/sim_platform.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_map>

#include <fmt/format.h>

namespace xnet::sim_client {
namespace {

using namespace simproto;

class SimEventChannels final : public EventChannels {
  public:
    SimEventChannels(SimConn conn, UniqueFd epoll)
        : conn_(std::move(conn)), epoll_(std::move(epoll)) {}

    int fd() const override { return epoll_.get(); }

    Result<Port> alloc_unbound(DomId remote) override {
        std::vector<UniqueFd> fds;
        auto what = fmt::format("allocating an event channel for domain {}", remote);
        XNET_TRY_ASSIGN(auto r, call(Request{Op::alloc_unbound, remote}, fds, what));
        if (fds.size() != 1) return fail(EPROTO, what);
        return add(r.a, r.b, std::move(fds[0]), UniqueFd(), what);
    }

    Result<Port> bind_interdomain(DomId remote, Port remote_port) override {
        std::vector<UniqueFd> fds;
        auto what = fmt::format("binding to port {} of domain {}", remote_port, remote);
        XNET_TRY_ASSIGN(auto r,
                        call(Request{Op::bind_interdomain, remote, remote_port}, fds, what));
        if (fds.size() != 2) return fail(EPROTO, what);
        return add(r.a, r.b, std::move(fds[0]), std::move(fds[1]), what);
    }

    Status unbind(Port port) override {
        auto what = fmt::format("unbinding port {}", port);
        auto it = ports_.find(port);
        if (it == ports_.end()) return fail(EINVAL, what + ": not bound by this handle");
        epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.recv.get(), nullptr);
        ports_.erase(it);
        std::vector<UniqueFd> fds;
        XNET_TRY(call(Request{Op::unbind, port}, fds, what));
        return {};
    }

    Status notify(Port port) override {
        XNET_TRY_ASSIGN(PortState * p, bound_state(port, "notifying"));
        if (!p->send) return {};  // unbound: swallowed, as Xen does
        uint64_t one = 1;
        if (write(p->send.get(), &one, sizeof one) != sizeof one && errno != EAGAIN) {
            return fail(errno, fmt::format("notifying port {}", port));
        }
        return {};
    }

    Result<std::optional<Port>> pending() override {
        epoll_event ev;
        int n = epoll_wait(epoll_.get(), &ev, 1, 0);
        if (n < 0) {
            if (errno == EINTR) return std::optional<Port>();
            return fail(errno, "reading pending event channels");
        }
        if (n == 0) return std::optional<Port>();
        Port port = ev.data.u32;
        auto it = ports_.find(port);
        if (it != ports_.end()) {
            uint64_t count;
            // Clears the port's count; notifications coalesce like the pending bit.
            (void)!read(it->second.recv.get(), &count, sizeof count);
        }
        return std::optional<Port>(port);
    }

    Result<bool> peer_bound(Port port) override {
        XNET_TRY_ASSIGN(PortState * p, bound_state(port, "looking at"));
        return bool(p->send);
    }

    Status unmask(Port port) override {
        auto it = ports_.find(port);
        if (it == ports_.end()) {
            return fail(EINVAL, fmt::format("unmasking port {}: not bound by this handle", port));
        }
        epoll_event ev{EPOLLIN | EPOLLONESHOT, {}};
        ev.data.u32 = port;
        if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, it->second.recv.get(), &ev) != 0) {
            return fail(errno, fmt::format("unmasking port {}", port));
        }
        return {};
    }

  private:
    struct PortState {
        UniqueFd recv;  // this port's eventfd, in the epoll set
        UniqueFd send;  // the peer port's eventfd; empty while unbound
        uint32_t gen;
    };

    // PORT as this handle bound it, brought up to date first if the
    // binding changed since (its generation changes with every change);
    // DOING names the operation in the error.
    Result<PortState*> bound_state(Port port, std::string_view doing) {
        auto it = ports_.find(port);
        if (it == ports_.end()) {
            return fail(EINVAL, fmt::format("{} port {}: not bound by this handle", doing, port));
        }
        PortState& p = it->second;
        // acquire: the generation is read before the binding it stands for.
        if (conn_.port_generation(port) != p.gen) XNET_TRY(refresh(port, p));
        return &p;
    }

    Result<Reply> call(const Request& req, std::vector<UniqueFd>& fds, const std::string& what) {
        auto r = conn_.call(req, &fds, what.c_str());
        if (!r) return r;
        if (r->status < 0) return fail(-r->status, what);
        return r;
    }

    Result<Port> add(Port port, uint32_t gen, UniqueFd recv, UniqueFd send,
                     const std::string& what) {
        epoll_event ev{EPOLLIN | EPOLLONESHOT, {}};
        ev.data.u32 = port;
        if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, recv.get(), &ev) != 0) return fail(errno, what);
        ports_[port] = PortState{std::move(recv), std::move(send), gen};
        return port;
    }

    Status refresh(Port port, PortState& p) {
        std::vector<UniqueFd> fds;
        XNET_TRY_ASSIGN(auto r, call(Request{Op::peer, port}, fds,
                                     fmt::format("looking up the peer of port {}", port)));
        p.gen = r.b;
        p.send = fds.empty() ? UniqueFd() : std::move(fds[0]);
        return {};
    }

    SimConn conn_;
    UniqueFd epoll_;
    std::unordered_map<Port, PortState> ports_;
};

}  // namespace

Result<std::unique_ptr<EventChannels>> open_evtchn(const std::string& dir, DomId dom) {
    XNET_TRY_ASSIGN(auto conn, SimConn::open(dir, dom));
    UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
    if (!ep) return fail(errno, "creating the event-channel epoll set");
    return std::unique_ptr<EventChannels>(new SimEventChannels(std::move(conn), std::move(ep)));
}

}  // namespace xnet::sim_client
