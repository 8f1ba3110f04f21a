// Guest TX of one backend queue (io/netif.h, "Guest transmit"): a batch of
// packets parsed from the TX ring (tx_chain.h), their data copied into the
// local arena with one grant copy, each passed to the TAP through the
// checksum rules, and every request answered in order.
#include <sys/uio.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "datapath.h"
#include "tx_chain.h"

namespace xnet::netback {

Result<unsigned> BackQueue::gather_tx(RING_IDX avail, TxPacket& p) {
    TxChain c;
    auto used = parse_tx_chain([this](RING_IDX i, netif::TxRequest& r) { tx_.peek(i, r); }, avail,
                               {vif_.gso_accepted_v4, vif_.gso_accepted_v6}, c);
    if (!used || *used == 0) return used;
    XNET_TRY(take_ids(c, p));
    p.meta = c.meta;
    p.nextras = uint8_t(c.nextras);
    p.refused = c.refused;
    if (!p.refused) plan_tx_copy(c, p);
    return used;
}

// netif.h lets a frontend reuse a request id only after its response: two
// in flight at once would make our responses ambiguous.
Status BackQueue::take_ids(const TxChain& c, TxPacket& p) {
    auto take = [&](uint16_t id) -> Status {
        if (tx_ids_in_flight_.test(id)) {
            return fail(EPROTO, fmt::format("TX request id {} reused before its response", id));
        }
        tx_ids_in_flight_.set(id);
        p.ids[p.nslots++] = id;
        return {};
    };
    XNET_TRY(take(c.first.id));
    for (unsigned i = 0; i < c.nfrags; ++i) {
        XNET_TRY(take(c.frags[i].id));
    }
    return {};
}

// The copy segments that bring the packet's data into the arena at p.off:
// the first slot's share, then each fragment's.
void BackQueue::plan_tx_copy(const TxChain& c, TxPacket& p) {
    p.len = c.first.size;
    p.seg_first = uint32_t(segs_.size());
    uint32_t pos = 0;
    auto add = [&](GrantRef ref, uint16_t offset, uint32_t len) {
        if (!len) return;
        // Built where it stays: a segment filled field by field and then
        // copied whole is read back across its own stores, which stalls
        // (as BackRing::peek explains).
        CopySegment& s = segs_.emplace_back();
        s.src = {.foreign = true, .ref = ref, .offset = offset, .dom = vif_.peer};
        s.dst = {.virt = tx_arena_.get() + p.off + pos};
        s.len = uint16_t(len);
        pos += len;
    };
    add(c.first.gref, c.first.offset, c.first_len);
    for (unsigned i = 0; i < c.nfrags; ++i)
        add(c.frags[i].gref, c.frags[i].offset, c.frags[i].size);
    p.seg_count = uint32_t(segs_.size()) - p.seg_first;
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

// One packet of a copied batch to the TAP, through the checksum rules.
void BackQueue::deliver_tx(const TxPacket& p) {
    auto& c = vif_.counters.rx;
    std::span<uint8_t> frame(tx_arena_.get() + p.off, p.len);
    auto h = offload::from_ring(frame, p.meta, vif_.rx, c);
    if (!h) return c.drop(h.error());
    iovec v{frame.data(), frame.size()};
    if (!port_.write(*h, {&v, 1})) return c.drop(Drop::port_error);
    ++c.packets;
    ++packets_;
    c.bytes += p.len;
}

void BackQueue::finish_tx(std::vector<TxPacket>& batch) {
    if (!segs_.empty()) {
        auto st = gt_.copy(segs_);
        if (!st) return fault(st.error());
    }
    for (const auto& p : batch) {
        if (p.refused) {
            vif_.counters.rx.drop(*p.refused);
            respond_tx(p, NETIF_RSP_ERROR);
            continue;
        }
        for (uint32_t i = 0; i < p.seg_count; ++i) {
            if (copy_failed(segs_[p.seg_first + i], "tx request")) return;
        }
        deliver_tx(p);
        respond_tx(p, NETIF_RSP_OKAY);
    }
    if (tx_.push()) {
        (void)ev_->notify(tx_local_);
        ++vif_.counters.notifications_sent;
    }
}

// The vif's rate (netif/credit.h), for the packet at the ring's head. As
// Linux's netback, the size charged is the first request's: the whole
// packet's (netif.h), taken before the rest of it is looked at.
bool BackQueue::credit_allows(uint64_t& size) {
    netif::TxRequest first;
    tx_.peek(0, first);
    size = first.size;
    return vif_.tx_credit.allows(size, netif::Credit::Clock::now());
}

// The requests stay on the ring, unanswered: the frontend fills it and
// stops. A timer takes them up when the next interval's credit is due
// (Linux's credit_timeout); no final check, so no notification wakes us
// for nothing meanwhile.
void BackQueue::wait_for_credit() {
    if (credit_waiting_) return;
    credit_waiting_ = true;
    ++vif_.counters.rate_throttled;
    auto due = vif_.tx_credit.retry_at() - netif::Credit::Clock::now();
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(due);
    auto t = r_.after(std::max(ms, std::chrono::milliseconds(0)), [this] {
        credit_waiting_ = false;
        run_tx();
    });
    if (!t) return fault(t.error());
    credit_ = std::move(*t);
}

void BackQueue::credit_changed() {
    credit_.cancel();
    credit_waiting_ = false;
    kick();
}

// Parses packets off the ring into tx_batch_ until a limit, the end of
// what is published or the vif's credit; AVAIL is left with the requests
// not taken.
Status BackQueue::gather_tx_batch(RING_IDX& avail) {
    tx_batch_.clear();
    segs_.clear();
    size_t off = 0;
    const bool limited = vif_.tx_credit.rate().limited();
    while (avail > 0 && tx_batch_.size() < kBatch && off < kTxBatchBytes) {
        uint64_t size = 0;
        if (limited && !credit_allows(size)) {
            wait_for_credit();
            break;
        }
        // Parsed in place, for the reason plan_tx_copy builds its segments so.
        TxPacket& p = tx_batch_.emplace_back();
        p.off = uint32_t(off);
        XNET_TRY_ASSIGN(auto used, gather_tx(avail, p));
        if (used == 0) {  // the rest of this packet is not published yet
            tx_batch_.pop_back();
            break;
        }
        tx_.skip(used);
        avail -= used;
        vif_.tx_credit.charge(size);
        if (!p.refused) off += align64(p.len);
    }
    return {};
}

void BackQueue::run_tx() {
    if (broken_ || credit_waiting_) return;
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
        RING_IDX avail = *n;
        if (auto st = gather_tx_batch(avail); !st) return fault(st.error());
        if (tx_batch_.empty()) {
            if (credit_waiting_) return;
            auto more = tx_.wait_beyond(avail);
            if (!more) return fault(more.error());
            if (!*more) return;
            continue;
        }
        finish_tx(tx_batch_);
        if (broken_ || credit_waiting_) return;
    }
    schedule(true, false);  // more may wait: after the others had their turn
}

}  // namespace xnet::netback
