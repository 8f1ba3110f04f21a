// The frame parser (packet/packet.h). Each layer is parsed within a limit set
// by the layer around it: the frame for Ethernet, the IP length fields for
// the transport header, the UDP length for a tunnel's payload.
#include <fmt/format.h>

#include <optional>

#include "packet/packet.h"

namespace xnet::pkt {
namespace {

constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86dd;
constexpr std::uint16_t kEtherTeb = 0x6558;  // transparent Ethernet bridging (Geneve)

constexpr std::uint8_t kProtoHopByHop = 0;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kProtoRouting = 43;
constexpr std::uint8_t kProtoFragment = 44;
constexpr std::uint8_t kProtoAh = 51;
constexpr std::uint8_t kProtoDestOpts = 60;

std::uint16_t be16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

// A parse within [begin of frame, end): `end` is the enclosing layer's limit.
class Parser {
  public:
    Parser(std::span<const std::uint8_t> frame, bool inner) : f_(frame), inner_(inner) {}

    Unexpected<ParseError> fail(Error e, std::size_t off) const {
        return Unexpected{ParseError{e, off, inner_}};
    }
    bool fits(std::size_t off, std::size_t len, std::size_t end) const noexcept {
        return off <= end && len <= end - off;
    }
    const std::uint8_t* at(std::size_t off) const noexcept { return f_.data() + off; }

    struct L2 {
        std::uint16_t ethertype;
        std::uint32_t l3_off;
        std::uint8_t tags;
    };

    ParseResult<L2> ethernet(std::size_t off, std::size_t end) const {
        if (!fits(off, kEthHeader, end)) return fail(Error::truncated_ethernet, off);
        std::size_t pos = off + 12;  // the type of the outermost tag or payload
        std::uint8_t tags = 0;
        for (std::uint16_t type = be16(at(pos));; type = be16(at(pos))) {
            if (!is_vlan_tpid(type)) return L2{type, static_cast<std::uint32_t>(pos + 2), tags};
            if (++tags > kMaxVlanTags) return fail(Error::too_many_vlan_tags, pos);
            // A tag is TPID (already read), TCI, then the next type.
            if (!fits(pos + 2, 4, end)) return fail(Error::truncated_vlan, pos);
            pos += 4;
        }
    }

    ParseResult<Layers> ip(std::uint16_t ethertype, std::size_t off, std::size_t end) const {
        Layers l;
        if (ethertype == kEtherIpv4) {
            XNET_TRY(ipv4(l, off, end));
        } else if (ethertype == kEtherIpv6) {
            XNET_TRY(ipv6(l, off, end));
        } else {
            return l;  // not IP: nothing to checksum here
        }
        if (l.fragment == Fragment::later) return l;
        XNET_TRY(transport(l));
        return l;
    }

  private:
    using Status = Expected<std::monostate, ParseError>;
    static Status ok() { return std::monostate{}; }

    Status ipv4(Layers& l, std::size_t off, std::size_t end) const {
        if (!fits(off, 20, end)) return fail(Error::truncated_ipv4, off);
        const std::uint8_t* h = at(off);
        if (h[0] >> 4 != 4) return fail(Error::bad_ipv4_version, off);
        const std::size_t hlen = (h[0] & 0x0fu) * 4u;
        const std::size_t total = be16(h + 2);
        if (hlen < 20 || !fits(off, hlen, end)) return fail(Error::bad_ipv4_header_length, off);
        // Bytes after the datagram (Ethernet padding) are allowed; a total
        // length that claims more than is there, or less than the header, is not.
        if (total < hlen || !fits(off, total, end)) return fail(Error::bad_ipv4_total_length, off);
        const std::uint16_t frag = be16(h + 6);
        const bool more = frag & 0x2000u;
        const std::uint16_t frag_off = frag & 0x1fffu;
        l.l3 = L3::ipv4;
        l.l3_off = static_cast<std::uint32_t>(off);
        l.ipv4_header_len = static_cast<std::uint16_t>(hlen);
        l.proto = h[9];
        l.src_off = static_cast<std::uint32_t>(off + 12);
        l.dst_off = static_cast<std::uint32_t>(off + 16);
        l.l4_off = static_cast<std::uint32_t>(off + hlen);
        l.l4_len = static_cast<std::uint32_t>(total - hlen);
        l.fragment = frag_off ? Fragment::later : more ? Fragment::first : Fragment::none;
        return ok();
    }

