// The frontend datapath of one queue. The backend is not trusted either
// (netif.h "trusted"): response ids, statuses, offsets and chain lengths
// are checked before they are used.
#include "queue.h"

#include <sys/epoll.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "xnet/log.h"

namespace xnet::netfront {

using netif::kPage;

namespace {
constexpr unsigned kMaxFramePages = 17;  // 64 KiB of frame and its headers
constexpr unsigned kBudget = 256;        // frames per direction per wakeup
// Requests are published every this many bytes of frames, so the backend
// copies big frames while we read the next ones, rather than after.
constexpr size_t kPushBytes = 64u << 10;
}  // namespace

FrontQueue::FrontQueue(std::unique_ptr<EventChannels> ev, FrontShared& f, unsigned index)
    : ev_(std::move(ev)), f_(f), index_(index), tx_poll_(f.busy_poll), rx_poll_(f.busy_poll) {}

FrontQueue::~FrontQueue() {
    *alive_ = false;
    if (r_) {
        r_->remove(ev_->fd());
        if (port_) r_->remove(port_->fd());
    }
}

Result<std::unique_ptr<FrontQueue>> FrontQueue::create(GrantShare& gs,
                                                       std::unique_ptr<EventChannels> ev,
                                                       FrontShared& f, unsigned index, bool split) {
    std::unique_ptr<FrontQueue> q(new FrontQueue(std::move(ev), f, index));
    auto share = [&](size_t pages, bool writable, const char* what) -> Result<SharedPages> {
        auto s = gs.share(f.backend, pages, writable);
        if (!s) {
            return fail(s.error().code, fmt::format("granting the {} of queue {} to domain {}",
                                                    what, index, f.backend));
        }
        return s;
    };
    auto t = share(1, true, "TX ring");
    if (!t) return Unexpected{t.error()};
    auto r = share(1, true, "RX ring");
    if (!r) return Unexpected{r.error()};
    auto tp = share(kPool, false, "TX buffers");
    if (!tp) return Unexpected{tp.error()};
    auto rp = share(kPool, true, "RX buffers");
    if (!rp) return Unexpected{rp.error()};
    q->tx_ring_page_ = std::move(*t);
    q->rx_ring_page_ = std::move(*r);
    q->tx_pool_ = std::move(*tp);
    q->rx_pool_ = std::move(*rp);

    auto* ts = static_cast<netif::TxSring*>(q->tx_ring_page_.addr());
    auto* rs = static_cast<netif::RxSring*>(q->rx_ring_page_.addr());
    ring::init_shared(ts);
    ring::init_shared(rs);
    q->tx_ = TxRing(ts);
    q->rx_ = RxRing(rs);
    q->keys_.tx_ref = q->tx_ring_page_.refs()[0];
    q->keys_.rx_ref = q->rx_ring_page_.refs()[0];

    auto port = q->ev_->alloc_unbound(f.backend);
    if (!port) return Unexpected{port.error()};
    q->keys_.tx_port = q->keys_.rx_port = *port;
    if (split) {
        auto rx = q->ev_->alloc_unbound(f.backend);
        if (!rx) return Unexpected{rx.error()};
        q->keys_.rx_port = *rx;
    }
    for (unsigned i = 0; i < kPool; ++i)
        q->rx_free_.push_back(uint16_t(kPool - 1 - i));
    return q;
}

Status FrontQueue::start(Reactor& r, LocalPort& port) {
    r_ = &r;
    port_ = &port;
    auto st = r.add(ev_->fd(), EPOLLIN, [this](uint32_t) { on_event(); });
    if (!st) return st;
    st = r.add(port.fd(), EPOLLIN, [this](uint32_t) { on_port(); });
    if (!st) return st;
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
    f_.fault(e);
}

void FrontQueue::watch_port(bool on) {
    if (on == port_watched_ || !r_ || !port_) return;
    (void)r_->modify(port_->fd(), on ? uint32_t(EPOLLIN) : 0u);
    port_watched_ = on;
}

// Runs RUN once after the current handler, unless it is already due; FLAG
// says it is. Nothing runs if the queue is gone by then.
void FrontQueue::schedule(bool& flag, void (FrontQueue::*run)()) {
    if (flag) return;
    flag = true;
    r_->defer([this, &flag, run, alive = alive_] {
        if (!*alive) return;
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

// ---- TX: TAP -> ring --------------------------------------------------------

void FrontQueue::run_tx() {
    if (broken_) return;
    (void)take_tx_responses();
    if (broken_) return;
    auto& c = f_.counters.tx;
    bool pushed = false;
    size_t unpushed = 0;
    auto push = [&] {
        if (tx_.push()) {
            (void)ev_->notify(keys_.tx_port);
            ++f_.counters.notifications_sent;
        }
        unpushed = 0;
    };
    unsigned n = 0;
    for (; n < kBudget; ++n) {
        // Room for the largest frame: its slots, an extra, and its pages.
        if (tx_.free_slots() < netif::kMaxSlots + 1) break;
        unsigned first = tx_head_ + kMaxFramePages > kPool ? 0 : tx_head_;
        bool room = true;
        for (unsigned i = 0; i < kMaxFramePages && room; ++i)
            room = !tx_busy_[first + i];
        if (!room) break;

        size_t len = 0;
        Expected<netif::Meta, Drop> m = netif::Meta{};
        if (!cut_.empty()) {
            // A segment of a frame cut below, before the port is read again.
            auto seg = cut_.front();
            std::memcpy(tx_page(first), seg.data(), seg.size());
            cut_.pop();
            len = seg.size();
            m = cut_meta_;
        } else {
            vnet::Hdr h;
            iovec v{tx_page(first), kMaxFramePages * kPage};
            auto got = port_->read(h, {&v, 1});
            if (!got) {
                log::warn("{}: queue {}: {}", f_.name, index_, got.error().message());
                c.drop(Drop::port_error);
                n = kBudget + 1;
                break;
            }
            if (*got == 0) {
                n = kBudget + 1;  // drained: no need to come back
                break;
            }
            len = *got;
            if (len > netif::kMaxPacket) {
                c.drop(Drop::too_big);
                continue;
            }
            if (offload::must_cut({tx_page(first), len}, h, f_.tx)) {
                auto cm = offload::cut({tx_page(first), len}, h, f_.tx, cut_, c);
                if (!cm) c.drop(cm.error());
                cut_meta_ = cm ? *cm : netif::Meta{};
                continue;  // the segments go next
            }
            m = offload::to_ring({tx_page(first), len}, h, f_.tx, c);
            if (!m) {
                c.drop(m.error());
                continue;
            }
        }
        unsigned pages = unsigned((len + kPage - 1) / kPage);
        if (pages > 1 && !f_.tx.sg) {
            c.drop(Drop::too_big);
            continue;
        }
        bool gso = m->gso != netif::Gso::none;
        // netif.h "Guest transmit": the first slot's size is the packet's.
        for (unsigned i = 0; i < pages; ++i) {
            netif::TxRequest req{};
            req.gref = tx_pool_.refs()[first + i];
            req.offset = 0;
            req.id = uint16_t(first + i);
            req.size = uint16_t(i == 0 ? len : std::min<size_t>(kPage, len - i * kPage));
            if (i == 0) {
                req.flags = netif::tx_flags(*m);
                if (gso) req.flags |= netif::txf::extra_info;
            }
            if (i + 1 < pages) req.flags |= netif::txf::more_data;
            tx_.put(req);
            tx_busy_[first + i] = true;
            if (i == 0 && gso) {
                netif::ExtraInfo e = netif::gso_extra(*m);
                netif::TxRequest raw{};
                std::memcpy(&raw, &e, sizeof e);
                tx_.put(raw);
            }
        }
        tx_head_ = first + pages == kPool ? 0 : first + pages;
        ++c.packets;
        c.bytes += len;
        pushed = true;
        unpushed += len;
        if (unpushed >= kPushBytes) push();
    }
    if (pushed && unpushed) push();
    if (n == kBudget) {
        schedule(tx_scheduled_,
                 &FrontQueue::run_tx);  // more may wait: after the other queues had a turn
    } else if (n <= kBudget) {
        watch_port(false);  // no room: the responses will bring us back
        tx_poll_.worked();  // ... and they are worth polling for
        schedule(reap_scheduled_, &FrontQueue::reap_tx);
    } else {
        watch_port(true);
    }
}

bool FrontQueue::take_tx_responses() {
    auto n = tx_.pending();
    if (!n) {
        fault(n.error());
        return false;
    }
    bool freed = false;
    for (RING_IDX i = 0; i < *n; ++i) {
        netif::TxResponse r = tx_.take();
        if (r.status == NETIF_RSP_NULL) continue;  // an extra-info slot
        if (r.id >= kPool || !tx_busy_[r.id]) {
            fault(Error{EPROTO, fmt::format("queue {}: TX response for id {}, which is not in "
                                            "flight",
                                            index_, r.id)});
            return false;
        }
        tx_busy_[r.id] = false;
        if (r.status != NETIF_RSP_OKAY) f_.counters.tx.drop(Drop::peer_error);
        freed = true;
    }
    if (*n) tx_poll_.worked();
    return freed;
}

// Responses matter only when TX is blocked on room: otherwise run_tx takes
// them as it goes, and we leave rsp_event behind so that the backend does
// not notify us for each batch it answers.
void FrontQueue::reap_tx() {
    for (;;) {
        if (broken_) return;
        bool freed = take_tx_responses();
        if (broken_ || port_watched_) return;
        if (freed) return run_tx();
        // Blocked: look for responses again soon rather than sleep until
        // the backend's notification.
        if (tx_poll_.again()) return schedule(reap_scheduled_, &FrontQueue::reap_tx);
        auto more = tx_.final_check();
        if (!more) return fault(more.error());
        if (!*more) return;
    }
}

// ---- RX: ring -> TAP --------------------------------------------------------

void FrontQueue::post_rx() {
    bool posted = false;
    while (!rx_free_.empty() && rx_.free_slots() > 0) {
        uint16_t b = rx_free_.back();
        rx_free_.pop_back();
        netif::RxRequest req{};
        req.id = b;
        req.gref = rx_pool_.refs()[b];
        rx_slot_[rx_.req_prod_pvt() & (RxRing::kSize - 1)] = b;
        rx_.put(req);
        posted = true;
    }
    // feature-rx-notify: we tell the backend about new buffers.
    if (posted && rx_.push()) {
        (void)ev_->notify(keys_.rx_port);
        ++f_.counters.notifications_sent;
    }
}

void FrontQueue::run_rx() {
    if (broken_) return;
    auto& c = f_.counters.rx;
    auto bad = [&](std::string what) {
        fault(Error{EPROTO, fmt::format("queue {}: {}", index_, what)});
    };
    for (unsigned budget = 0; budget < kBudget;) {
        auto n = rx_.pending();
        if (!n) return fault(n.error());
        if (*n == 0) {
            if (rx_poll_.again()) {
                schedule(rx_scheduled_, &FrontQueue::run_rx);
                break;
            }
            auto more = rx_.final_check();
            if (!more) return fault(more.error());
            if (!*more) break;
            continue;
        }
        // One packet: its data slots and extras, looked at before taking.
        struct Piece {
            uint16_t buf, off, len;
        };
        Piece pieces[netif::kMaxSlots];
        unsigned npieces = 0, idx = 0;
        netif::Meta meta;
        bool error = false;
        bool complete = false;
        size_t total = 0;
        auto buf_at = [&](unsigned i) {
            return rx_slot_[(rx_.rsp_cons() + i) & (RxRing::kSize - 1)];
        };
        while (idx < *n) {
            netif::RxResponse r = rx_.peek(idx);
            int32_t b = buf_at(idx);
            ++idx;
            if (b < 0) return bad("response in a slot with no buffer");
            if (npieces == 0) meta = netif::from_rx_flags(r.flags);
            if (r.status < 0 || (npieces == 0 && r.status == 0)) {
                error = true;  // the backend's error for this packet
            } else if (uint32_t(r.offset) + uint32_t(r.status) > kPage) {
                return bad(fmt::format("response at offset {} size {} crosses its page", r.offset,
                                       r.status));
            }
            if (npieces == netif::kMaxSlots) {
                return bad(fmt::format("a packet of more than {} slots", netif::kMaxSlots));
            }
            pieces[npieces++] = {uint16_t(b), r.offset, uint16_t(std::max<int16_t>(r.status, 0))};
            total += pieces[npieces - 1].len;
            bool more = r.flags & netif::rxf::more_data;
            if (npieces == 1 && (r.flags & netif::rxf::extra_info)) {
                bool more_extra = true;
                unsigned extras = 0;
                while (more_extra) {
                    if (idx >= *n) break;
                    netif::RxResponse raw = rx_.peek(idx++);
                    netif::ExtraInfo e;
                    std::memcpy(&e, &raw, sizeof e);
                    if (++extras > netif::kMaxExtras) return bad("too many extra-info slots");
                    if (e.type == XEN_NETIF_EXTRA_TYPE_GSO) {
                        bool v4 = e.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV4;
                        if (!v4 && e.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6) {
                            return bad(fmt::format("GSO of unknown type {}", e.u.gso.type));
                        }
                        if (!(v4 ? f_.gso_accepted_v4 : f_.gso_accepted_v6)) {
                            return bad("GSO that was not negotiated");
                        }
                        if (e.u.gso.size == 0) return bad("GSO with MSS 0");
                        meta.gso = v4 ? netif::Gso::tcpv4 : netif::Gso::tcpv6;
                        meta.gso_size = e.u.gso.size;
                    } else if (e.type != XEN_NETIF_EXTRA_TYPE_HASH &&
                               e.type != XEN_NETIF_EXTRA_TYPE_MCAST_ADD &&
                               e.type != XEN_NETIF_EXTRA_TYPE_MCAST_DEL) {
                        return bad(fmt::format("extra info of unknown type {}", e.type));
                    }
                    more_extra = e.flags & XEN_NETIF_EXTRA_FLAG_MORE;
                }
                if (more_extra) break;  // the rest is not published yet
            }
            if (!more) {
                complete = true;
                break;
            }
        }
        if (!complete) {
            if (*n >= RxRing::kSize) return bad("a packet's slot chain fills the whole RX ring");
            break;  // wait for the rest
        }
        // Every slot of the chain, extras included, gives its buffer back.
        for (unsigned i = 0; i < idx; ++i) {
            rx_free_.push_back(uint16_t(buf_at(i)));
            rx_slot_[(rx_.rsp_cons() + i) & (RxRing::kSize - 1)] = -1;
        }
        ++budget;
        if (error) {
            c.drop(Drop::peer_error);
        } else if (total > netif::kMaxPacket) {
            c.drop(Drop::too_big);
        } else if (total < netif::kMinFrame) {
            c.drop(Drop::runt);  // a hostile backend's; the stack has no use for it
        } else {
            std::span<uint8_t> frame;
            if (npieces == 1) {
                frame = {rx_page(pieces[0].buf) + pieces[0].off, pieces[0].len};
            } else {
                size_t pos = 0;
                for (unsigned i = 0; i < npieces; ++i) {
                    std::memcpy(scratch_.data() + pos, rx_page(pieces[i].buf) + pieces[i].off,
                                pieces[i].len);
                    pos += pieces[i].len;
                }
                frame = {scratch_.data(), pos};
            }
            auto h = offload::from_ring(frame, meta, f_.rx, c);
            if (!h) {
                c.drop(h.error());
            } else {
                iovec v{frame.data(), frame.size()};
                if (port_->write(*h, {&v, 1})) {
                    ++c.packets;
                    c.bytes += frame.size();
                } else {
                    c.drop(Drop::port_error);
                }
            }
        }
        rx_.skip(idx);
        rx_poll_.worked();
        if (budget == kBudget)
            schedule(rx_scheduled_,
                     &FrontQueue::run_rx);  // more may wait: after the others had a turn
    }
    post_rx();
}

}  // namespace xnet::netfront
