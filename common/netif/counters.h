// Per-vif, per-direction counters (docs/datapath.md, "Counters"). A direction
// is named from the end that keeps it: `tx` is what this end put on the
// ring, `rx` what it took from the ring.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "netif/proto.h"

namespace xnet {

enum class Drop : uint8_t {
    no_buffers,     // the peer posted no room (guest RX) / nothing to read into
    too_big,        // more than the protocol or the peer's features allow
    runt,           // shorter than an Ethernet header
    bad_frame,      // a csum_blank/GSO frame whose headers do not parse
    bad_checksum,   // verified here and found wrong (rx-checksum off)
    bad_csum_meta,  // NEEDS_CSUM with a location outside the frame
    gso_refused,    // GSO the other side did not negotiate, or not TCP
    copy_failed,    // a grant copy segment failed
    peer_error,     // the peer answered a request with an error status
    port_error,     // the TAP refused the frame
    disconnected,   // arrived while the vif was not connected
    count_
};
inline constexpr size_t kDropReasons = static_cast<size_t>(Drop::count_);
std::string_view drop_name(Drop d);

// The checksum counters of one kind of frame (netif/proto.h).
struct ProtoCounters {
    uint64_t csum_partial = 0;
    uint64_t csum_completed = 0;
    uint64_t csum_verified = 0;
};
inline constexpr std::pair<const char*, uint64_t ProtoCounters::*> kProtoCounters[] = {
    {"csum_partial", &ProtoCounters::csum_partial},
    {"csum_completed", &ProtoCounters::csum_completed},
    {"csum_verified", &ProtoCounters::csum_verified},
};

struct DirCounters {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    uint64_t gso_packets = 0;
    uint64_t csum_partial = 0;    // passed on with a partial checksum (csum_blank / NEEDS_CSUM)
    uint64_t csum_completed = 0;  // checksums computed in software
    uint64_t csum_verified = 0;   // checksums verified in software
    uint64_t csum_bad = 0;        // of those, found wrong
    // tx: frames that came from the local stack with no partial checksum:
    // complete already (the kernel completes them when the TAP's
    // tx-checksumming is off), or with none to finish (ARP, ICMP).
    uint64_t csum_none = 0;
    uint64_t dv_set = 0;      // data-validated set on the way out
    uint64_t dv_trusted = 0;  // data-validated taken on trust on the way in
    uint64_t gso_fixups = 0;  // GSO frames without a partial checksum, made partial
    uint64_t gso_cut = 0;     // GSO frames cut into segments here (offload.h, must_cut)
    std::array<uint64_t, kDropReasons> drops{};
    // Of csum_partial, csum_completed and csum_verified, those of TCP and
    // UDP over IPv4 and IPv6 (offload::Proto order); frames of other kinds
    // count in the totals only.
    std::array<ProtoCounters, offload::kProtoCount> proto{};

    void drop(Drop d) { ++drops[static_cast<size_t>(d)]; }
    uint64_t dropped() const;
    DirCounters& operator+=(const DirCounters& o);
    // {"packets":1,...,"dropped":0,"drops":{"no_buffers":0,...},
    //  "by_protocol":{"tcpv4":{"csum_partial":0,...},...}}
    std::string json() const;
};

// Every counter of a direction but the drops, by its name in the JSON (and
// so in xnetctl -S): adding a counter is a field above and a row here.
inline constexpr std::pair<const char*, uint64_t DirCounters::*> kDirCounters[] = {
    {"packets", &DirCounters::packets},
    {"bytes", &DirCounters::bytes},
    {"gso_packets", &DirCounters::gso_packets},
    {"csum_partial", &DirCounters::csum_partial},
    {"csum_completed", &DirCounters::csum_completed},
    {"csum_verified", &DirCounters::csum_verified},
    {"csum_bad", &DirCounters::csum_bad},
    {"csum_none", &DirCounters::csum_none},
    {"dv_set", &DirCounters::dv_set},
    {"dv_trusted", &DirCounters::dv_trusted},
    {"gso_fixups", &DirCounters::gso_fixups},
    {"gso_cut", &DirCounters::gso_cut},
};

struct VifCounters {
    DirCounters tx, rx;
    uint64_t notifications_sent = 0;
    uint64_t notifications_received = 0;
    // Wakeups that found no work, past NotifyThrottle's budget (a storm).
    uint64_t notifications_throttled = 0;
    // Times the guest's transmit waited for credit (the vif's rate key).
    uint64_t rate_throttled = 0;
    // The vif was disconnected, or its handshake refused, for an error:
    // the peer's nearly always (a bad ring index, grant, size or key; a
    // local failure to connect counts too). The latest is in last_fault.
    uint64_t faults = 0;
    std::string last_fault;
    VifCounters& operator+=(const VifCounters& o);
    std::string json() const;
};

}  // namespace xnet