    Status ipv6(Layers& l, std::size_t off, std::size_t end) const {
        if (!fits(off, 40, end)) return fail(Error::truncated_ipv6, off);
        const std::uint8_t* h = at(off);
        if (h[0] >> 4 != 6) return fail(Error::bad_ipv6_version, off);
        const std::size_t payload = be16(h + 4);
        std::uint8_t next = h[6];
        // A zero payload length with a hop-by-hop header is a jumbogram (RFC
        // 2675), whose real length hides in an option: not supported.
        if (payload == 0 && next == kProtoHopByHop) return fail(Error::ipv6_jumbogram, off);
        const std::size_t dgram_end = off + 40 + payload;
        if (!fits(off + 40, payload, end)) return fail(Error::bad_ipv6_payload_length, off);
        l.l3 = L3::ipv6;
        l.l3_off = static_cast<std::uint32_t>(off);
        l.src_off = static_cast<std::uint32_t>(off + 8);
        l.dst_off = static_cast<std::uint32_t>(off + 24);

        std::size_t pos = off + 40;
        for (std::size_t n = 0;; ++n) {
            if (next != kProtoHopByHop && next != kProtoRouting && next != kProtoFragment &&
                next != kProtoAh && next != kProtoDestOpts)
                break;
            if (n == kMaxIpv6ExtHeaders) return fail(Error::too_many_ipv6_extensions, pos);
            // RFC 8200 4.1: hop-by-hop options only directly after the header.
            if (next == kProtoHopByHop && n != 0) return fail(Error::misplaced_hop_by_hop, pos);
            if (!fits(pos, 8, dgram_end)) return fail(Error::truncated_ipv6_extension, pos);
            const std::uint8_t* e = at(pos);
            std::size_t len = next == kProtoFragment ? 8
                              : next == kProtoAh     ? (e[1] + 2u) * 4u
                                                     : (e[1] + 1u) * 8u;
            if (!fits(pos, len, dgram_end)) return fail(Error::truncated_ipv6_extension, pos);
            if (next == kProtoRouting) {
                XNET_TRY(routing(l, pos, len));
            }
            if (next == kProtoFragment) {
                const std::uint16_t fo = be16(e + 2);
                if (fo & 0xfff8u)
                    l.fragment = Fragment::later;
                else if (fo & 1u)
                    l.fragment = Fragment::first;
            }
            next = e[0];
            pos += len;
            if (l.fragment == Fragment::later) break;  // what follows is payload
        }
        l.proto = next;
        l.l4_off = static_cast<std::uint32_t>(pos);
        l.l4_len = static_cast<std::uint32_t>(dgram_end - pos);
        return ok();
    }

    // RFC 8200 8.1: with segments left, the pseudo header's destination is
    // the final one, which the routing header carries.
    Status routing(Layers& l, std::size_t pos, std::size_t len) const {
        const std::uint8_t* e = at(pos);
        const std::uint8_t type = e[2], segments_left = e[3];
        if (segments_left == 0) return ok();
        const std::size_t addrs = (len - 8) / 16;
        switch (type) {
            case 0:  // deprecated source route: the last address
                if (addrs == 0) return fail(Error::bad_ipv6_routing_header, pos);
                l.dst_off = static_cast<std::uint32_t>(pos + 8 + 16 * (addrs - 1));
                return ok();
            case 2:  // mobile IPv6: the home address
            case 4:  // segment routing: segment list[0] is the final segment
                if (addrs == 0) return fail(Error::bad_ipv6_routing_header, pos);
                l.dst_off = static_cast<std::uint32_t>(pos + 8);
                return ok();
            default:  // unknown types: the stack would drop it; keep the header's address
                return ok();
        }
    }

    Status transport(Layers& l) const {
        const std::size_t off = l.l4_off, end = l.l4_off + std::size_t{l.l4_len};
        if (l.proto == kProtoTcp) {
            if (!fits(off, 20, end)) return fail(Error::truncated_tcp, off);
            const std::size_t doff = (at(off)[12] >> 4) * 4u;
            if (doff < 20 || !fits(off, doff, end)) return fail(Error::bad_tcp_data_offset, off);
            l.l4 = L4::tcp;
        } else if (l.proto == kProtoUdp) {
            if (!fits(off, 8, end)) return fail(Error::truncated_udp, off);
            const std::size_t ulen = be16(at(off) + 4);
            // A first fragment carries only part of the datagram the UDP
            // length describes; otherwise it must fit in the IP payload.
            if (ulen < 8 || (l.fragment == Fragment::none && ulen > l.l4_len))
                return fail(Error::bad_udp_length, off);
            if (l.fragment == Fragment::none) l.l4_len = static_cast<std::uint32_t>(ulen);
            l.udp_zero_csum = be16(at(off) + 6) == 0;
            l.l4 = L4::udp;
        }
        return ok();
    }

