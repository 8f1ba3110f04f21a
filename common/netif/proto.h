// The four kinds of frame whose transport checksum an end may leave
// partial on the ring or take on trust from it: TCP and UDP over IPv4 and
// IPv6. The policy's per-protocol settings (policy.h), the rules derived
// from them (offload.h) and the per-protocol counters (counters.h) are all
// indexed by these.
//
// netif itself knows only IP versions (feature-no-csum-offload for IPv4,
// feature-ipv6-csum-offload for IPv6) and TCP GSO; the split by transport
// is enforced locally, by completing or verifying in software.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace xnet::offload {

enum class Proto : std::uint8_t { tcpv4, udpv4, tcpv6, udpv6 };
inline constexpr std::size_t kProtoCount = 4;
inline constexpr Proto kAllProtos[] = {Proto::tcpv4, Proto::udpv4, Proto::tcpv6, Proto::udpv6};

// "tcpv4" ...: in keys (tx-checksum-tcpv4), counters and logs.
constexpr std::string_view proto_name(Proto p) {
    constexpr std::string_view kNames[] = {"tcpv4", "udpv4", "tcpv6", "udpv6"};
    return kNames[static_cast<std::size_t>(p)];
}

constexpr std::size_t index(Proto p) {
    return static_cast<std::size_t>(p);
}

// The frame kind of a transport over an IP version; nullopt for anything
// else (no checksum netif can carry partial).
constexpr std::optional<Proto> proto_of(bool ipv4, bool tcp, bool udp) {
    if (tcp) return ipv4 ? Proto::tcpv4 : Proto::tcpv6;
    if (udp) return ipv4 ? Proto::udpv4 : Proto::udpv6;
    return std::nullopt;
}

// A set of Protos.
class Protos {
  public:
    constexpr Protos() = default;
    constexpr Protos(std::initializer_list<Proto> ps) {
        for (Proto p : ps)
            bits_ = std::uint8_t(bits_ | bit(p));
    }
    constexpr bool has(Proto p) const { return bits_ & bit(p); }
    constexpr bool has(std::optional<Proto> p) const { return p && has(*p); }
    constexpr bool any() const { return bits_ != 0; }
    constexpr bool all() const { return bits_ == 0xf; }
    constexpr void set(Proto p, bool on) {
        bits_ = std::uint8_t(on ? bits_ | bit(p) : bits_ & ~bit(p));
    }
    constexpr bool operator==(const Protos&) const = default;

  private:
    static constexpr std::uint8_t bit(Proto p) { return std::uint8_t(1u << index(p)); }
    std::uint8_t bits_ = 0;
};

inline constexpr Protos kEveryProto{Proto::tcpv4, Proto::udpv4, Proto::tcpv6, Proto::udpv6};
inline constexpr Protos kIpv4Protos{Proto::tcpv4, Proto::udpv4};
inline constexpr Protos kIpv6Protos{Proto::tcpv6, Proto::udpv6};

// Every kind if ON, none if not: an all-or-nothing rule.
constexpr Protos every_if(bool on) {
    return on ? kEveryProto : Protos{};
}

// "all", "none" or "tcpv4,udpv6": for logs.
inline std::string names(Protos s) {
    if (s.all()) return "all";
    std::string out;
    for (Proto p : kAllProtos) {
        if (!s.has(p)) continue;
        if (!out.empty()) out += ',';
        out += proto_name(p);
    }
    return out.empty() ? "none" : out;
}

}  // namespace xnet::offload
