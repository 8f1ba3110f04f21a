// One backend queue: its rings mapped and channels bound (attach), its
// events and scheduling, and its faults. The datapath is tx.cc (guest TX:
// requests -> one grant copy into a local arena -> checksum rules -> TAP)
// and rx.cc (guest RX: TAP -> checksum rules -> one grant copy into the
// frontend's posted buffers -> responses). Every field read from a ring is
// checked before use (netif.h "Guest transmit"/"Guest receive"); a
// violation is a fault of this vif only.
#include "queue.h"

#include <sys/epoll.h>

#include <fmt/format.h>

#include "datapath.h"
#include "runtime/log.h"

namespace xnet::netback {

BackQueue::BackQueue(Reactor& r, GrantTable& gt, std::unique_ptr<EventChannels> ev, LocalPort& port,
                     DeviceShared& vif, unsigned index, const QueueKeys& keys)
    : r_(r),
      gt_(gt),
      ev_(std::move(ev)),
      port_(port),
      vif_(vif),
      index_(index),
      keys_(keys),
      tx_poll_(vif.busy_poll),
      rx_poll_(vif.busy_poll),
      tx_arena_(new uint8_t[kArena]),
      rx_arena_(new uint8_t[kArena]) {
    tx_batch_.reserve(kBatch);
    rx_batch_.reserve(kBatch);
    segs_.reserve(kBatch * netif::kFatalSlots);
}

BackQueue::~BackQueue() = default;

Result<std::unique_ptr<BackQueue>> BackQueue::start(Reactor& r, GrantTable& gt,
                                                    std::unique_ptr<EventChannels> ev,
                                                    LocalPort& port, DeviceShared& vif,
                                                    unsigned index, const QueueKeys& keys) {
    std::unique_ptr<BackQueue> q(new BackQueue(r, gt, std::move(ev), port, vif, index, keys));
    XNET_TRY(q->attach());
    return q;
}

Status BackQueue::attach() {
    auto map = [&](GrantRef ref, const char* key) -> Result<GrantMapping> {
        GrantRef refs[1] = {ref};
        auto m = gt_.map(vif_.peer, refs, true);
        if (!m) {
            return fail(m.error().code, fmt::format("mapping {} {} of domain {} (queue {})", key,
                                                    ref, vif_.peer, index_));
        }
        return m;
    };
    XNET_TRY_ASSIGN(tx_map_, map(keys_.tx_ref, "tx-ring-ref"));
    XNET_TRY_ASSIGN(rx_map_, map(keys_.rx_ref, "rx-ring-ref"));
    auto* ts = static_cast<netif::TxSring*>(tx_map_.addr());
    auto* rs = static_cast<netif::RxSring*>(rx_map_.addr());
    // BACK_RING_ATTACH: start where the frontend's ring says responses are.
    tx_ = TxRing(ts, ring::detail::load(ts->rsp_prod, std::memory_order_acquire));
    rx_ = RxRing(rs, ring::detail::load(rs->rsp_prod, std::memory_order_acquire));

    auto bind = [&](Port remote, const char* key) -> Result<Port> {
        auto p = ev_->bind_interdomain(vif_.peer, remote);
        if (!p) {
            return fail(p.error().code, fmt::format("binding {} {} of domain {} (queue {})", key,
                                                    remote, vif_.peer, index_));
        }
        return p;
    };
    bool split = keys_.tx_port != keys_.rx_port;
    XNET_TRY_ASSIGN(auto tp, bind(keys_.tx_port, split ? "event-channel-tx" : "event-channel"));
    tx_local_ = rx_local_ = tp;
    if (split) {
        XNET_TRY_ASSIGN(rx_local_, bind(keys_.rx_port, "event-channel-rx"));
    }
    auto st = ev_watch_.watch(r_, ev_->fd(), EPOLLIN, [this](uint32_t) { on_event(); });
    if (!st) return st;
    return port_watch_.watch(r_, port_.fd(), EPOLLIN, [this](uint32_t) { on_port(); });
}

void BackQueue::kick() {
    schedule(true, true);
}

void BackQueue::schedule(bool tx, bool rx) {
    if (tx && !tx_scheduled_) {
        tx_scheduled_ = true;
        work_.defer(r_, [this] {
            tx_scheduled_ = false;
            run_tx();
        });
    }
    if (rx && !rx_scheduled_) {
        rx_scheduled_ = true;
        work_.defer(r_, [this] {
            rx_scheduled_ = false;
            run_rx();
        });
    }
}

void BackQueue::fault(const Error& e, bool quiet) {
    if (broken_) return;
    broken_ = true;
    port_watch_.reset();
    vif_.fault(e, quiet);
}

bool BackQueue::copy_failed(const CopySegment& s, const char* what) {
    if (s.status == 0) return false;
    GrantRef ref = s.src.foreign ? s.src.ref : s.dst.ref;
    std::string copy = fmt::format("grant copy of {} ref {} of domain {} (queue {}): {}", what, ref,
                                   vif_.peer, index_, gntst_name(s.status));
    // The same words as Vif::check_peer's: the log says why the vif left.
    Error gone{ENOTCONN, fmt::format("queue {}: the frontend closed its event channel (its "
                                     "process or domain is gone); a {}",
                                     index_, copy)};
    // A domain going away is nothing to blame it for: bad_domain once it
    // is gone, and while it is torn down its grants fail too, but its
    // event channels are closed first (Xen's domain_kill, the sim's
    // destroy), so an unbound peer tells the two apart.
    auto bound = peer_bound();
    if (s.status == GNTST_bad_domain || (bound && !*bound)) {
        fault(gone, true);
        return true;
    }
    if (broken_) return true;
    // Still bound: a guest whose teardown has revoked its grants but not
    // yet closed its channels (their closing may reach us later than the
    // failed copy), or one that broke the rules. The queue stops now; the
    // verdict waits a moment for the channels.
    broken_ = true;
    port_watch_.reset();
    Error e{EPROTO, copy};
    auto t = r_.after(kTeardownGrace, [this, e, gone] {
        auto b = peer_bound();
        bool quiet = b && !*b;
        vif_.fault(quiet ? gone : e, quiet);
    });
    if (t) {
        verdict_ = std::move(*t);
    } else {
        vif_.fault(e, false);
    }
    return true;
}

void BackQueue::on_event() {
    bool tx = false, rx = false;
    Port fired[2];
    unsigned nfired = 0;
    for (;;) {
        auto p = ev_->pending();
        if (!p) return fault(p.error());
        if (!*p) break;
        Port port = **p;
        ++vif_.counters.notifications_received;
        tx = tx || port == tx_local_;
        rx = rx || port == rx_local_;
        if (nfired < 2 && (nfired == 0 || fired[0] != port)) fired[nfired++] = port;
    }
    if (nfired == 0) return;
    if (!news() && throttle_.idle_wakeup()) {
        // An event storm: the ports stay masked (the peer's notifications
        // stay pending, not lost) and we look at the rings after a pause.
        ++vif_.counters.notifications_throttled;
        auto t = r_.after(NotifyThrottle::kPause, [this, fired, nfired] {
            for (unsigned i = 0; i < nfired; ++i)
                (void)ev_->unmask(fired[i]);
            kick();
        });
        if (t) return void(pause_ = std::move(*t));
    }
    for (unsigned i = 0; i < nfired; ++i)
        (void)ev_->unmask(fired[i]);
    if (tx) run_tx();
    if (rx) run_rx();
}

// Whether the frontend published anything since we last looked: requests
// on the TX ring, buffers on the RX ring. (A bad index counts as news:
// run_tx/run_rx report it.)
bool BackQueue::news() {
    auto tx = tx_.pending();
    auto rx = rx_.pending();
    if (!tx || !rx) return true;
    RING_IDX rx_prod = rx_.req_cons() + *rx;
    bool fresh = *tx > 0 || rx_prod != rx_prod_seen_;
    rx_prod_seen_ = rx_prod;
    return fresh;
}

Result<bool> BackQueue::peer_bound() const {
    auto tx = ev_->peer_bound(tx_local_);
    if (!tx || !*tx || rx_local_ == tx_local_) return tx;
    return ev_->peer_bound(rx_local_);
}

void BackQueue::on_port() {
    run_rx();
}

}  // namespace xnet::netback
