// Guest RX of one backend queue (io/netif.h, "Guest receive"): frames read
// from the TAP (or the segments of one cut here), passed through the
// checksum rules, placed in the buffers the frontend posted, copied there
// with one grant copy per batch, and answered slot by slot.
#include <sys/epoll.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>

#include "datapath.h"
#include "runtime/log.h"

namespace xnet::netback {

using netif::kPage;

Result<bool> BackQueue::read_frame(RxFrame& f, size_t off) {
    vnet::Hdr h;
    iovec v{rx_arena_.get() + off, kMaxFrame};
    XNET_TRY_ASSIGN(auto n, port_.read(h, {&v, 1}));
    if (n == 0) return false;
    auto& c = vif_.counters.tx;
    f.data = rx_arena_.get() + off;
    f.len = uint32_t(n);
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

// Where the next frame for the guest comes from: the one held for want of
// buffers, the rest of a frame cut into segments, or the TAP.
BackQueue::Next BackQueue::next_rx_frame(RxFrame& f, size_t off) {
    if (held_) {
        f = *held_;
        return Next::frame;
    }
    if (!cut_.empty()) {
        next_segment(f, off);
        return f.dropped ? Next::skipped : Next::frame;
    }
    auto got = read_frame(f, off);
    if (!got) {
        log::warn("{}: queue {}: {}", vif_.name, index_, got.error().message());
        vif_.counters.tx.drop(Drop::port_error);
        return Next::none;
    }
    if (!*got) return Next::none;
    return f.dropped ? Next::skipped : Next::frame;
}

// Puts F in the guest's posted buffers: netif.h "Guest receive", data
// slots in order, the GSO extra right after the first; response I answers
// request I. The copy segments are queued for finish_rx.
void BackQueue::place_rx(RxFrame& f) {
    f.seg_first = uint32_t(segs_.size());
    uint32_t pos = 0;
    for (unsigned s = 0; s < f.data_slots; ++s) {
        netif::RxRequest req = rx_.take();
        uint32_t chunk = std::min<uint32_t>(kPage, f.len - pos);
        CopySegment seg;
        seg.src = {.virt = f.data + pos};
        seg.dst = {.foreign = true, .ref = req.gref, .offset = 0, .dom = vif_.peer};
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
}

// One batch into rx_batch_: frames placed in the AVAIL posted buffers
// until a limit, the TAP has nothing more, or a frame finds no room.
BackQueue::RxBatch BackQueue::fill_rx_batch(RING_IDX avail) {
    RxBatch b;
    rx_batch_.clear();
    segs_.clear();
    size_t off = 0;
    while (rx_batch_.size() < kBatch && off + kMaxFrame <= kArena) {
        RxFrame f;
        Next next = next_rx_frame(f, off);
        if (next == Next::none) {
            b.port_empty = true;
            break;
        }
        if (next == Next::skipped) continue;
        if (f.slots() > avail) {
            b.no_room = f;
            break;
        }
        held_.reset();
        avail -= f.slots();
        if (f.data != held_buf_.data()) off += align64(f.len);
        place_rx(f);
        rx_batch_.push_back(f);
    }
    return b;
}

// Keeps F aside until the frontend posts buffers, as the arena is reused
// meanwhile: called once the batch is copied, since the frame held before
// may have been in it, copied from held_buf_.
void BackQueue::hold(const RxFrame& f) {
    held_buf_.assign(f.data, f.data + f.len);
    held_ = std::make_unique<RxFrame>(f);
    held_->data = held_buf_.data();
}

void BackQueue::watch_port(bool on) {
    if (on == port_watched_) return;
    (void)port_watch_.modify(on ? uint32_t(EPOLLIN) : 0u);
    port_watched_ = on;
}

void BackQueue::run_rx() {
    if (broken_) return;
    for (unsigned round = 0; round < kRounds; ++round) {
        auto n = rx_.pending();
        if (!n) return fault(n.error());
        RxBatch b = fill_rx_batch(*n);
        if (!rx_batch_.empty()) {
            rx_poll_.worked();
            finish_rx(rx_batch_);
        }
        if (broken_) return;
        if (b.no_room && !held_) hold(*b.no_room);
        if (held_) {
            // Wait for buffers: stop reading the TAP (the kernel queues or
            // drops), and ask the frontend to notify when it posts more.
            watch_port(false);
            if (rx_poll_.again()) return schedule(false, true);
            auto more = rx_.final_check();
            if (!more) return fault(more.error());
            if (!*more) return;
            continue;
        }
        watch_port(true);
        // The TAP is quiet: rx_.pending() above kept req_event current, so
        // the frontend's posts are not notified for nothing meanwhile.
        if (b.port_empty) return;
    }
    schedule(false, true);
}

}  // namespace xnet::netback
