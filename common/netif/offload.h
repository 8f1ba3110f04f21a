// Checksum and GSO offload across the ring: what an end does with a frame
// it puts on the ring (from the local stack's virtio header to netif Meta)
// and with a frame it takes from the ring (Meta to a virtio header for the
// local stack). Both ends use the same two functions; the rules come from
// the end's policy and from what the peer advertised in xenstore.
//
// The two checksum bits stay separate throughout:
// csum_blank means "the field holds the pseudo-header sum, finish it";
// data_validated means "the sender knows the checksums are right".
#pragma once

#include <utility>

#include <cstdint>
#include <span>
#include <string_view>

#include "netif/counters.h"
#include "netif/netif.h"
#include "netif/netif_keys.h"
#include "netif/policy.h"
#include "packet/segment.h"
#include "packet/vnet.h"
#include "runtime/error.h"
#include "runtime/expected.h"

namespace xnet::offload {

// This end's settings are a Policy (netif/policy.h: the table of settings
// and profiles), from the daemon's options and its <dir>/offload/ keys.

// For frames this end puts on the ring.
struct TxRules {
    // Per kind of frame: policy tx-checksum-<proto> and the peer takes
    // partials of its IP version (no feature-no-csum-offload for IPv4,
    // feature-ipv6-csum-offload for IPv6).
    Protos csum_blank;
    bool data_validated = false;
    bool gso_v4 = false;  // the peer takes TCPv4 GSO (with sg)
    bool gso_v6 = false;
    bool sg = false;  // the peer takes multi-slot packets
    // The peer finds the checksum of a tagged (802.1Q/802.1ad) frame
    // itself (feature-xnet-tagged-offload). Without it, a partial checksum
    // on a tagged frame is completed here and tagged GSO is cut here:
    // Linux's netfront and netback locate checksums in untagged frames
    // only (skb_checksum_setup knows ETH_P_IP and ETH_P_IPV6) and drop
    // the rest, while a TAP hands us tagged frames with offloads.
    bool tagged = false;
};
// Every one of them: two ends that take everything (tests, benchmarks).
inline constexpr TxRules kEveryTxOffload{.csum_blank = kEveryProto,
                                         .data_validated = true,
                                         .gso_v4 = true,
                                         .gso_v6 = true,
                                         .sg = true,
                                         .tagged = true};

// What an end advertises in xenstore about what it takes from the ring;
// both ends use the same six keys (kFeatureKeys).
struct Features {
    bool sg = false;
    bool gso4 = false, gso6 = false;
    bool ipv6_csum = false;  // takes IPv6 partials
    bool no_csum = false;    // wants IPv4 checksums complete (netif.h gives the key to
                             // frontends; xnetback writes it too, and xnetfront honours it)
    bool tagged = false;     // xnet's: takes offloads on tagged frames (TxRules::tagged)
    bool operator==(const Features&) const = default;
};
inline constexpr std::pair<std::string_view, bool Features::*> kFeatureKeys[] = {
    {netif::key::feature_sg, &Features::sg},
    {netif::key::feature_gso_tcpv4, &Features::gso4},
    {netif::key::feature_gso_tcpv6, &Features::gso6},
    {netif::key::feature_ipv6_csum_offload, &Features::ipv6_csum},
    {netif::key::feature_no_csum_offload, &Features::no_csum},
    {netif::key::feature_xnet_tagged_offload, &Features::tagged},
};
// What an end with policy P advertises. GSO only where partials are
// accepted: a GSO frame always travels with a partial checksum. netif
// speaks of IP versions only: IPv4 partials are refused (no-csum-offload)
// when neither TCPv4 nor UDPv4 takes them, and so for IPv6; the kind a
// version's other half refuses is completed here when it arrives partial.
Features advertised(const Policy& p);
// What an end with policy P may put on the ring to a peer that advertised PEER.
TxRules tx_rules(const Policy& p, const Features& peer);

// Whether a frame from the local stack must be cut into segments before it
// goes on the ring: tagged GSO for a peer without TxRules::tagged.
bool must_cut(std::span<const uint8_t> frame, const vnet::Hdr& h, const TxRules& rules);
// Cuts such a frame into OUT, every segment with complete checksums, and
// returns what travels with each of them, or why the frame is dropped.
Expected<netif::Meta, Drop> cut(std::span<const uint8_t> frame, const vnet::Hdr& h,
                                const TxRules& rules, pkt::Segments& out, DirCounters& c);

// For frames this end takes from the ring.
struct RxRules {
    Protos checksum;  // policy rx-checksum-<proto>
};

// Puts a frame from the local stack on the ring. FRAME may be changed
// (a checksum completed). Returns what travels with it, or why it cannot.
Expected<netif::Meta, Drop> to_ring(std::span<uint8_t> frame, const vnet::Hdr& h,
                                    const TxRules& rules, DirCounters& c);

// Takes a frame from the ring for the local stack. FRAME may be changed (a
// pseudo-header sum rewritten, a checksum completed). Returns the virtio
// header to hand it on with, or why it is dropped.
Expected<vnet::Hdr, Drop> from_ring(std::span<uint8_t> frame, const netif::Meta& m,
                                    const RxRules& rules, DirCounters& c);

}  // namespace xnet::offload
