// Frames for the offload tests (test_offload_tx.cc, test_offload_rx.cc):
// specs of the frame builder (frames.h), a frame as the local stack hands it
// with NEEDS_CSUM, and the two offload calls on byte vectors.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "frames.h"
#include "netif/netif.h"
#include "netif/offload.h"

namespace offload_test {

using namespace xnet;
using xt::Bytes;
using xt::Spec;

inline Spec tcp(int ip, std::vector<std::uint16_t> tags = {}, std::size_t payload = 301) {
    Spec s;
    s.ip = ip;
    s.tags = std::move(tags);
    s.payload = payload;
    return s;
}

inline Spec udp(int ip) {
    Spec s = tcp(ip);
    s.l4 = 17;
    return s;
}

// tcp(4) with something changed.
template <class F>
Spec v4_with(F change) {
    Spec s = tcp(4);
    change(s);
    return s;
}

// A frame as the local stack hands it with NEEDS_CSUM: the innermost field
// holds the pseudo-header sum; the header says where, as the builder knows it.
struct StackFrame {
    xt::Built built;
    Bytes frame;
    vnet::Hdr hdr;
};

inline StackFrame needs_csum(const Spec& s) {
    StackFrame sf{xt::build(s), {}, {}};
    sf.frame = xt::partial_of(sf.built);
    const bool inner = sf.built.inner_csum_at != 0;
    const std::size_t start = inner ? sf.built.inner_l4_off : sf.built.l4_off;
    const std::size_t at = inner ? sf.built.inner_csum_at : sf.built.csum_at;
    sf.hdr.flags = vnet::kNeedsCsum;
    sf.hdr.csum_start = static_cast<std::uint16_t>(start);
    sf.hdr.csum_offset = static_cast<std::uint16_t>(at - start);
    return sf;
}

inline auto to_ring(Bytes& f, const vnet::Hdr& h, const offload::TxRules& r, DirCounters& c) {
    return offload::to_ring(std::span<std::uint8_t>(f), h, r, c);
}

inline auto from_ring(Bytes& f, const netif::Meta& m, bool checksum, DirCounters& c) {
    return offload::from_ring(std::span<std::uint8_t>(f), m,
                              offload::RxRules{offload::every_if(checksum)}, c);
}

inline const offload::TxRules kAllTx = offload::kEveryTxOffload;

}  // namespace offload_test
