// The test frame builder (frames.h). Layers are built inside out: payload,
// transport header, IP header, tags, Ethernet; a tunnel's inner frame is a
// whole built frame placed in the outer UDP payload.
#include "frames.h"

#include <cassert>
#include <random>
#include <stdexcept>

namespace xt {
namespace {

const std::uint8_t kMacDst[6] = {0x00, 0x16, 0x3e, 0x00, 0x00, 0x02};
const std::uint8_t kMacSrc[6] = {0x00, 0x16, 0x3e, 0x00, 0x00, 0x01};
const std::uint8_t kV4Src[4] = {192, 0, 2, 1};
const std::uint8_t kV4Dst[4] = {198, 51, 100, 2};

Bytes v6addr(std::uint8_t last) {
    Bytes a = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last};
    return a;
}

void append(Bytes& b, const Bytes& x) {
    b.insert(b.end(), x.begin(), x.end());
}
void append(Bytes& b, const std::uint8_t* p, std::size_t n) {
    b.insert(b.end(), p, p + n);
}

// The datagram from the IP header on, with offsets relative to its start.
struct Datagram {
    Bytes bytes;
    std::size_t l4_off = 0, l4_len = 0, csum_at = 0;
    std::uint16_t pseudo = 0;
    bool has_csum = false;
    // from the inner frame, relative to the datagram, when tunnelled
    Built inner;
    std::size_t inner_at = 0;
    bool tunnelled = false;
    std::size_t ipv4_header_len = 0;
};

// Transport header and payload (and the tunnel inside), checksum field 0.
Bytes transport(const Spec& s, Datagram& d) {
    Bytes l4;
    Bytes payload;
    if (s.tunnel != Tun::none) {
        assert(s.inner);
        d.inner = build(*s.inner);
        d.tunnelled = true;
        Bytes hdr;
        if (s.tunnel == Tun::vxlan) {
            hdr = {0x08, 0, 0, 0, 0x00, 0x12, 0x34, 0};  // I flag, VNI 0x1234
        } else {
            std::uint16_t proto = s.tunnel == Tun::geneve ? 0x6558 : 0;
            if (s.tunnel == Tun::geneve_ip) {
                proto = s.inner->ip == 6 ? 0x86dd : 0x0800;
                // strip the inner Ethernet header: Geneve carries IP directly
                d.inner.bytes.erase(d.inner.bytes.begin(),
                                    d.inner.bytes.begin() + static_cast<long>(d.inner.l3_off));
                d.inner.l4_off -= d.inner.l3_off;
                if (d.inner.csum_at) d.inner.csum_at -= d.inner.l3_off;
                d.inner.l3_off = 0;
            }
            hdr = {static_cast<std::uint8_t>(s.geneve_options / 4),
                   0,
                   static_cast<std::uint8_t>(proto >> 8),
                   static_cast<std::uint8_t>(proto),
                   0,
                   0x12,
                   0x34,
                   0};
            Bytes opts = random_bytes(s.geneve_options, s.seed + 7);
            append(hdr, opts);
        }
        d.inner_at = 8 + hdr.size();  // relative to the UDP header
        payload = hdr;
        append(payload, d.inner.bytes);
    } else {
        payload = random_bytes(s.payload, s.seed);
    }
    const bool udp = s.l4 == 17 || s.tunnel != Tun::none;
    const std::uint16_t dport = s.tunnel == Tun::vxlan  ? 4789
                                : s.tunnel != Tun::none ? 6081
                                                        : s.dport;
    if (udp) {
        l4 = {0x30,
              0x39,
              static_cast<std::uint8_t>(dport >> 8),
              static_cast<std::uint8_t>(dport),
              0,
              0,
              0,
              0};
        put16(l4, 4, static_cast<std::uint16_t>(8 + payload.size()));
        d.csum_at = 6;
        d.has_csum = true;
    } else if (s.l4 == 6) {
        l4.assign(20 + s.tcp_options, 0);
        put16(l4, 0, 40000);
        put16(l4, 2, dport);
        put16(l4, 4, 0x1234);
        put16(l4, 6, 0x5678);
        l4[12] = static_cast<std::uint8_t>((20 + s.tcp_options) / 4 << 4);
        l4[13] = 0x18;  // PSH, ACK
        put16(l4, 14, 65535);
        for (std::size_t i = 0; i < s.tcp_options; ++i)
            l4[20 + i] = 1;  // NOPs
        d.csum_at = 16;
        d.has_csum = true;
    }
    append(l4, payload);
    return l4;
}

std::uint16_t pseudo_sum(const Bytes& src, const Bytes& dst, std::uint8_t proto, std::size_t len,
                         bool v6) {
    Bytes p = src;
    append(p, dst);
    if (v6) {
        Bytes tail = {static_cast<std::uint8_t>(len >> 24),
                      static_cast<std::uint8_t>(len >> 16),
                      static_cast<std::uint8_t>(len >> 8),
                      static_cast<std::uint8_t>(len),
                      0,
                      0,
                      0,
                      proto};
        append(p, tail);
    } else {
        Bytes tail = {0, proto, static_cast<std::uint8_t>(len >> 8),
                      static_cast<std::uint8_t>(len)};
        append(p, tail);
    }
    return ref_sum(p);
}

// A computed 0 stays 0 in TCP; UDP sends it as 0xffff (RFC 768: 0 is "none").
void fill_checksum(Bytes& l4, std::size_t at, std::uint16_t pseudo, const Spec& s) {
    if (s.udp_zero) return;
    std::uint16_t c = static_cast<std::uint16_t>(~ref_sum(l4, pseudo));
    const bool udp = s.l4 == 17 || s.tunnel != Tun::none;
    put16(l4, at, c == 0 && udp ? 0xffff : c);
}

Datagram ipv4(const Spec& s) {
    Datagram d;
    Bytes l4 = transport(s, d);
    const std::size_t hlen = 20 + s.ipv4_options;
    Bytes h(hlen, 0);
    h[0] = static_cast<std::uint8_t>(0x40 | hlen / 4);
    put16(h, 2, static_cast<std::uint16_t>(hlen + l4.size()));
    put16(h, 4, 0xbeef);
    put16(h, 6, s.frag == Frag::first ? 0x2000 : s.frag == Frag::later ? 100 : 0x4000);
    h[8] = 64;
    h[9] = s.tunnel != Tun::none ? 17 : s.l4;
    std::copy(kV4Src, kV4Src + 4, h.begin() + 12);
    std::copy(kV4Dst, kV4Dst + 4, h.begin() + 16);
    for (std::size_t i = 20; i < hlen; ++i)
        h[i] = 1;  // NOP options
    put16(h, 10, static_cast<std::uint16_t>(~ref_sum(h)));
    d.pseudo =
        pseudo_sum(Bytes(kV4Src, kV4Src + 4), Bytes(kV4Dst, kV4Dst + 4), h[9], l4.size(), false);
    if (d.has_csum) fill_checksum(l4, d.csum_at, d.pseudo, s);
    d.bytes = h;
    d.l4_off = hlen;
    d.l4_len = l4.size();
    d.csum_at += hlen;
    d.ipv4_header_len = hlen;
    append(d.bytes, l4);
    return d;
}

Datagram ipv6(const Spec& s) {
    Datagram d;
    Bytes l4 = transport(s, d);
    const std::uint8_t proto = s.tunnel != Tun::none ? 17 : s.l4;
    Bytes dst_final = v6addr(2);
    Bytes ext;
    for (std::size_t i = 0; i < s.ipv6_ext.size(); ++i) {
        const std::uint8_t type = s.ipv6_ext[i];
        const std::uint8_t next = i + 1 < s.ipv6_ext.size() ? s.ipv6_ext[i + 1] : proto;
        Bytes e;
        if (type == 43) {
            const std::size_t addrs = s.routing_type == 2 ? 1 : 2;
            e.assign(8, 0);
            e[1] = static_cast<std::uint8_t>(addrs * 2);
            e[2] = s.routing_type;
            e[3] = s.segments_left;
            Bytes a0 = v6addr(0x99), a1 = v6addr(0x50);
            append(e, a0);
            if (addrs == 2) append(e, a1);
            if (s.segments_left) {
                // type 0: the last address is the final one; 2 and 4: the first
                dst_final = s.routing_type == 0 ? a1 : a0;
            }
        } else if (type == 44) {
            e.assign(8, 0);
            put16(e, 2, s.frag == Frag::later ? (100 << 3) : s.frag == Frag::first ? 1 : 0);
            put16(e, 6, 0x4242);
        } else if (type == 51) {
            e.assign(24, 0xaa);
            e[1] = 4;  // (4 + 2) * 4 = 24 bytes
        } else {
            e.assign(8, 0);
            e[2] = 1;  // PadN filling the rest
            e[3] = 4;
            e[1] = 0;
        }
        e[0] = next;
        append(ext, e);
    }
    Bytes h(40, 0);
    h[0] = 0x60;
    put16(h, 4, static_cast<std::uint16_t>(ext.size() + l4.size()));
    h[6] = s.ipv6_ext.empty() ? proto : s.ipv6_ext[0];
    h[7] = 64;
    Bytes src = v6addr(1), dst = v6addr(2);
    std::copy(src.begin(), src.end(), h.begin() + 8);
    std::copy(dst.begin(), dst.end(), h.begin() + 24);
    d.pseudo = pseudo_sum(src, dst_final, proto, l4.size(), true);
    if (d.has_csum) fill_checksum(l4, d.csum_at, d.pseudo, s);
    d.bytes = h;
    append(d.bytes, ext);
    d.l4_off = 40 + ext.size();
    d.l4_len = l4.size();
    d.csum_at += d.l4_off;
    append(d.bytes, l4);
    return d;
}

}  // namespace

