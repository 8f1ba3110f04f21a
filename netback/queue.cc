// The backend datapath of one queue. Guest TX: requests -> one grant copy
// into a local arena -> checksum rules -> TAP. Guest RX: TAP -> checksum
// rules -> one grant copy into the frontend's posted buffers -> responses.
// Every field read from a ring is checked before use (netif.h "Guest
// transmit"/"Guest receive"); a violation is a fault of this vif only.
#include "queue.h"

#include <sys/epoll.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "xnet/log.h"

namespace xnet::netback {

using netif::kPage;

namespace {
constexpr size_t kBatch = 64;  // packets per grant copy
// How long a failed grant copy waits for the peer's channels to close
// before it is blamed on the peer (BackQueue::copy_failed).
constexpr std::chrono::milliseconds kTeardownGrace{200};
constexpr unsigned kRounds = 4;      // batches per wakeup before yielding
constexpr size_t kMaxFrame = 65536;  // read buffer per frame (kMaxPacket + 1)
constexpr size_t kArena = 2u << 20;  // per direction
// Bytes per guest TX batch: a frontend can keep only about 16 64 KiB
// frames in flight (its ring's slots), so answering them a few at a time
// lets it refill while we copy the rest, instead of waiting for all.
constexpr size_t kTxBatchBytes = 256u << 10;
static_assert(kTxBatchBytes + kMaxFrame <= kArena, "a batch's last frame fits the arena");
constexpr size_t align64(size_t n) {
    return (n + 63) & ~size_t(63);
}
}  // namespace

struct BackQueue::TxPacket {
    uint16_t ids[netif::kFatalSlots] = {};
    uint8_t nslots = 0, nextras = 0;
    std::optional<Drop> refused;  // answered with an error, nothing copied: why
    netif::Meta meta;
    uint32_t off = 0, len = 0;
    uint32_t seg_first = 0, seg_count = 0;
};

struct BackQueue::RxFrame {
    uint8_t* data = nullptr;
    uint32_t len = 0;
    bool dropped = false;
    netif::Meta meta;
    unsigned data_slots = 0;
    unsigned slots() const { return data_slots + (meta.gso != netif::Gso::none ? 1 : 0); }
    uint32_t rsp_first = 0, rsp_count = 0;
    uint32_t seg_first = 0, seg_count = 0;
};

BackQueue::BackQueue(Reactor& r, GrantTable& gt, std::unique_ptr<EventChannels> ev, LocalPort& port,
                     VifShared& vif, unsigned index, const QueueKeys& keys)
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

BackQueue::~BackQueue() {
    *alive_ = false;
    r_.remove(ev_->fd());
    r_.remove(port_.fd());
}

Result<std::unique_ptr<BackQueue>> BackQueue::start(Reactor& r, GrantTable& gt,
                                                    std::unique_ptr<EventChannels> ev,
                                                    LocalPort& port, VifShared& vif, unsigned index,
                                                    const QueueKeys& keys) {
    std::unique_ptr<BackQueue> q(new BackQueue(r, gt, std::move(ev), port, vif, index, keys));
    auto st = q->attach();
    if (!st) return Unexpected{st.error()};
    return q;
}

Status BackQueue::attach() {
    auto map = [&](GrantRef ref, const char* key) -> Result<GrantMapping> {
        GrantRef refs[1] = {ref};
        auto m = gt_.map(vif_.dom, refs, true);
        if (!m) {
            return fail(m.error().code, fmt::format("mapping {} {} of domain {} (queue {})", key,
                                                    ref, vif_.dom, index_));
        }
        return m;
    };
    auto t = map(keys_.tx_ref, "tx-ring-ref");
    if (!t) return Unexpected{t.error()};
    auto x = map(keys_.rx_ref, "rx-ring-ref");
    if (!x) return Unexpected{x.error()};
    tx_map_ = std::move(*t);
    rx_map_ = std::move(*x);
    auto* ts = static_cast<netif::TxSring*>(tx_map_.addr());
    auto* rs = static_cast<netif::RxSring*>(rx_map_.addr());
    // BACK_RING_ATTACH: start where the frontend's ring says responses are.
    tx_ = TxRing(ts, ring::detail::load(ts->rsp_prod, std::memory_order_acquire));
    rx_ = RxRing(rs, ring::detail::load(rs->rsp_prod, std::memory_order_acquire));

    auto bind = [&](Port remote, const char* key) -> Result<Port> {
        auto p = ev_->bind_interdomain(vif_.dom, remote);
        if (!p) {
            return fail(p.error().code, fmt::format("binding {} {} of domain {} (queue {})", key,
                                                    remote, vif_.dom, index_));
        }
        return p;
    };
    bool split = keys_.tx_port != keys_.rx_port;
    auto tp = bind(keys_.tx_port, split ? "event-channel-tx" : "event-channel");
    if (!tp) return Unexpected{tp.error()};
    tx_local_ = rx_local_ = *tp;
    if (split) {
        auto rp = bind(keys_.rx_port, "event-channel-rx");
        if (!rp) return Unexpected{rp.error()};
        rx_local_ = *rp;
    }
    auto st = r_.add(ev_->fd(), EPOLLIN, [this](uint32_t) { on_event(); });
    if (!st) return st;
    return r_.add(port_.fd(), EPOLLIN, [this](uint32_t) { on_port(); });
}

void BackQueue::kick() {
    schedule(true, true);
}

void BackQueue::schedule(bool tx, bool rx) {
    if (tx && !tx_scheduled_) {
        tx_scheduled_ = true;
        r_.defer([this, alive = alive_] {
            if (!*alive) return;
            tx_scheduled_ = false;
            run_tx();
        });
    }
    if (rx && !rx_scheduled_) {
        rx_scheduled_ = true;
        r_.defer([this, alive = alive_] {
            if (!*alive) return;
            rx_scheduled_ = false;
            run_rx();
        });
    }
}

void BackQueue::fault(const Error& e, bool quiet) {
    if (broken_) return;
    broken_ = true;
    r_.remove(port_.fd());
    vif_.fault(e, quiet);
}

bool BackQueue::copy_failed(const CopySegment& s, const char* what) {
    if (s.status == 0) return false;
    GrantRef ref = s.src.foreign ? s.src.ref : s.dst.ref;
    std::string copy = fmt::format("grant copy of {} ref {} of domain {} (queue {}): {}", what, ref,
                                   vif_.dom, index_, gntst_name(s.status));
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
    r_.remove(port_.fd());
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

// ---- guest TX -------------------------------------------------------------

Result<unsigned> BackQueue::gather_tx(RING_IDX avail, TxPacket& p) {
    auto incomplete = [&]() -> Result<unsigned> {
        if (avail >= TxRing::kSize) {
            return fail(EPROTO, "a packet's slot chain fills the whole TX ring");
        }
        release_ids(p);  // taken again when the rest is published
        return 0u;
    };
    auto take_id = [&](uint16_t id) -> Status {
        if (tx_ids_in_flight_.test(id)) {
            return fail(EPROTO, fmt::format("TX request id {} reused before its response", id));
        }
        tx_ids_in_flight_.set(id);
        p.ids[p.nslots++] = id;
        return {};
    };
    netif::TxRequest first = tx_.peek(0);
    unsigned idx = 1;
    if (auto st = take_id(first.id); !st) return Unexpected{st.error()};
    // netif.h: the first request's size is the packet's. No frontend sends
    // an empty packet by mistake; a runt (1 to 13 bytes) is answered with an
    // error, as Linux does, below.
    if (first.size == 0) return fail(EPROTO, "a packet of size 0");
    p.meta = netif::from_tx_flags(first.flags);

    if (first.flags & netif::txf::extra_info) {
        bool more = true;
        while (more) {
            if (idx >= avail) return incomplete();
            netif::TxRequest raw = tx_.peek(idx++);
            netif::ExtraInfo e;
            std::memcpy(&e, &raw, sizeof e);
            if (++p.nextras > netif::kMaxExtras) {
                return fail(EPROTO, "more extra-info slots than there are types");
            }
            switch (e.type) {
                case XEN_NETIF_EXTRA_TYPE_GSO: {
                    auto type = e.u.gso.type;
                    bool v4 = type == XEN_NETIF_GSO_TYPE_TCPV4;
                    if (!v4 && type != XEN_NETIF_GSO_TYPE_TCPV6) {
                        return fail(EPROTO, fmt::format("GSO extra info of unknown type {}", type));
                    }
                    if (!(v4 ? vif_.gso_accepted_v4 : vif_.gso_accepted_v6)) {
                        return fail(EPROTO, "GSO that was not negotiated");
                    }
                    if (e.u.gso.size == 0) return fail(EPROTO, "GSO extra info with MSS 0");
                    if (e.u.gso.size >= first.size) {
                        return fail(EPROTO, fmt::format("GSO MSS {} not below the packet size {}",
                                                        e.u.gso.size, first.size));
                    }
                    p.meta.gso = v4 ? netif::Gso::tcpv4 : netif::Gso::tcpv6;
                    p.meta.gso_size = e.u.gso.size;
                    break;
                }
                case XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
                case XEN_NETIF_EXTRA_TYPE_MCAST_DEL:
                case XEN_NETIF_EXTRA_TYPE_HASH:
                    break;  // not negotiated here; harmless to ignore
                default:
                    return fail(EPROTO, fmt::format("extra info of unknown type {}", e.type));
            }
            more = (e.flags & XEN_NETIF_EXTRA_FLAG_MORE) != 0;
        }
    }

    // netif.h: the first request's size is the whole packet's; the data of
    // its own slot is what the later ones leave.
    uint32_t rest = first.size;
    netif::TxRequest frags[netif::kFatalSlots];
    unsigned nfrags = 0;
    bool more = (first.flags & netif::txf::more_data) != 0;
    while (more) {
        if (idx >= avail) return incomplete();
        netif::TxRequest r = tx_.peek(idx++);
        if (p.nslots >= netif::kFatalSlots) {
            return fail(EPROTO, fmt::format("a packet of more than {} slots", netif::kFatalSlots));
        }
        if (r.size > rest) {
            return fail(EPROTO,
                        fmt::format("fragment of {} bytes in a packet with {} left", r.size, rest));
        }
        if (uint32_t(r.offset) + r.size > kPage) {
            return fail(EPROTO, fmt::format("fragment at offset {} size {} crosses its page",
                                            r.offset, r.size));
        }
        rest -= r.size;
        if (auto st = take_id(r.id); !st) return Unexpected{st.error()};
        frags[nfrags++] = r;
        more = (r.flags & netif::txf::more_data) != 0;
    }
    if (uint32_t(first.offset) + rest > kPage) {
        return fail(EPROTO, fmt::format("first slot at offset {} with {} bytes crosses its page",
                                        first.offset, rest));
    }
    // Linux netback answers these with an error and carries on.
    if (p.nslots > netif::kMaxSlots || first.size < netif::kMinFrame) {
        p.refused = first.size < netif::kMinFrame ? Drop::runt : Drop::too_big;
        return idx;
    }

    p.len = first.size;
    p.seg_first = uint32_t(segs_.size());
    uint32_t pos = 0;
    auto add = [&](GrantRef ref, uint16_t offset, uint32_t len) {
        if (!len) return;
        CopySegment s;
        s.src = {.foreign = true, .ref = ref, .offset = offset, .dom = vif_.dom};
        s.dst = {.virt = tx_arena_.get() + p.off + pos};
        s.len = uint16_t(len);
        segs_.push_back(s);
        pos += len;
    };
    add(first.gref, first.offset, rest);
    for (unsigned i = 0; i < nfrags; ++i)
        add(frags[i].gref, frags[i].offset, frags[i].size);
    p.seg_count = uint32_t(segs_.size()) - p.seg_first;
    return idx;
}

void BackQueue::release_ids(const TxPacket& p) {
    for (unsigned i = 0; i < p.nslots; ++i)
        tx_ids_in_flight_.reset(p.ids[i]);
}

void BackQueue::respond_tx(const TxPacket& p, int16_t status) {
    release_ids(p);
    netif::TxResponse r{};
    r.id = p.ids[0];
    r.status = status;
    tx_.put(r);
    for (unsigned i = 0; i < p.nextras; ++i) {
        netif::TxResponse null{};
        null.status = NETIF_RSP_NULL;
        tx_.put(null);
    }
    for (unsigned i = 1; i < p.nslots; ++i) {
        r.id = p.ids[i];
        tx_.put(r);
    }
}

void BackQueue::finish_tx(std::vector<TxPacket>& batch) {
    if (!segs_.empty()) {
        auto st = gt_.copy(segs_);
        if (!st) return fault(st.error());
    }
    auto& c = vif_.counters.rx;
    for (auto& p : batch) {
        if (p.refused) {
            c.drop(*p.refused);
            respond_tx(p, NETIF_RSP_ERROR);
            continue;
        }
        for (uint32_t i = 0; i < p.seg_count; ++i) {
            if (copy_failed(segs_[p.seg_first + i], "tx request")) return;
        }
        std::span<uint8_t> frame(tx_arena_.get() + p.off, p.len);
        auto h = offload::from_ring(frame, p.meta, vif_.rx, c);
        if (!h) {
            c.drop(h.error());
        } else {
            iovec v{frame.data(), frame.size()};
            if (port_.write(*h, {&v, 1})) {
                ++c.packets;
                ++packets_;
                c.bytes += p.len;
            } else {
                c.drop(Drop::port_error);
            }
        }
        respond_tx(p, NETIF_RSP_OKAY);
    }
    if (tx_.push()) {
        (void)ev_->notify(tx_local_);
        ++vif_.counters.notifications_sent;
    }
}

void BackQueue::run_tx() {
    if (broken_) return;
    for (unsigned round = 0; round < kRounds; ++round) {
        auto n = tx_.pending();
        if (!n) return fault(n.error());
        if (*n == 0) {
            if (tx_poll_.again()) return schedule(true, false);
            auto more = tx_.final_check();
            if (!more) return fault(more.error());
            if (!*more) return;
            continue;
        }
        tx_poll_.worked();
        tx_batch_.clear();
        segs_.clear();
        RING_IDX avail = *n;
        size_t off = 0;
        while (avail > 0 && tx_batch_.size() < kBatch && off < kTxBatchBytes) {
            TxPacket p;
            p.off = uint32_t(off);
            auto used = gather_tx(avail, p);
            if (!used) return fault(used.error());
            if (*used == 0) break;  // the rest of this packet is not published yet
            tx_.skip(*used);
            avail -= *used;
            if (!p.refused) off += align64(p.len);
            tx_batch_.push_back(p);
        }
        if (tx_batch_.empty()) {
            auto more = tx_.wait_beyond(avail);
            if (!more) return fault(more.error());
            if (!*more) return;
            continue;
        }
        finish_tx(tx_batch_);
        if (broken_) return;
    }
    schedule(true, false);  // more may wait: after the others had their turn
}

// ---- guest RX -------------------------------------------------------------

Result<bool> BackQueue::read_frame(RxFrame& f, size_t off) {
    vnet::Hdr h;
    iovec v{rx_arena_.get() + off, kMaxFrame};
    auto n = port_.read(h, {&v, 1});
    if (!n) return Unexpected{n.error()};
    if (*n == 0) return false;
    auto& c = vif_.counters.tx;
    f.data = rx_arena_.get() + off;
    f.len = uint32_t(*n);
    if (f.len > netif::kMaxPacket || f.len < netif::kMinFrame) {
        c.drop(f.len < netif::kMinFrame ? Drop::runt : Drop::too_big);
        f.dropped = true;
        return true;
    }
    if (offload::must_cut({f.data, f.len}, h, vif_.tx)) {
        // Its segments come next, from cut_ (run_rx); this frame is done.
        auto m = offload::cut({f.data, f.len}, h, vif_.tx, cut_, c);
        if (!m) c.drop(m.error());
        cut_meta_ = m ? *m : netif::Meta{};
        f.dropped = true;
        return true;
    }
    auto m = offload::to_ring({f.data, f.len}, h, vif_.tx, c);
    if (!m) {
        c.drop(m.error());
        f.dropped = true;
        return true;
    }
    f.meta = *m;
    admit(f);
    return true;
}

// The next segment of a frame cut in read_frame, copied to the arena (the
// cut buffer is refilled by the next cut, maybe before this batch's copy).
void BackQueue::next_segment(RxFrame& f, size_t off) {
    auto seg = cut_.front();
    std::memcpy(rx_arena_.get() + off, seg.data(), seg.size());
    cut_.pop();
    f.data = rx_arena_.get() + off;
    f.len = uint32_t(seg.size());
    f.meta = cut_meta_;
    admit(f);
}

void BackQueue::admit(RxFrame& f) {
    f.data_slots = (f.len + kPage - 1) / kPage;
    if (f.data_slots > 1 && !vif_.tx.sg) {
        vif_.counters.tx.drop(Drop::too_big);
        f.dropped = true;
    }
}

void BackQueue::finish_rx(std::vector<RxFrame>& batch) {
    if (!segs_.empty()) {
        auto st = gt_.copy(segs_);
        if (!st) return fault(st.error());
        for (const auto& s : segs_) {
            if (copy_failed(s, "rx buffer")) return;
        }
    }
    auto& c = vif_.counters.tx;
    for (const auto& f : batch) {
        ++c.packets;
        c.bytes += f.len;
    }
    packets_ += batch.size();
    if (rx_.push()) {
        (void)ev_->notify(rx_local_);
        ++vif_.counters.notifications_sent;
    }
}

void BackQueue::run_rx() {
    if (broken_) return;
    for (unsigned round = 0; round < kRounds; ++round) {
        auto n = rx_.pending();
        if (!n) return fault(n.error());
        RING_IDX avail = *n;
        rx_batch_.clear();
        segs_.clear();
        size_t off = 0;
        bool port_empty = false;
        std::optional<RxFrame> no_room;  // read, but the frontend has no buffers for it
        while (rx_batch_.size() < kBatch && off + kMaxFrame <= kArena) {
            RxFrame f;
            if (held_) {
                f = *held_;
            } else if (!cut_.empty()) {
                next_segment(f, off);
                if (f.dropped) continue;
            } else {
                auto got = read_frame(f, off);
                if (!got) {
                    log::warn("{}: queue {}: {}", vif_.name, index_, got.error().message());
                    vif_.counters.tx.drop(Drop::port_error);
                    port_empty = true;
                    break;
                }
                if (!*got) {
                    port_empty = true;
                    break;
                }
                if (f.dropped) continue;
            }
            if (f.slots() > avail) {
                no_room = f;
                break;
            }
            held_.reset();
            avail -= f.slots();
            if (f.data != held_buf_.data()) off += align64(f.len);

            // netif.h "Guest receive": data slots in order, the GSO extra
            // right after the first; response I answers request I.
            f.seg_first = uint32_t(segs_.size());
            uint32_t pos = 0;
            for (unsigned s = 0; s < f.data_slots; ++s) {
                netif::RxRequest req = rx_.take();
                uint32_t chunk = std::min<uint32_t>(kPage, f.len - pos);
                CopySegment seg;
                seg.src = {.virt = f.data + pos};
                seg.dst = {.foreign = true, .ref = req.gref, .offset = 0, .dom = vif_.dom};
                seg.len = uint16_t(chunk);
                segs_.push_back(seg);
                netif::RxResponse rsp{};
                rsp.id = req.id;
                rsp.offset = 0;
                rsp.status = int16_t(chunk);
                if (s == 0) {
                    rsp.flags = netif::rx_flags(f.meta);
                    if (f.meta.gso != netif::Gso::none) rsp.flags |= netif::rxf::extra_info;
                }
                if (s + 1 < f.data_slots) rsp.flags |= netif::rxf::more_data;
                rx_.put(rsp);
                if (s == 0 && f.meta.gso != netif::Gso::none) {
                    (void)rx_.take();  // its buffer carries nothing; the slot does
                    netif::ExtraInfo e = netif::gso_extra(f.meta);
                    netif::RxResponse raw;
                    std::memcpy(&raw, &e, sizeof raw);
                    rx_.put(raw);
                }
                pos += chunk;
            }
            f.seg_count = uint32_t(segs_.size()) - f.seg_first;
            rx_batch_.push_back(f);
        }
        if (!rx_batch_.empty()) {
            rx_poll_.worked();
            finish_rx(rx_batch_);
        }
        if (broken_) return;
        if (no_room && !held_) {
            // Kept aside until the frontend posts buffers, as the arena is
            // reused meanwhile; only now that the batch is copied: the
            // frame held before may have been in it, copied from here.
            held_buf_.assign(no_room->data, no_room->data + no_room->len);
            no_room->data = held_buf_.data();
            held_ = std::make_unique<RxFrame>(*no_room);
        }

        if (held_) {
            // Wait for buffers: stop reading the TAP (the kernel queues or
            // drops), and ask the frontend to notify when it posts more.
            if (port_watched_) {
                (void)r_.modify(port_.fd(), 0);
                port_watched_ = false;
            }
            if (rx_poll_.again()) return schedule(false, true);
            auto more = rx_.final_check();
            if (!more) return fault(more.error());
            if (!*more) return;
            continue;
        }
        if (!port_watched_) {
            (void)r_.modify(port_.fd(), EPOLLIN);
            port_watched_ = true;
        }
        if (port_empty) {
            // Keep req_event current so the frontend's posts are not
            // notified for nothing while the TAP is quiet.
            return;
        }
    }
    schedule(false, true);
}

}  // namespace xnet::netback
