// The virtio net header a TAP with IFF_VNET_HDR puts before every frame
// (linux/virtio_net.h, legacy 10-byte layout, native byte order), and the
// TAP offload bits (TUNSETOFFLOAD) that say what the reader accepts.
#pragma once

#include <cstdint>

namespace xnet::vnet {

inline constexpr uint8_t kNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr uint8_t kDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID

inline constexpr uint8_t kGsoNone = 0;   // VIRTIO_NET_HDR_GSO_NONE
inline constexpr uint8_t kGsoTcpv4 = 1;  // VIRTIO_NET_HDR_GSO_TCPV4
inline constexpr uint8_t kGsoUdp = 3;    // VIRTIO_NET_HDR_GSO_UDP
inline constexpr uint8_t kGsoTcpv6 = 4;  // VIRTIO_NET_HDR_GSO_TCPV6
inline constexpr uint8_t kGsoEcn = 0x80;

struct Hdr {
    uint8_t flags = 0;
    uint8_t gso_type = kGsoNone;
    uint16_t hdr_len = 0;  // bytes of headers, a hint for the reader
    uint16_t gso_size = 0;
    uint16_t csum_start = 0;
    uint16_t csum_offset = 0;
    bool operator==(const Hdr&) const = default;
};
static_assert(sizeof(Hdr) == 10);

}  // namespace xnet::vnet