std::uint16_t ref_sum(const std::uint8_t* p, std::size_t n, std::uint32_t acc) {
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    for (std::size_t i = 0; i < n; i += 2) {
        std::uint32_t word = static_cast<std::uint32_t>(p[i]) << 8;
        if (i + 1 < n) word |= p[i + 1];
        acc += word;
        acc = (acc & 0xffff) + (acc >> 16);
    }
    return static_cast<std::uint16_t>(acc);
}

std::uint16_t get16(const Bytes& b, std::size_t off) {
    return static_cast<std::uint16_t>(b.at(off) << 8 | b.at(off + 1));
}

void put16(Bytes& b, std::size_t off, std::uint16_t v) {
    b.at(off) = static_cast<std::uint8_t>(v >> 8);
    b.at(off + 1) = static_cast<std::uint8_t>(v);
}

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    Bytes b(n);
    for (auto& x : b)
        x = static_cast<std::uint8_t>(rng());
    return b;
}

Built build(const Spec& s) {
    Built b;
    Bytes& f = b.bytes;
    append(f, kMacDst, 6);
    append(f, kMacSrc, 6);
    for (std::uint16_t tpid : s.tags) {
        Bytes tag = {static_cast<std::uint8_t>(tpid >> 8), static_cast<std::uint8_t>(tpid), 0x00,
                     0x0a};
        append(f, tag);
    }
    const std::uint16_t type = s.ip == 4 ? 0x0800 : s.ip == 6 ? 0x86dd : 0x0806;
    Bytes t = {static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type)};
    append(f, t);
    b.l3_off = f.size();
    if (s.ip == 0) {
        append(f, random_bytes(28 + s.payload, s.seed));
        return b;
    }
    Datagram d = s.ip == 4 ? ipv4(s) : ipv6(s);
    append(f, d.bytes);
    append(f, Bytes(s.pad, 0));
    b.l4_off = b.l3_off + d.l4_off;
    b.l4_len = d.l4_len;
    b.csum_at = d.has_csum ? b.l3_off + d.csum_at : 0;
    b.pseudo = d.pseudo;
    b.ipv4_header_len = d.ipv4_header_len;
    if (d.tunnelled) {
        const std::size_t base = b.l4_off + d.inner_at;
        b.inner_off = base;
        b.inner_l4_off = base + d.inner.l4_off;
        b.inner_l4_len = d.inner.l4_len;
        b.inner_csum_at = d.inner.csum_at ? base + d.inner.csum_at : 0;
        b.inner_pseudo = d.inner.pseudo;
    }
    return b;
}

