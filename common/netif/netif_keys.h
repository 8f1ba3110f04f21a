// The netif xenstore schema: every key either end of a vif reads or writes
// in its own or its peer's directory, declared once (io/netif.h, "Feature
// and Parameter Negotiation"; xnet's own feature-xnet-* extensions, which a
// peer sees only if it advertises them too). Both daemons name keys
// through these constants, xnetctl --peer lists the features from the
// table, the hostile tool builds its frontends from it, and
// docs/xenstore-keys.md is checked against it by the unit tests.
//
// Adding a key: a constant and a row here; its use at the end that writes
// it and the end that reads it.
#pragma once

#include <string_view>

namespace xnet::netif::key {

// Who writes a key: the other end reads it. The toolstack's keys (state,
// mac, mtu, the peer's path) are written before either daemon runs.
enum class Writer { backend, frontend, both, toolstack };

// When a change of it takes effect: read once per connection (a change
// needs a reconnect), or watched and applied at once.
enum class Applies { at_connect, live };

enum class Kind {
    flag,    // "0" or "1"; absent is 0 unless `deflt` says otherwise
    number,  // a decimal number
    text,    // anything else (a path, a MAC address)
};

struct Key {
    std::string_view name;  // under the writer's directory; per queue where `per_queue`
    Kind kind;
    std::string_view deflt;  // meaning when absent ("" where it is required)
    Writer writer;
    Applies applies;
    bool per_queue;  // in queue-N/ when more than one queue (netif.h)
    bool feature;    // an offload feature the peer advertises (xnetctl --peer)
    std::string_view help;
};

// --- written by the backend ---------------------------------------------------
inline constexpr std::string_view feature_rx_copy = "feature-rx-copy";
inline constexpr std::string_view feature_rx_flip = "feature-rx-flip";
inline constexpr std::string_view feature_split_event_channels = "feature-split-event-channels";
inline constexpr std::string_view multi_queue_max_queues = "multi-queue-max-queues";
inline constexpr std::string_view carrier = "carrier";
inline constexpr std::string_view hotplug_status = "hotplug-status";
// libxl's, from xl's rate=: "BYTES,USECS" of guest transmit (netif/credit.h).
inline constexpr std::string_view rate = "rate";
// --- written by the frontend --------------------------------------------------
inline constexpr std::string_view request_rx_copy = "request-rx-copy";
inline constexpr std::string_view feature_rx_notify = "feature-rx-notify";
inline constexpr std::string_view multi_queue_num_queues = "multi-queue-num-queues";
inline constexpr std::string_view tx_ring_ref = "tx-ring-ref";
inline constexpr std::string_view rx_ring_ref = "rx-ring-ref";
inline constexpr std::string_view event_channel = "event-channel";
inline constexpr std::string_view event_channel_tx = "event-channel-tx";
inline constexpr std::string_view event_channel_rx = "event-channel-rx";
inline constexpr std::string_view queue_prefix = "queue-";  // queue-N/ directories
// xnet's: the frontend reconnects when the backend asks (both ends advertise it).
inline constexpr std::string_view feature_xnet_reconnect = "feature-xnet-reconnect";
// --- written by either end, about what it takes from the ring --------------------
inline constexpr std::string_view feature_sg = "feature-sg";
inline constexpr std::string_view feature_gso_tcpv4 = "feature-gso-tcpv4";
inline constexpr std::string_view feature_gso_tcpv6 = "feature-gso-tcpv6";
inline constexpr std::string_view feature_ipv6_csum_offload = "feature-ipv6-csum-offload";
inline constexpr std::string_view feature_no_csum_offload = "feature-no-csum-offload";
inline constexpr std::string_view feature_xnet_tagged_offload = "feature-xnet-tagged-offload";
// --- written by the toolstack -----------------------------------------------------
inline constexpr std::string_view state = "state";
inline constexpr std::string_view frontend = "frontend";
inline constexpr std::string_view frontend_id = "frontend-id";
inline constexpr std::string_view backend = "backend";
inline constexpr std::string_view backend_id = "backend-id";
inline constexpr std::string_view mac = "mac";
inline constexpr std::string_view mtu = "mtu";
inline constexpr std::string_view online = "online";

inline constexpr Key kSchema[] = {
    {feature_rx_copy, Kind::flag, "0", Writer::backend, Applies::at_connect, false, false,
     "the backend copies into the frontend's RX buffers (required by xnet)"},
    {feature_rx_flip, Kind::flag, "1", Writer::backend, Applies::at_connect, false, false,
     "the old page-flipping RX path; xnet writes 0"},
    {feature_split_event_channels, Kind::flag, "0", Writer::backend, Applies::at_connect, false,
     false, "one event channel per direction may be used"},
    {multi_queue_max_queues, Kind::number, "1", Writer::backend, Applies::at_connect, false, false,
     "queues the frontend may ask for"},
    {carrier, Kind::flag, "1", Writer::backend, Applies::live, false, false,
     "the backend's link is up"},
    {hotplug_status, Kind::text, "", Writer::toolstack, Applies::live, false, false,
     "\"connected\" once the hotplug script set the vif up (libxl)"},
    {rate, Kind::text, "", Writer::toolstack, Applies::live, false, false,
     "BYTES,USECS: the guest may transmit BYTES per USECS (xl's rate=); absent: unlimited"},
    {request_rx_copy, Kind::flag, "0", Writer::frontend, Applies::at_connect, false, false,
     "the frontend posts RX buffers to copy into (required by xnet)"},
    {feature_rx_notify, Kind::flag, "0", Writer::frontend, Applies::at_connect, false, false,
     "the frontend notifies when it posts RX buffers (required)"},
    {multi_queue_num_queues, Kind::number, "1", Writer::frontend, Applies::at_connect, false, false,
     "queues in use; more than 1 moves the ring keys to queue-N/"},
    {tx_ring_ref, Kind::number, "", Writer::frontend, Applies::at_connect, true, false,
     "grant of the TX ring's page"},
    {rx_ring_ref, Kind::number, "", Writer::frontend, Applies::at_connect, true, false,
     "grant of the RX ring's page"},
    {event_channel, Kind::number, "", Writer::frontend, Applies::at_connect, true, false,
     "the queue's one event channel (without split channels)"},
    {event_channel_tx, Kind::number, "", Writer::frontend, Applies::at_connect, true, false,
     "TX's event channel (split channels)"},
    {event_channel_rx, Kind::number, "", Writer::frontend, Applies::at_connect, true, false,
     "RX's event channel (split channels)"},
    {feature_xnet_reconnect, Kind::flag, "0", Writer::frontend, Applies::at_connect, false, false,
     "xnet: reconnects when its backend asks for it"},
    {feature_sg, Kind::flag, "0", Writer::both, Applies::at_connect, false, true,
     "takes packets of several slots"},
    {feature_gso_tcpv4, Kind::flag, "0", Writer::both, Applies::at_connect, false, true,
     "takes TCPv4 GSO frames"},
    {feature_gso_tcpv6, Kind::flag, "0", Writer::both, Applies::at_connect, false, true,
     "takes TCPv6 GSO frames"},
    {feature_ipv6_csum_offload, Kind::flag, "0", Writer::both, Applies::at_connect, false, true,
     "takes IPv6 partial checksums"},
    {feature_no_csum_offload, Kind::flag, "0", Writer::both, Applies::at_connect, false, true,
     "wants IPv4 checksums complete"},
    {feature_xnet_tagged_offload, Kind::flag, "0", Writer::both, Applies::at_connect, false, true,
     "xnet: takes offloads on 802.1Q/802.1ad frames"},
    {state, Kind::number, "", Writer::toolstack, Applies::live, false, false,
     "XenbusState of the end that owns it"},
    {frontend, Kind::text, "", Writer::toolstack, Applies::at_connect, false, false,
     "the backend's peer directory"},
    {frontend_id, Kind::number, "", Writer::toolstack, Applies::at_connect, false, false,
     "the guest's domain id"},
    {backend, Kind::text, "", Writer::toolstack, Applies::at_connect, false, false,
     "the frontend's peer directory"},
    {backend_id, Kind::number, "", Writer::toolstack, Applies::at_connect, false, false,
     "the backend's domain id"},
    {mac, Kind::text, "", Writer::toolstack, Applies::at_connect, false, false,
     "the guest interface's MAC address"},
    {mtu, Kind::number, "1500", Writer::toolstack, Applies::at_connect, false, false,
     "the IP MTU of both ends' links"},
    {online, Kind::flag, "1", Writer::toolstack, Applies::live, false, false,
     "0: the toolstack removes the vif"},
};

}  // namespace xnet::netif::key
