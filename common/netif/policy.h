// The offload policy of one end, and the table that declares its settings
// and profiles once. Everything that names a setting takes it from here:
// the xenstore keys under <dir>/offload/ (policy_keys.h), the daemons'
// options (device/options.h), xnetctl's -k/-K/list and its `policy-keys`
// listing, which the hotplug and xenstore scripts read instead of spelling
// the names again, the log line and the JSON of the control socket.
//
// Adding a setting is one row in kSettings (and its field in Policy); its
// effect on the ring is offload.cc's (advertised, tx_rules).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "netif/proto.h"
#include "runtime/error.h"

namespace xnet::offload {

struct Policy {
    // May put csum_blank on the ring, per kind of frame.
    bool tx_csum_tcpv4 = false, tx_csum_udpv4 = false;
    bool tx_csum_tcpv6 = false, tx_csum_udpv6 = false;
    // Takes csum_blank and data_validated from the ring, per kind of frame.
    bool rx_csum_tcpv4 = false, rx_csum_udpv4 = false;
    bool rx_csum_tcpv6 = false, rx_csum_udpv6 = false;
    bool tx_data_validated = false;  // marks frames known to be good
    bool sg = true;
    bool tso4 = true, tso6 = true;  // TCP GSO on the ring, per IP version

    Protos tx_checksum() const;
    Protos rx_checksum() const;
    bool operator==(const Policy&) const = default;
};

// One on/off setting of the table. A group (tx-checksum, tx-checksum-ipv4,
// tcp-segmentation-offload ...) sets several fields; a narrower setting
// written too overrides it for its own (read in table order, broadest
// first).
struct Setting {
    std::string_view key;     // under <dir>/offload/; also its name in xnetctl, scripts, JSON
    std::string_view alias;   // the short name xnetctl -K takes too, as ethtool's; "" if none
    std::string_view option;  // the daemons' command-line option
    std::string_view column;  // its column in `xnetctl list`; "" if none
    std::span<bool Policy::*const> fields;
    // The feature of the TAP (ethtool -k) that shows it, by the kernel's
    // name; "" where a TAP cannot show it (docs/xenstore-keys.md).
    std::string_view ethtool;
    std::string_view help;  // what "on" means, one line