Bytes partial_of(const Built& b) {
    Bytes f = b.bytes;
    if (b.inner_csum_at)
        put16(f, b.inner_csum_at, b.inner_pseudo);
    else if (b.csum_at)
        put16(f, b.csum_at, b.pseudo);
    else
        throw std::logic_error("partial_of: frame has no L4 checksum");
    return f;
}

}  // namespace xt

namespace xt {
namespace {

struct IpVariant {
    const char* name;
    int ip;
    std::size_t ipv4_options;
    std::vector<std::uint8_t> ext;
    std::uint8_t routing_type;
    std::uint8_t segments_left;
    Frag frag;
};

std::vector<IpVariant> ip_variants() {
    return {
        {"v4", 4, 0, {}, 0, 0, Frag::none},
        {"v4+opt4", 4, 4, {}, 0, 0, Frag::none},
        {"v4+opt40", 4, 40, {}, 0, 0, Frag::none},
        {"v4-frag-first", 4, 0, {}, 0, 0, Frag::first},
        {"v4-frag-later", 4, 0, {}, 0, 0, Frag::later},
        {"v6", 6, 0, {}, 0, 0, Frag::none},
        {"v6+hbh", 6, 0, {0}, 0, 0, Frag::none},
        {"v6+hbh+dst", 6, 0, {0, 60}, 0, 0, Frag::none},
        {"v6+rt4-sl0", 6, 0, {43}, 4, 0, Frag::none},
        {"v6+rt0-sl1", 6, 0, {43}, 0, 1, Frag::none},
        {"v6+rt2-sl1", 6, 0, {43}, 2, 1, Frag::none},
        {"v6+dst+rt4-sl2+dst", 6, 0, {60, 43, 60}, 4, 2, Frag::none},
        {"v6+ah", 6, 0, {51}, 0, 0, Frag::none},
        {"v6+frag-atomic", 6, 0, {44}, 0, 0, Frag::none},
        {"v6+frag-first", 6, 0, {44}, 0, 0, Frag::first},
        {"v6+hbh+frag-later", 6, 0, {0, 44}, 0, 0, Frag::later},
    };
}

}  // namespace

std::vector<Named> catalogue() {
    std::vector<Named> out;
    const std::vector<std::pair<const char*, std::vector<std::uint16_t>>> tag_sets = {
        {"", {}}, {"q-", {0x8100}}, {"qinq-", {0x88a8, 0x8100}}, {"q3-", {0x9100, 0x8100, 0x8100}}};
    struct L4Variant {
        const char* name;
        std::uint8_t proto;
        std::size_t tcp_options;
        bool udp_zero;
    };
    const std::vector<L4Variant> l4s = {{"tcp", 6, 0, false},
                                        {"tcp+opt12", 6, 12, false},
                                        {"udp", 17, 0, false},
                                        {"udp-nocsum", 17, 0, true},
                                        {"icmp", 1, 0, false}};
    std::uint64_t seed = 100;
    for (const auto& [tag_name, tags] : tag_sets)
        for (const auto& ipv : ip_variants())
            for (const auto& l4 : l4s)
                for (std::size_t payload : {0u, 1u, 37u, 1458u}) {
                    if (l4.udp_zero && ipv.ip != 4) continue;  // illegal in IPv6; tested apart
                    Spec s;
                    s.tags = tags;
                    s.ip = ipv.ip;
                    s.ipv4_options = ipv.ipv4_options;
                    s.ipv6_ext = ipv.ext;
                    s.routing_type = ipv.routing_type;
                    s.segments_left = ipv.segments_left;
                    s.frag = ipv.frag;
                    s.l4 = l4.proto;
                    s.tcp_options = l4.tcp_options;
                    s.udp_zero = l4.udp_zero;
                    s.payload = payload;
                    s.seed = seed++;
                    out.push_back({std::string(tag_name) + ipv.name + "-" + l4.name + "-" +
                                       std::to_string(payload),
                                   s});
                }
    // Tunnels: outer v4 or v6, with and without an outer UDP checksum,
    // VXLAN / Geneve (with options) / Geneve carrying IP, and inner frames.
    auto inner_v4_tcp = std::make_shared<Spec>();
    inner_v4_tcp->payload = 301;
    auto inner_v6_udp = std::make_shared<Spec>();
    inner_v6_udp->ip = 6;
    inner_v6_udp->l4 = 17;
    inner_v6_udp->payload = 200;
    auto inner_q_v4_udp = std::make_shared<Spec>();
    inner_q_v4_udp->tags = {0x8100};
    inner_q_v4_udp->l4 = 17;
    inner_q_v4_udp->payload = 99;
    auto inner_v6_ext_tcp = std::make_shared<Spec>();
    inner_v6_ext_tcp->ip = 6;
    inner_v6_ext_tcp->ipv6_ext = {0, 60};
    inner_v6_ext_tcp->payload = 1000;
    const std::vector<std::pair<const char*, std::shared_ptr<const Spec>>> inners = {
        {"v4-tcp", inner_v4_tcp},
        {"v6-udp", inner_v6_udp},
        {"q-v4-udp", inner_q_v4_udp},
        {"v6ext-tcp", inner_v6_ext_tcp}};
    struct TunVariant {
        const char* name;
        Tun tun;
        std::size_t options;
    };
    const std::vector<TunVariant> tuns = {{"vxlan", Tun::vxlan, 0},
                                          {"geneve", Tun::geneve, 0},
                                          {"geneve+opt8", Tun::geneve, 8},
                                          {"geneve-ip", Tun::geneve_ip, 4}};
    for (int outer_ip : {4, 6})
        for (bool zero : {false, true})
            for (const auto& t : tuns)
                for (const auto& [inner_name, inner] : inners) {
                    if (zero && outer_ip == 6) continue;
                    Spec s;
                    s.ip = outer_ip;
                    s.l4 = 17;
                    s.udp_zero = zero;
                    s.tunnel = t.tun;
                    s.geneve_options = t.options;
                    s.inner = inner;
                    s.seed = seed++;
                    out.push_back({std::string("v") + std::to_string(outer_ip) +
                                       (zero ? "-udp0-" : "-udp-") + t.name + "-" + inner_name,
                                   s});
                }
    return out;
}

}  // namespace xt
