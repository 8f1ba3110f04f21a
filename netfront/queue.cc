// One frontend queue: its rings and pools granted (create), its events,
// scheduling and faults. The datapath is tx.cc and rx.cc. The backend is
// not trusted either (netif.h "trusted"): response ids, statuses, offsets
// and chain lengths are checked before they are used.
#include "queue.h"

#include <sys/epoll.h>

#include <fmt/format.h>

#include "datapath.h"

namespace xnet::netfront {

FrontQueue::FrontQueue(std::unique_ptr<EventChannels> ev, DeviceShared& f, unsigned index)
    : ev_(std::move(ev)), f_(f), index_(index), tx_poll_(f.busy_poll), rx_poll_(f.busy_poll) {}

FrontQueue::~FrontQueue() = default;

Result<std::unique_ptr<FrontQueue>> FrontQueue::create(GrantShare& gs,
                                                       std::unique_ptr<EventChannels> ev,
                                                       DeviceShared& f, unsigned index,
                                                       bool split) {
    std::unique_ptr<FrontQueue> q(new FrontQueue(std::move(ev), f, index));
    auto share = [&](size_t pages, bool writable, const char* what) -> Result<SharedPages> {
        auto s = gs.share(f.peer, pages, writable);
        if (!s) {
            return fail(s.error().code, fmt::format("granting the {} of queue {} to domain {}",
                                                    what, index, f.peer));
        }
        return s;
    };
    XNET_TRY_ASSIGN(auto t, share(1, true, "TX ring"));
    XNET_TRY_ASSIGN(auto r, share(1, true, "RX ring"));
    XNET_TRY_ASSIGN(auto tp, share(kPool, false, "TX buffers"));
    XNET_TRY_ASSIGN(auto rp, share(kPool, true, "RX buffers"));
    q->tx_ring_page_ = std::move(t);
    q->rx_ring_page_ = std::move(r);
    q->tx_pool_ = std::move(tp);
    q->rx_pool_ = std::move(rp);

    auto* ts = static_cast<netif::TxSring*>(q->tx_ring_page_.addr());
    auto* rs = static_cast<netif::RxSring*>(q->rx_ring_page_.addr());
    ring::init_shared(ts);
    ring::init_shared(rs);
    q->tx_ = TxRing(ts);
    q->rx_ = RxRing(rs);
    q->keys_.tx_ref = q->tx_ring_page_.refs()[0];
    q->keys_.rx_ref = q->rx_ring_page_.refs()[0];

    XNET_TRY_ASSIGN(auto port, q->ev_->alloc_unbound(f.peer));
    q->keys_.tx_port = q->keys_.rx_port = port;
    if (split) {
        XNET_TRY_ASSIGN(q->keys_.rx_port, q->ev_->alloc_unbound(f.peer));
    }
    for (unsigned i = 0; i < kPool; ++i)
        q->rx_free_.push_back(uint16_t(kPool - 1 - i));
    return q;
}

Status FrontQueue::start(Reactor& r, LocalPort& port) {
    r_ = &r;
    port_ = &port;
    auto st = ev_watch_.watch(r, ev_->fd(), EPOLLIN, [this](uint32_t) { on_event(); });
    if (!st) return st;
    if (!(st = port_watch_.watch(r, port.fd(), EPOLLIN, [this](uint32_t) { on_port(); })))
        return st;
    port_watched_ = true;
    post_rx();
    run_rx();
    run_tx();
    return {};
}

void FrontQueue::fault(const Error& e) {
    if (broken_) return;
    broken_ = true;
    watch_port(false);
    f_.fault(e, false);
}

void FrontQueue::watch_port(bool on) {
    if (on == port_watched_ || !port_watch_) return;
    (void)port_watch_.modify(on ? uint32_t(EPOLLIN) : 0u);
    port_watched_ = on;
}

// Runs RUN once after the current handler, unless it is already due; FLAG
// says it is. Nothing runs if the queue is gone by then.
void FrontQueue::schedule(bool& flag, void (FrontQueue::*run)()) {
    if (flag) return;
    flag = true;
    work_.defer(*r_, [this, &flag, run] {
        flag = false;
        (this->*run)();
    });
}

void FrontQueue::on_event() {
    for (;;) {
        auto p = ev_->pending();
        if (!p) return fault(p.error());
        if (!*p) break;
        (void)ev_->unmask(**p);
        ++f_.counters.notifications_received;
    }
    // Either port may mean either direction's work; both are cheap to poll.
    reap_tx();
    run_rx();
}

void FrontQueue::on_port() {
    run_tx();
}

}  // namespace xnet::netfront