    std::span<const std::uint8_t> f_;
    bool inner_;
};

// Recognises a VXLAN or Geneve header in an outer UDP datagram and parses
// the frame it carries. A datagram on the port whose header is not one of
// ours (VXLAN without the I flag, an unknown Geneve version) is plain UDP.
ParseResult<Frame> tunnel(std::span<const std::uint8_t> buf, Frame f) {
    const Layers& o = f.outer;
    if (!o.checksummable() || o.l4 != L4::udp) return f;
    const std::uint16_t dport = be16(buf.data() + o.l4_off + 2);
    if (dport != kVxlanPort && dport != kGenevePort) return f;
    const std::size_t hdr = o.l4_off + 8, end = o.l4_end();
    Parser p(buf, true);
    if (!p.fits(hdr, 8, end)) return p.fail(Error::truncated_tunnel, hdr);
    const std::uint8_t* t = buf.data() + hdr;
    std::size_t inner;
    std::optional<std::uint16_t> inner_type;  // set when the payload is IP, not Ethernet
    if (dport == kVxlanPort) {
        if (!(t[0] & 0x08u)) return f;  // RFC 7348: the I flag must be set
        inner = hdr + 8;
        f.tunnel = Tunnel::vxlan;
    } else {
        if (t[0] >> 6 != 0) return f;  // RFC 8926: version 0 only
        const std::size_t opts = (t[0] & 0x3fu) * 4u;
        if (!p.fits(hdr, 8 + opts, end)) return p.fail(Error::bad_tunnel_header, hdr);
        const std::uint16_t proto = be16(t + 2);
        if (proto != kEtherTeb && proto != kEtherIpv4 && proto != kEtherIpv6) return f;
        if (proto != kEtherTeb) inner_type = proto;
        inner = hdr + 8 + opts;
        f.tunnel = Tunnel::geneve;
    }
    f.inner_off = static_cast<std::uint32_t>(inner);
    std::uint16_t type;
    std::size_t l3;
    if (inner_type) {
        type = *inner_type;
        l3 = inner;
    } else {
        XNET_TRY_ASSIGN(auto l2, p.ethernet(inner, end));
        type = l2.ethertype;
        l3 = l2.l3_off;
        f.inner_vlan_tags = l2.tags;
    }
    XNET_TRY_ASSIGN(f.inner, p.ip(type, l3, end));
    return f;
}

}  // namespace

std::string_view describe(Error e) noexcept {
    switch (e) {
        case Error::truncated_ethernet:
            return "Ethernet header truncated";
        case Error::truncated_vlan:
            return "VLAN tag truncated";
        case Error::too_many_vlan_tags:
            return "more VLAN tags than the limit";
        case Error::truncated_ipv4:
            return "IPv4 header truncated";
        case Error::bad_ipv4_version:
            return "IPv4 version field is not 4";
        case Error::bad_ipv4_header_length:
            return "IPv4 header length below 20 or beyond the frame";
        case Error::bad_ipv4_total_length:
            return "IPv4 total length below the header or beyond the frame";
        case Error::truncated_ipv6:
            return "IPv6 header truncated";
        case Error::bad_ipv6_version:
            return "IPv6 version field is not 6";
        case Error::bad_ipv6_payload_length:
            return "IPv6 payload length beyond the frame";
        case Error::ipv6_jumbogram:
            return "IPv6 jumbogram not supported";
        case Error::truncated_ipv6_extension:
            return "IPv6 extension header beyond the payload";
        case Error::misplaced_hop_by_hop:
            return "IPv6 hop-by-hop options not first";
        case Error::too_many_ipv6_extensions:
            return "more IPv6 extension headers than the limit";
        case Error::bad_ipv6_routing_header:
            return "IPv6 routing header with segments left but no address";
        case Error::truncated_tcp:
            return "TCP header truncated";
        case Error::bad_tcp_data_offset:
            return "TCP data offset below 5 or beyond the segment";
        case Error::truncated_udp:
            return "UDP header truncated";
        case Error::bad_udp_length:
            return "UDP length below 8 or beyond the IP payload";
        case Error::truncated_tunnel:
            return "tunnel header truncated";
        case Error::bad_tunnel_header:
            return "tunnel options beyond the UDP payload";
        case Error::no_l4_checksum:
            return "no TCP or UDP checksum to work on";
        case Error::bad_csum_offset:
            return "checksum start/offset outside the frame";
        case Error::bad_gso_size:
            return "GSO segment size 0 or too small for the frame";
    }
    return "unknown parse error";
}

std::string ParseError::message() const {
    return fmt::format("{}{} at offset {}", inner ? "inner frame: " : "", describe(code), offset);
}

ParseResult<Frame> parse(std::span<const std::uint8_t> buf) {
    Parser p(buf, false);
    XNET_TRY_ASSIGN(auto l2, p.ethernet(0, buf.size()));
    Frame f;
    f.vlan_tags = l2.tags;
    f.ethertype = l2.ethertype;
    XNET_TRY_ASSIGN(f.outer, p.ip(l2.ethertype, l2.l3_off, buf.size()));
    return tunnel(buf, f);
}

}  // namespace xnet::pkt
