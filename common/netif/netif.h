// The netif protocol (xen/io/netif.h) as the daemons use it: the flag bits
// of each direction under names that cannot be mixed up, the slot limits,
// and xenbus states.
//
// Guest TX (frontend -> backend) and guest RX (backend -> frontend) use
// different bit positions for the two checksum flags: NETTXF_csum_blank is
// bit 0 but NETRXF_csum_blank is bit 1, and the other way round for
// data_validated. Code never spells a raw bit: it fills a `Meta` and asks
// `tx_flags`/`rx_flags` (or the reverse) for the direction it is on.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <xen/xen.h>
// xen.h first: the io headers use its types.
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#include "platform/gnttab.h"

namespace xnet::netif {

using TxSring = netif_tx_sring;
using RxSring = netif_rx_sring;
using TxRequest = netif_tx_request;
using TxResponse = netif_tx_response;
using RxRequest = netif_rx_request;
using RxResponse = netif_rx_response;
using ExtraInfo = netif_extra_info;

// Guest transmit flags (netif.h NETTXF_*).
namespace txf {
inline constexpr uint16_t csum_blank = NETTXF_csum_blank;
inline constexpr uint16_t data_validated = NETTXF_data_validated;
inline constexpr uint16_t more_data = NETTXF_more_data;
inline constexpr uint16_t extra_info = NETTXF_extra_info;
}  // namespace txf

// Guest receive flags (netif.h NETRXF_*).
namespace rxf {
inline constexpr uint16_t data_validated = NETRXF_data_validated;
inline constexpr uint16_t csum_blank = NETRXF_csum_blank;
inline constexpr uint16_t more_data = NETRXF_more_data;
inline constexpr uint16_t extra_info = NETRXF_extra_info;
}  // namespace rxf

static_assert(txf::csum_blank == 1 && txf::data_validated == 2, "netif.h TX bits");
static_assert(rxf::data_validated == 1 && rxf::csum_blank == 2, "netif.h RX bits");

// A packet needs at most this many data slots to be accepted by every
// backend (XEN_NETIF_NR_SLOTS_MIN); Linux netback drops longer chains and
// treats chains longer than kFatalSlots (its fatal_skb_slots default) as
// a broken frontend.
inline constexpr unsigned kMaxSlots = XEN_NETIF_NR_SLOTS_MIN;
inline constexpr unsigned kFatalSlots = 20;
inline constexpr unsigned kMaxExtras = XEN_NETIF_EXTRA_TYPE_MAX - 1;
inline constexpr uint32_t kMaxPacket = XEN_NETIF_MAX_TX_SIZE;
inline constexpr uint32_t kMinFrame = 14;               // an Ethernet header (ETH_HLEN)
inline constexpr uint32_t kPage = uint32_t(kPageSize);  // XEN_PAGE_SIZE (platform/gnttab.h)

enum class Gso : uint8_t {
    none = XEN_NETIF_GSO_TYPE_NONE,
    tcpv4 = XEN_NETIF_GSO_TYPE_TCPV4,
    tcpv6 = XEN_NETIF_GSO_TYPE_TCPV6,
};

// What travels with a packet on the ring, independent of direction.
struct Meta {
    bool csum_blank = false;      // the L4 checksum field holds the pseudo-header sum
    bool data_validated = false;  // the sender knows the checksums to be good
    Gso gso = Gso::none;
    uint16_t gso_size = 0;  // MSS, when gso != none
    bool operator==(const Meta&) const = default;
};

// Checksum bits of a flags word, per direction (more_data/extra_info are
// the caller's: they describe the slot chain, not the packet).
uint16_t tx_flags(const Meta& m);
uint16_t rx_flags(const Meta& m);
Meta from_tx_flags(uint16_t flags);
Meta from_rx_flags(uint16_t flags);

// A GSO extra-info slot for M (whose gso is not none).
ExtraInfo gso_extra(const Meta& m);

// xenbus states (xen/io/xenbus.h), with the names Linux prints.
enum class State : uint8_t {
    unknown = XenbusStateUnknown,
    initialising = XenbusStateInitialising,
    init_wait = XenbusStateInitWait,
    initialised = XenbusStateInitialised,
    connected = XenbusStateConnected,
    closing = XenbusStateClosing,
    closed = XenbusStateClosed,
    reconfiguring = XenbusStateReconfiguring,
    reconfigured = XenbusStateReconfigured,
};

std::string_view state_name(State s);
// "4" -> connected. Anything but a decimal 0..8 is nullopt.
std::optional<State> parse_state(std::string_view s);

// A decimal number in [0, MAX] as xenstore holds it ("42"), with nothing
// else around it; nullopt for "", "-1", "0x10", "4 ", "99999999999".
std::optional<uint64_t> parse_number(std::string_view s, uint64_t max);

}  // namespace xnet::netif
