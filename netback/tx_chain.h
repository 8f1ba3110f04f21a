// One guest TX packet as its requests describe it (io/netif.h, "Guest
// transmit"): the first request (whose size is the whole packet's), its
// extra-info slots, then the fragments chained by NETTXF_more_data. A pure
// parser: it reads published requests and changes nothing, so it can be
// tested and fuzzed on its own; BackQueue (tx.cc) then takes the ids and
// copies the data.
#pragma once

#include <cstdint>
#include <optional>

#include "netif/counters.h"
#include "netif/extras.h"
#include "netif/netif.h"
#include "runtime/error.h"

namespace xnet::netback {

// Left uninitialised where parse_tx_chain sets it: a chain is parsed per
// packet, and zeroing 20 requests each time halved the 64-byte packet
// rate (tests/bench/bench_ring.cc).
struct TxChain {
    netif::TxRequest first;                      // set by the parser
    netif::TxRequest frags[netif::kFatalSlots];  // the first nfrags are
    unsigned nfrags = 0;
    unsigned nextras = 0;
    netif::Meta meta;
    uint32_t first_len = 0;  // data in the first slot: what the fragments leave
    // Well formed but refused as Linux netback refuses it (an error
    // response, the ring goes on): too many slots, or a runt.
    std::optional<Drop> refused;

    unsigned slots() const { return 1 + nextras + nfrags; }
};

// Reads the packet at the head of AVAIL published requests, PEEK(I, R)
// copying the I-th into R. The slots it takes; 0 if its chain is not all published yet;
// an error (EPROTO) for a violation of the protocol.
template <class Peek>
Result<unsigned> parse_tx_chain(const Peek& peek, uint32_t avail, netif::GsoAccepted accepted,
                                TxChain& out);

// The checks, on one request at a time (tx_chain.cc).
namespace txcheck {
Status first(const netif::TxRequest& r);
Status gso_below_size(const netif::Meta& m, uint16_t size);
Status frag(const netif::TxRequest& r, unsigned slots, uint32_t rest);
Status first_fits(const netif::TxRequest& r, uint32_t first_len);
std::optional<Drop> refusal(const TxChain& c);
Status whole_ring(uint32_t avail);
}  // namespace txcheck

template <class Peek>
Result<unsigned> parse_tx_chain(const Peek& peek, uint32_t avail, netif::GsoAccepted accepted,
                                TxChain& out) {
    auto incomplete = [&]() -> Result<unsigned> {
        XNET_TRY(txcheck::whole_ring(avail));
        return 0u;
    };
    out.nfrags = 0;
    peek(0, out.first);
    XNET_TRY(txcheck::first(out.first));
    out.meta = netif::from_tx_flags(out.first.flags);
    unsigned idx = 1;
    netif::ExtraChain extras(accepted);
    for (bool more = out.first.flags & netif::txf::extra_info; more;) {
        if (idx >= avail) return incomplete();
        netif::TxRequest raw;
        peek(idx++, raw);
        XNET_TRY_ASSIGN(more, extras.take(netif::as_extra(raw), out.meta));
    }
    out.nextras = extras.slots();
    XNET_TRY(txcheck::gso_below_size(out.meta, out.first.size));
    uint32_t rest = out.first.size;
    for (bool more = out.first.flags & netif::txf::more_data; more;) {
        if (idx >= avail) return incomplete();
        // In bounds: frag() refuses a chain before nfrags reaches the end.
        netif::TxRequest& r = out.frags[out.nfrags];
        peek(idx++, r);
        XNET_TRY(txcheck::frag(r, 1 + out.nfrags, rest));
        ++out.nfrags;
        rest -= r.size;
        more = (r.flags & netif::txf::more_data) != 0;
    }
    out.first_len = rest;
    XNET_TRY(txcheck::first_fits(out.first, rest));
    out.refused = txcheck::refusal(out);
    return idx;
}

}  // namespace xnet::netback
