// Test helpers: a reference checksum written the slow, obvious way, and a
// builder of frames with every header combination the parser knows.
//
// Nothing here uses libxnet: the reference sums big-endian 16-bit words one
// at a time with an end-around carry after each addition, and the builder
// computes every checksum with it, so the library is checked against an
// independent implementation (and the pcap suite checks both with tshark).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace xt {

using Bytes = std::vector<std::uint8_t>;

// RFC 1071 folded sum of `n` bytes in host order (not complemented).
std::uint16_t ref_sum(const std::uint8_t* p, std::size_t n, std::uint32_t seed = 0);
inline std::uint16_t ref_sum(const Bytes& b, std::uint32_t seed = 0) {
    return ref_sum(b.data(), b.size(), seed);
}

// Big-endian access to frame bytes.
std::uint16_t get16(const Bytes& b, std::size_t off);
void put16(Bytes& b, std::size_t off, std::uint16_t v);

// Deterministic pseudo-random bytes.
Bytes random_bytes(std::size_t n, std::uint64_t seed);

enum class Frag { none, first, later };
enum class Tun { none, vxlan, geneve, geneve_ip };

struct Spec {
    std::vector<std::uint16_t> tags;     // TPIDs, outermost first (0x8100, 0x88a8, 0x9100)
    int ip = 4;                          // 4, 6, or 0 for a non-IP ethertype (ARP)
    std::size_t ipv4_options = 0;        // bytes, a multiple of 4, at most 40
    std::vector<std::uint8_t> ipv6_ext;  // extension header types in order: 0, 43, 44, 51, 60
    std::uint8_t routing_type = 4;       // for a 43: 0, 2 or 4
    std::uint8_t segments_left = 0;
    Frag frag = Frag::none;
    std::uint8_t l4 = 6;          // 6 TCP, 17 UDP, anything else: opaque payload
    std::size_t tcp_options = 0;  // bytes, a multiple of 4
    std::size_t payload = 0;
    bool udp_zero = false;  // leave the UDP checksum 0
    std::uint16_t dport = 80;
    std::size_t pad = 0;             // Ethernet padding after the datagram
    Tun tunnel = Tun::none;          // sets dport and l4 = UDP
    std::size_t geneve_options = 0;  // bytes, a multiple of 4
    std::shared_ptr<const Spec> inner;
    std::uint64_t seed = 1;
};

// A built frame with every checksum right, and where things are.
struct Built {
    Bytes bytes;
    std::size_t l3_off = 0, l4_off = 0, l4_len = 0;
    std::size_t csum_at = 0;   // absolute offset of the L4 checksum field
    std::uint16_t pseudo = 0;  // folded pseudo-header sum, host order
    std::size_t inner_l4_off = 0, inner_l4_len = 0, inner_csum_at = 0;
    std::uint16_t inner_pseudo = 0;
    std::size_t inner_off = 0;  // inner Ethernet (or IP) header
    std::size_t ipv4_header_len = 0;
};

Built build(const Spec& s);

// Every header combination the parser knows, named, each with several
// payload lengths (odd and even): tags x IP variants x transports, and the
// tunnels with their inner frames.
struct Named {
    std::string name;
    Spec spec;
};
std::vector<Named> catalogue();

// The frame as a stack hands it over with a partial checksum: the innermost
// L4 field holds its folded pseudo-header sum (a tunnel's outer checksum keeps
// the value that is right once the inner one is filled, as Linux's local
// checksum offload makes it).
Bytes partial_of(const Built& b);

}  // namespace xt
