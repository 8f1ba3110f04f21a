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

#include "runtime/error.h"

namespace xnet::offload {

struct Policy {
    bool tx_checksum = false;        // may put csum_blank on the ring
    bool rx_checksum = false;        // takes csum_blank and data_validated from the ring
    bool tx_data_validated = false;  // marks frames known to be good
    bool sg = true;
    bool tso = true;
    bool operator==(const Policy&) const = default;
};

// One on/off setting.
struct Setting {
    std::string_view key;     // under <dir>/offload/; also its name in xnetctl, scripts, JSON
    std::string_view alias;   // the short name xnetctl -K takes too, as ethtool's; "" if none
    std::string_view option;  // the daemons' command-line option
    std::string_view column;  // its column in `xnetctl list`
    bool Policy::*field;
    std::string_view help;  // what "on" means, one line
};

inline constexpr Setting kSettings[] = {
    {"tx-checksum", "tx", "--tx-checksum", "TX", &Policy::tx_checksum,
     "put partial checksums on the ring"},
    {"rx-checksum", "rx", "--rx-checksum", "RX", &Policy::rx_checksum,
     "take partial checksums and data-validated from the ring"},
    {"tx-data-validated", "", "--tx-data-validated", "DV", &Policy::tx_data_validated,
     "mark frames known to be good"},
    {"scatter-gather", "sg", "--sg", "SG", &Policy::sg, "scatter-gather (multi-slot packets)"},
    {"tcp-segmentation-offload", "tso", "--tso", "TSO", &Policy::tso,
     "TCP segmentation offload (GSO on the ring)"},
};

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
inline constexpr Profile kProfiles[] = {
    {"safe", {}, "every checksum computed and verified (the default)"},
    {"offload",
     {.tx_checksum = true, .rx_checksum = true, .tx_data_validated = true},
     "partial checksums on the ring, completed where a packet leaves the host"},
    {"suppress",
     {.tx_checksum = true, .rx_checksum = true, .tx_data_validated = true},
     "offload's rules, for all-virtual networks only"},
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
// "tx, rx, tx-data-validated, sg or tso": what xnetctl -K takes.
std::string setting_names();

// "tx-checksum on rx-checksum off ...", for logs.
std::string describe(const Policy& p);
// {"tx-checksum":"on",...}, for the control socket.
std::string json(const Policy& p);

}  // namespace xnet::offload
