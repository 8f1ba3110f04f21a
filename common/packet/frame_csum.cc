// Frame checksum operations (packet/frame_csum.h).
//
// Sums are over the L4 "region": from the TCP/UDP header to the end of what
// the IP (or UDP) length says, so Ethernet padding never joins a checksum.
// The checksum field sits at an even offset of its region (6 or 16), so its
// memory-order value joins a region sum without a byte swap.
#include <cstring>

#include "packet/csum.h"
#include "packet/frame_csum.h"

namespace xnet::pkt {
namespace {

using csum::Partial;

void store16(std::uint8_t* p, std::uint16_t v) noexcept {
    std::memcpy(p, &v, 2);
}

Partial pseudo(std::span<const std::uint8_t> f, const Layers& l) noexcept {
    const std::uint8_t* src = f.data() + l.src_off;
    const std::uint8_t* dst = f.data() + l.dst_off;
    return l.l3 == L3::ipv4 ? csum::pseudo_v4(src, dst, l.proto, l.l4_len)
                            : csum::pseudo_v6(src, dst, l.proto, l.l4_len);
}

std::uint8_t* field(std::span<std::uint8_t> f, const Layers& l) noexcept {
    CsumLoc loc = l.csum_loc();
    return f.data() + loc.start + loc.offset;
}

Partial region_sum(std::span<const std::uint8_t> f, const Layers& l) noexcept {
    return csum::partial(f.data() + l.l4_off, l.l4_len);
}

// The value to store in an L4 checksum field over `sum`. A full computation
// can yield 0 (+0) but never 0xffff (-0, RFC 1624 section 3), so TCP carries
// the 0 it computed; only UDP sends 0xffff instead, because a 0 there means
// "no checksum" (RFC 768; invalid in IPv6, RFC 8200 section 8.1).
std::uint16_t checksum_value(Partial sum, L4 proto) noexcept {
    std::uint16_t c = csum::finish(sum);
    return c == 0 && proto == L4::udp ? 0xffff : c;
}

// The transport protocol whose checksum field `loc` names: the parser's
// answer where it finds that field, else UDP's convention when the field sits
// where UDP keeps it (offset 6), so that a 0 never reads as "no checksum".
L4 l4_at(std::span<const std::uint8_t> f, CsumLoc loc) {
    if (auto p = parse(f)) {
        for (const Layers* l : {&p->outer, &p->inner})
            if (l->has_l4() && l->csum_loc() == loc) return l->l4;
    }
    return loc.offset == 6 ? L4::udp : L4::none;
}

bool sums_to_zero(Partial s) noexcept {
    return csum::fold(s) == 0xffff;
}

// An outer UDP checksum of a tunnel that has to be kept right: IPv6 always
// (RFC 8200 forbids 0), IPv4 unless the sender left it 0.
bool outer_csum_in_use(const Frame& p) noexcept {
    return p.outer.l4 == L4::udp && (p.outer.l3 == L3::ipv6 || !p.outer.udp_zero_csum);
}

bool has_inner_csum(const Frame& p) noexcept {
    return p.tunnel != Tunnel::none && p.inner.checksummable();
}

Verdict verify_ipv4_header(std::span<const std::uint8_t> f, const Layers& l) noexcept {
    if (l.l3 != L3::ipv4) return Verdict::none;
    return sums_to_zero(csum::partial(f.data() + l.l3_off, l.ipv4_header_len)) ? Verdict::good
                                                                               : Verdict::bad;
}

Verdict verify_l4(std::span<const std::uint8_t> f, const Layers& l) noexcept {
    if (!l.has_l4()) return l.fragment == Fragment::later ? Verdict::unverifiable : Verdict::none;
    if (l.fragment != Fragment::none) return Verdict::unverifiable;
    if (l.l4 == L4::udp && l.udp_zero_csum)
        return l.l3 == L3::ipv4 ? Verdict::absent : Verdict::bad;  // RFC 8200 8.1
    return sums_to_zero(csum::add(region_sum(f, l), pseudo(f, l))) ? Verdict::good : Verdict::bad;
}

// The sum of the outer UDP region with the inner region's sum given rather
// than read: header bytes before the inner L4 header, `inner_sum` at its
// offset, and whatever follows the inner datagram (padding inside the UDP
// payload). The outer field is read as it is in the frame.
Partial outer_sum(std::span<const std::uint8_t> f, const Frame& p, Partial inner_sum) noexcept {
    const std::uint8_t* base = f.data() + p.outer.l4_off;
    const std::size_t head = p.inner.l4_off - p.outer.l4_off;
    const std::size_t tail_off = head + p.inner.l4_len;
    Partial s = csum::partial(base, head);
    s = csum::add_at(s, inner_sum, head);
    s = csum::add_at(s, csum::partial(base + tail_off, p.outer.l4_len - tail_off), tail_off);
    return s;
}

ParseResult<std::monostate> no_checksum(const Frame& p) {
    const Layers& l = p.innermost();
    return Unexpected{ParseError{Error::no_l4_checksum, l.l3 == L3::none ? kEthHeader : l.l4_off,
                                 &l == &p.inner}};
}

}  // namespace

Verification verify(std::span<const std::uint8_t> f, const Frame& p) {
    Verification v;
    v.ipv4_header = verify_ipv4_header(f, p.outer);
    v.l4 = verify_l4(f, p.outer);
    if (p.tunnel != Tunnel::none) {
        v.inner_ipv4_header = verify_ipv4_header(f, p.inner);
        v.inner_l4 = verify_l4(f, p.inner);
    }
    return v;
}

ParseResult<Verification> verify(std::span<const std::uint8_t> f) {
    XNET_TRY_ASSIGN(auto p, parse(f));
    return verify(f, p);
}

ParseResult<std::monostate> complete(std::span<std::uint8_t> f, const Frame& p) {
    if (!has_inner_csum(p)) {
        const Layers& l = p.outer;
        if (!l.checksummable()) return no_checksum(p);
        store16(field(f, l), 0);
        store16(field(f, l), checksum_value(csum::add(region_sum(f, l), pseudo(f, l)), l.l4));
        return std::monostate{};
    }
    // Inner first; the outer sum then reuses the inner region's sum, which
    // after completion is that of the zeroed field plus the new value.
    const Layers& in = p.inner;
    store16(field(f, in), 0);
    Partial inner_sum = region_sum(f, in);
    const std::uint16_t c = checksum_value(csum::add(inner_sum, pseudo(f, in)), in.l4);
    store16(field(f, in), c);
    if (outer_csum_in_use(p)) {
        inner_sum = csum::add(inner_sum, c);
        store16(field(f, p.outer), 0);
        Partial outer = csum::add(outer_sum(f, p, inner_sum), pseudo(f, p.outer));
        store16(field(f, p.outer), checksum_value(outer, L4::udp));
    }
    return std::monostate{};
}

ParseResult<Frame> complete(std::span<std::uint8_t> f) {
    auto p = parse(f);
    if (!p) return p;
    XNET_TRY(complete(f, *p));
    return p;
}

ParseResult<CsumLoc> make_partial(std::span<std::uint8_t> f, const Frame& p) {
    if (!has_inner_csum(p)) {
        const Layers& l = p.outer;
        if (!l.checksummable()) return Unexpected{no_checksum(p).error()};
        store16(field(f, l), csum::fold(pseudo(f, l)));
        return l.csum_loc();
    }
    const Layers& in = p.inner;
    const Partial inner_pseudo = pseudo(f, in);
    if (outer_csum_in_use(p)) {
        const Partial inner_sum = region_sum(f, in);
        const bool inner_ok = sums_to_zero(csum::add(inner_sum, inner_pseudo));
        const Partial outer_pseudo = pseudo(f, p.outer);
        if (inner_ok && !sums_to_zero(csum::add(outer_sum(f, p, inner_sum), outer_pseudo))) {
            // The inner checksum is final and the outer one is what is left
            // to do: the outer one is the partial checksum.
            store16(field(f, p.outer), csum::fold(outer_pseudo));
            return p.outer.csum_loc();
        }
        // Local checksum offload: once the inner checksum is filled in, its
        // region sums to the negation of the inner pseudo header, so the outer
        // checksum can be computed now from headers alone.
        const std::uint16_t inner_final = static_cast<std::uint16_t>(~csum::fold(inner_pseudo));
        store16(field(f, p.outer), 0);
        Partial outer = csum::add(outer_sum(f, p, inner_final), outer_pseudo);
        store16(field(f, p.outer), checksum_value(outer, L4::udp));
    }
    store16(field(f, in), csum::fold(inner_pseudo));
    return in.csum_loc();
}

ParseResult<CsumLoc> make_partial(std::span<std::uint8_t> f) {
    XNET_TRY_ASSIGN(auto p, parse(f));
    return make_partial(f, p);
}

ParseResult<std::monostate> complete_at(std::span<std::uint8_t> f, CsumLoc loc) {
    const std::size_t at = std::size_t{loc.start} + loc.offset;
    if (loc.start > f.size() || at + 2 > f.size())
        return Unexpected{ParseError{Error::bad_csum_offset, loc.start}};
    Partial s = csum::partial(f.data() + loc.start, f.size() - loc.start);
    store16(f.data() + at, checksum_value(s, l4_at(f, loc)));
    return std::monostate{};
}

}  // namespace xnet::pkt
