// Guest receive of one frontend queue (io/netif.h, "Guest receive"):
// buffers posted from the granted pool, the backend's responses parsed
// (rx_chain.h), each packet passed through the checksum rules to the TAP,
// and its buffers posted again.
#include <sys/uio.h>

#include <cstring>

#include <fmt/format.h>

#include "datapath.h"
#include "rx_chain.h"

namespace xnet::netfront {

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

// The packet's data to the TAP: in place when it is one piece, else
// gathered into scratch_ first (the checksum rules want it contiguous).
void FrontQueue::deliver_rx(const RxChain& p) {
    auto& c = f_.counters.rx;
    if (p.peer_error) return c.drop(Drop::peer_error);
    if (p.len > netif::kMaxPacket) return c.drop(Drop::too_big);
    // A hostile backend's runt: the stack has no use for it.
    if (p.len < netif::kMinFrame) return c.drop(Drop::runt);
    std::span<uint8_t> frame;
    if (p.npieces == 1) {
        frame = {rx_page(p.pieces[0].buf) + p.pieces[0].off, p.pieces[0].len};
    } else {
        size_t pos = 0;
        for (unsigned i = 0; i < p.npieces; ++i) {
            const auto& piece = p.pieces[i];
            std::memcpy(scratch_.data() + pos, rx_page(piece.buf) + piece.off, piece.len);
            pos += piece.len;
        }
        frame = {scratch_.data(), pos};
    }
    auto h = offload::from_ring(frame, p.meta, f_.rx, c);
    if (!h) return c.drop(h.error());
    iovec v{frame.data(), frame.size()};
    if (!port_->write(*h, {&v, 1})) return c.drop(Drop::port_error);
    ++c.packets;
    c.bytes += frame.size();
}

// Every slot of the packet's chain, extras included, gives its buffer back.
void FrontQueue::release_rx(const RxChain& p) {
    for (unsigned i = 0; i < p.slots; ++i) {
        auto& slot = rx_slot_[(rx_.rsp_cons() + i) & (RxRing::kSize - 1)];
        rx_free_.push_back(uint16_t(slot));
        slot = -1;
    }
    rx_.skip(p.slots);
}

void FrontQueue::run_rx() {
    if (broken_) return;
    auto peek = [this](RING_IDX i) { return rx_.peek(i); };
    auto buf = [this](RING_IDX i) { return rx_slot_[(rx_.rsp_cons() + i) & (RxRing::kSize - 1)]; };
    const netif::GsoAccepted accepted{f_.gso_accepted_v4, f_.gso_accepted_v6};
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
        RxChain p;
        auto complete = parse_rx_chain(peek, buf, *n, accepted, p);
        if (!complete) {
            return fault(Error{EPROTO, fmt::format("queue {}: {}", index_, complete.error().what)});
        }
        if (!*complete) break;  // wait for the rest
        ++budget;
        deliver_rx(p);
        release_rx(p);
        rx_poll_.worked();
        // More may wait: after the others had a turn.
        if (budget == kBudget) schedule(rx_scheduled_, &FrontQueue::run_rx);
    }
    post_rx();
}

}  // namespace xnet::netfront
