// Finding the transport checksum of an Ethernet frame.
//
// `parse` walks Ethernet, any stack of 802.1Q / 802.1ad tags, IPv4 (with
// options) or IPv6 (with extension headers), and TCP or UDP; when the UDP
// datagram is VXLAN (port 4789) or Geneve (port 6081) it goes on into the
// encapsulated frame once. It reports where each L4 checksum lives in the
// virtio way (csum_start = offset of the L4 header, csum_offset = offset of
// the checksum field within it) and everything needed to compute it.
//
// The input is treated as hostile: every length field is checked against
// the bytes that are really there and against the field that encloses it,
// loops are bounded, and a violation is an error naming the header and the
// offset, never a read out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "runtime/expected.h"

namespace xnet::pkt {

inline constexpr std::size_t kEthHeader = 14;
inline constexpr std::size_t kMaxVlanTags = 8;         // deeper stacks are refused
inline constexpr std::size_t kMaxIpv6ExtHeaders = 16;  // RFC 8200 allows each once-ish
inline constexpr std::uint16_t kVxlanPort = 4789;
inline constexpr std::uint16_t kGenevePort = 6081;

// The ethertypes that start a VLAN tag: 802.1Q, 802.1ad's service tag, and
// the pre-standard QinQ type still seen.
constexpr bool is_vlan_tpid(std::uint16_t type) noexcept {
    return type == 0x8100 || type == 0x88a8 || type == 0x9100;
}

enum class Error : std::uint8_t {
    truncated_ethernet,
    truncated_vlan,
    too_many_vlan_tags,
    truncated_ipv4,
    bad_ipv4_version,
    bad_ipv4_header_length,
    bad_ipv4_total_length,
    truncated_ipv6,
    bad_ipv6_version,
    bad_ipv6_payload_length,
    ipv6_jumbogram,
    truncated_ipv6_extension,
    misplaced_hop_by_hop,
    too_many_ipv6_extensions,
    bad_ipv6_routing_header,
    truncated_tcp,
    bad_tcp_data_offset,
    truncated_udp,
    bad_udp_length,
    truncated_tunnel,
    bad_tunnel_header,
    no_l4_checksum,   // an operation needs a TCP/UDP checksum the frame does not have
    bad_csum_offset,  // a csum_start/csum_offset pair outside the frame
    bad_gso_size,     // a segment size of 0, or one that cuts too many segments
};

std::string_view describe(Error e) noexcept;

struct ParseError {
    Error code;
    std::size_t offset;  // where in the frame the offending header starts
    bool inner = false;  // inside a VXLAN/Geneve payload

    // e.g. "IPv4 total length beyond the frame at offset 14"
    std::string message() const;
};

template <class T>
using ParseResult = Expected<T, ParseError>;

enum class L3 : std::uint8_t { none, ipv4, ipv6 };
enum class L4 : std::uint8_t { none, tcp, udp };
enum class Fragment : std::uint8_t { none, first, later };
enum class Tunnel : std::uint8_t { none, vxlan, geneve };

// Where a transport checksum lives, as virtio_net_hdr says it.
struct CsumLoc {
    std::uint16_t start = 0;   // offset of the L4 header in the frame
    std::uint16_t offset = 0;  // offset of the checksum field in the L4 header
    bool operator==(const CsumLoc&) const = default;
};

// One IP datagram and its transport header. Offsets are from the start of
// the whole frame, also for the encapsulated one.
struct Layers {
    L3 l3 = L3::none;
    L4 l4 = L4::none;
    Fragment fragment = Fragment::none;
    std::uint8_t proto = 0;  // upper-layer protocol (after IPv6 extensions)
    std::uint32_t l3_off = 0;
    std::uint32_t l4_off = 0;   // first byte after the IP header(s)
    std::uint32_t l4_len = 0;   // bytes the L4 checksum covers (UDP: its length field)
    std::uint32_t src_off = 0;  // source address (4 or 16 bytes)
    std::uint32_t dst_off = 0;  // destination for the pseudo header (the final one
                                // when an IPv6 routing header has segments left)
    std::uint16_t ipv4_header_len = 0;
    bool udp_zero_csum = false;  // UDP checksum field is 0 (no checksum in IPv4)

    // There is a TCP/UDP header whose checksum can be located: not a later
    // fragment, not another protocol.
    bool has_l4() const noexcept { return l4 != L4::none; }
    // The checksum can be verified or completed here: a whole, unfragmented
    // datagram (a first fragment has the header but not all the data).
    bool checksummable() const noexcept { return has_l4() && fragment == Fragment::none; }
    CsumLoc csum_loc() const noexcept {
        return {static_cast<std::uint16_t>(l4_off),
                static_cast<std::uint16_t>(l4 == L4::tcp ? 16 : 6)};
    }
    std::uint32_t l4_end() const noexcept { return l4_off + l4_len; }
};

struct Frame {
    std::uint8_t vlan_tags = 0;
    std::uint16_t ethertype = 0;  // after the tags
    Layers outer;

    Tunnel tunnel = Tunnel::none;
    std::uint32_t inner_off = 0;  // inner Ethernet header (or inner IP for Geneve IP)
    std::uint8_t inner_vlan_tags = 0;
    Layers inner;  // l3 == none when the payload is not IP

    // The transport header a partial-checksum flag refers to: the inner one
    // of a tunnel when there is one (as virtio's UDP-tunnel rules say),
    // else the outer one.
    const Layers& innermost() const noexcept {
        return tunnel != Tunnel::none && inner.has_l4() ? inner : outer;
    }
};

ParseResult<Frame> parse(std::span<const std::uint8_t> frame);

}  // namespace xnet::pkt
