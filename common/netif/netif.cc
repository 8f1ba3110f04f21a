#include "netif/netif.h"

#include <array>
#include <charconv>

namespace xnet::netif {

uint16_t tx_flags(const Meta& m) {
    return uint16_t((m.csum_blank ? txf::csum_blank : 0) |
                    (m.data_validated ? txf::data_validated : 0));
}

uint16_t rx_flags(const Meta& m) {
    return uint16_t((m.csum_blank ? rxf::csum_blank : 0) |
                    (m.data_validated ? rxf::data_validated : 0));
}

Meta from_tx_flags(uint16_t flags) {
    return {.csum_blank = (flags & txf::csum_blank) != 0,
            .data_validated = (flags & txf::data_validated) != 0};
}

Meta from_rx_flags(uint16_t flags) {
    return {.csum_blank = (flags & rxf::csum_blank) != 0,
            .data_validated = (flags & rxf::data_validated) != 0};
}

ExtraInfo gso_extra(const Meta& m) {
    ExtraInfo e{};
    e.type = XEN_NETIF_EXTRA_TYPE_GSO;
    e.flags = 0;
    e.u.gso.size = m.gso_size;
    e.u.gso.type = static_cast<uint8_t>(m.gso);
    e.u.gso.pad = 0;
    e.u.gso.features = 0;
    return e;
}

std::string_view state_name(State s) {
    static constexpr std::array<std::string_view, 9> names = {
        "Unknown", "Initialising", "InitWait",      "Initialised", "Connected",
        "Closing", "Closed",       "Reconfiguring", "Reconfigured"};
    auto i = static_cast<size_t>(s);
    if (i >= names.size()) return "invalid";
    return names[i];
}

std::optional<uint64_t> parse_number(std::string_view s, uint64_t max) {
    if (s.empty() || s.size() > 20) return std::nullopt;
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
    if (ec != std::errc{} || end != s.data() + s.size() || v > max) return std::nullopt;
    return v;
}

std::optional<State> parse_state(std::string_view s) {
    auto n = parse_number(s, XenbusStateReconfigured);
    if (!n) return std::nullopt;
    return static_cast<State>(*n);
}

}  // namespace xnet::netif