    bool group() const { return fields.size() > 1; }
};

namespace field {
using F = bool Policy::*;
inline constexpr F tx_all[] = {&Policy::tx_csum_tcpv4, &Policy::tx_csum_udpv4,
                               &Policy::tx_csum_tcpv6, &Policy::tx_csum_udpv6};
inline constexpr F rx_all[] = {&Policy::rx_csum_tcpv4, &Policy::rx_csum_udpv4,
                               &Policy::rx_csum_tcpv6, &Policy::rx_csum_udpv6};
inline constexpr F tso_all[] = {&Policy::tso4, &Policy::tso6};
inline constexpr F dv[] = {&Policy::tx_data_validated};
inline constexpr F sg[] = {&Policy::sg};
}  // namespace field

// Parts of the groups above: [first, first + n) of GROUP.
constexpr std::span<bool Policy::*const> part(std::span<bool Policy::*const> group,
                                              std::size_t first, std::size_t n) {
    return group.subspan(first, n);
}

inline constexpr Setting kSettings[] = {
    {"tx-checksum", "tx", "--tx-checksum", "TX", field::tx_all, "tx-checksum-ip-generic",
     "put partial checksums on the ring (all four below)"},
    {"tx-checksum-ipv4", "", "--tx-checksum-ipv4", "", part(field::tx_all, 0, 2), "",
     "... for TCP and UDP over IPv4"},
    {"tx-checksum-ipv6", "", "--tx-checksum-ipv6", "", part(field::tx_all, 2, 2), "",
     "... for TCP and UDP over IPv6"},
    {"tx-checksum-tcpv4", "", "--tx-checksum-tcpv4", "", part(field::tx_all, 0, 1), "",
     "... for TCP over IPv4"},
    {"tx-checksum-udpv4", "", "--tx-checksum-udpv4", "", part(field::tx_all, 1, 1), "",
     "... for UDP over IPv4"},
    {"tx-checksum-tcpv6", "", "--tx-checksum-tcpv6", "", part(field::tx_all, 2, 1), "",
     "... for TCP over IPv6"},
    {"tx-checksum-udpv6", "", "--tx-checksum-udpv6", "", part(field::tx_all, 3, 1), "",
     "... for UDP over IPv6"},
    {"rx-checksum", "rx", "--rx-checksum", "RX", field::rx_all, "",
     "take partial checksums and data-validated from the ring (all four below)"},
    {"rx-checksum-ipv4", "", "--rx-checksum-ipv4", "", part(field::rx_all, 0, 2), "",
     "... for TCP and UDP over IPv4"},
    {"rx-checksum-ipv6", "", "--rx-checksum-ipv6", "", part(field::rx_all, 2, 2), "",
     "... for TCP and UDP over IPv6"},
    {"rx-checksum-tcpv4", "", "--rx-checksum-tcpv4", "", part(field::rx_all, 0, 1), "",
     "... for TCP over IPv4"},
    {"rx-checksum-udpv4", "", "--rx-checksum-udpv4", "", part(field::rx_all, 1, 1), "",
     "... for UDP over IPv4"},
    {"rx-checksum-tcpv6", "", "--rx-checksum-tcpv6", "", part(field::rx_all, 2, 1), "",
     "... for TCP over IPv6"},
    {"rx-checksum-udpv6", "", "--rx-checksum-udpv6", "", part(field::rx_all, 3, 1), "",
     "... for UDP over IPv6"},
    {"tx-data-validated", "", "--tx-data-validated", "DV", field::dv, "",
     "mark frames known to be good"},
    {"scatter-gather", "sg", "--sg", "SG", field::sg, "tx-scatter-gather",
     "scatter-gather (multi-slot packets)"},
    {"tcp-segmentation-offload", "tso", "--tso", "TSO", field::tso_all, "",
     "TCP segmentation offload (GSO on the ring; both below)"},
    {"tx-tcp-segmentation", "tso4", "--tso4", "", part(field::tso_all, 0, 1), "tx-tcp-segmentation",
     "... for TCP over IPv4"},
    {"tx-tcp6-segmentation", "tso6", "--tso6", "", part(field::tso_all, 1, 1),
     "tx-tcp6-segmentation", "... for TCP over IPv6"},
};

// A setting's value in a policy: a group's fields may differ.
enum class Value { off, on, mixed };
Value value(const Policy& p, const Setting& s);
std::string_view value_name(Value v);  // "off", "on", "mixed"
// How deep S sits under the groups that contain it: 0 for tx-checksum,
// 1 for tx-checksum-ipv4, 2 for tx-checksum-tcpv4 (xnetctl -k indents so).
unsigned depth(const Setting& s);
// The settings whose fields lie within S's, S excluded: what a write of S
// makes moot (xnetctl -K removes their keys).
bool narrower(const Setting& inner, const Setting& outer);

// A preset: the base that explicit settings override.
struct Profile {
    std::string_view name;
    Policy policy;
    std::string_view help;
};

// `suppress` is `offload` under another name, kept because the private
// network's script and the key contract name it: between two xnet ends
// under `offload` xnet already computes and verifies no checksum (partials
// cross blank, every frame whose checksum is known good carries
// data-validated and is trusted), so there is nothing further for it to
// skip. What it says is where it may be used: an all-virtual network.
inline constexpr Policy kOffloadPolicy{.tx_csum_tcpv4 = true,
                                       .tx_csum_udpv4 = true,
                                       .tx_csum_tcpv6 = true,
                                       .tx_csum_udpv6 = true,
                                       .rx_csum_tcpv4 = true,
                                       .rx_csum_udpv4 = true,
                                       .rx_csum_tcpv6 = true,
                                       .rx_csum_udpv6 = true,
                                       .tx_data_validated = true};

inline constexpr Profile kProfiles[] = {
    {"safe", {}, "every checksum computed and verified (the default)"},
    {"offload", kOffloadPolicy,
     "partial checksums on the ring, completed where a packet leaves the host"},
    {"suppress", kOffloadPolicy, "offload's rules, for all-virtual networks only"},
};

Policy safe();     // every checksum computed and verified
Policy offload();  // partial checksums on the ring

// The setting whose key or alias is NAME; nullptr if none.
const Setting* find_setting(std::string_view name);
// "safe" / "offload" / "suppress" -> the profile; errors name the value.
Result<Policy> profile(std::string_view name);
// One setting by its key and "on"/"off"; errors name the key and value.
Status set(Policy& p, std::string_view key, std::string_view value);

// Lists for messages: "safe, offload or suppress".
std::string profile_names();
// For usage lines: "safe|offload|suppress".
std::string profile_choices();
// "tx, tx-checksum-ipv4, ... or tso6": what xnetctl -K takes.
std::string setting_names();

// "tx-checksum on rx-checksum off ...", for logs.
std::string describe(const Policy& p);
// {"tx-checksum":"on",...}, for the control socket.
std::string json(const Policy& p);

}  // namespace xnet::offload
