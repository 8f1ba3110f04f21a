// Guest transmit of one frontend queue (io/netif.h, "Guest transmit"):
// frames read from the TAP straight into the granted pool, through the
// checksum rules, onto the TX ring; the backend's responses free the pool
// pages again.
#include <sys/uio.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "datapath.h"
#include "runtime/log.h"
#include "runtime/prefetch.h"

namespace xnet::netfront {

using netif::kPage;

// Whether the pool and the ring have room for the largest frame (its
// slots, an extra, and its pages); FIRST: where it goes in the pool. (Not
// an optional: one returned through the stack is stored in two parts and
// read back in one, a stall at every frame; see BackRing::peek.)
bool FrontQueue::tx_room(unsigned& first) const {
    if (tx_.free_slots() < netif::kMaxSlots + 1) return false;
    first = tx_head_ + kMaxFramePages > kPool ? 0 : tx_head_;
    for (unsigned i = 0; i < kMaxFramePages; ++i) {
        if (tx_busy_[first + i]) return false;
    }
    return true;
}

// The next frame, in the pool at FIRST: a segment of a frame cut earlier,
// else one read from the TAP and passed through the checksum rules.
FrontQueue::TxNext FrontQueue::next_tx_frame(unsigned first, TxFrame& f) {
    auto& c = f_.counters.tx;
    if (!cut_.empty()) {
        auto seg = cut_.front();
        std::memcpy(tx_page(first), seg.data(), seg.size());
        cut_.pop();
        f = {seg.size(), cut_meta_};
        return TxNext::frame;
    }
    vnet::Hdr h;
    iovec v{tx_page(first), kMaxFramePages * kPage};
    auto got = port_->read(h, {&v, 1});
    if (!got) {
        log::warn("{}: queue {}: {}", f_.name, index_, got.error().message());
        c.drop(Drop::port_error);
        return TxNext::drained;
    }
    if (*got == 0) return TxNext::drained;
    std::span<const uint8_t> frame{tx_page(first), *got};
    if (frame.size() > netif::kMaxPacket) {
        c.drop(Drop::too_big);
        return TxNext::skipped;
    }
    if (offload::must_cut(frame, h, f_.tx)) {
        auto cm = offload::cut(frame, h, f_.tx, cut_, c);
        if (!cm) c.drop(cm.error());
        cut_meta_ = cm ? *cm : netif::Meta{};
        return TxNext::skipped;  // the segments go next
    }
    auto m = offload::to_ring({tx_page(first), *got}, h, f_.tx, c);
    if (!m) {
        c.drop(m.error());
        return TxNext::skipped;
    }
    f = {*got, *m};
    return TxNext::frame;
}

// The frame's requests, one per pool page from FIRST: netif.h "Guest
// transmit", the first slot's size is the packet's, a GSO extra after it.
void FrontQueue::put_tx(unsigned first, unsigned pages, const TxFrame& f) {
    const bool gso = f.meta.gso != netif::Gso::none;
    for (unsigned i = 0; i < pages; ++i) {
        netif::TxRequest req{};
        req.gref = tx_pool_.refs()[first + i];
        req.offset = 0;
        req.id = uint16_t(first + i);
        req.size = uint16_t(i == 0 ? f.len : std::min<size_t>(kPage, f.len - i * kPage));
        if (i == 0) {
            req.flags = netif::tx_flags(f.meta);
            if (gso) req.flags |= netif::txf::extra_info;
        }
        if (i + 1 < pages) req.flags |= netif::txf::more_data;
        tx_.put(req);
        tx_busy_[first + i] = true;
        if (i == 0 && gso) {
            netif::ExtraInfo e = netif::gso_extra(f.meta);
            netif::TxRequest raw{};
            std::memcpy(&raw, &e, sizeof e);
            tx_.put(raw);
        }
    }
    tx_head_ = first + pages == kPool ? 0 : first + pages;
}

// The pool page kPrefetchFrames small frames ahead, which the backend
// copied out of last: its first lines (where the headers go, and all of a
// small frame) are fetched for writing now rather than when the next read
// stores into them (runtime/prefetch.h).
void FrontQueue::prefetch_tx_page() const {
    const uint8_t* p = tx_page((tx_head_ + kPrefetchFrames) % kPool);
    prefetch_for_write(p);
    prefetch_for_write(p + 64);
}

// Frames onto the ring until the budget, the room or the TAP runs out;
// published every kPushBytes so the backend copies while we read on.
FrontQueue::TxStop FrontQueue::send_tx_batch() {
    auto& c = f_.counters.tx;
    size_t unpushed = 0;
    auto push = [&] {
        if (tx_.push()) {
            (void)ev_->notify(keys_.tx_port);
            ++f_.counters.notifications_sent;
        }
        unpushed = 0;
    };
    TxStop stop = TxStop::budget;
    for (unsigned sent = 0; sent < kBudget; ++sent) {
        unsigned first;
        if (!tx_room(first)) {
            stop = TxStop::no_room;
            break;
        }
        TxFrame f;
        TxNext next = next_tx_frame(first, f);
        if (next == TxNext::drained) {
            stop = TxStop::drained;
            break;
        }
        if (next == TxNext::skipped) continue;
        unsigned pages = unsigned((f.len + kPage - 1) / kPage);
        if (pages > 1 && !f_.tx.sg) {
            c.drop(Drop::too_big);
            continue;
        }
        put_tx(first, pages, f);
        prefetch_tx_page();
        ++c.packets;
        c.bytes += f.len;
        unpushed += f.len;
        if (unpushed >= kPushBytes) push();
    }
    if (unpushed) push();
    return stop;
}

void FrontQueue::run_tx() {
    if (broken_) return;
    (void)take_tx_responses();
    if (broken_) return;
    switch (send_tx_batch()) {
        case TxStop::budget:  // more may wait: after the other queues had a turn
            return schedule(tx_scheduled_, &FrontQueue::run_tx);
        case TxStop::no_room:
            watch_port(false);  // the responses will bring us back
            tx_poll_.worked();  // ... and they are worth polling for
            return schedule(reap_scheduled_, &FrontQueue::reap_tx);
        case TxStop::drained:
            return watch_port(true);
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

}  // namespace xnet::netfront
