// Checksum operations on frames (packet/frame_csum.h): verify, complete,
// make_partial (the GSO fix-up) and complete_at, over the whole catalogue.
#include <doctest/doctest.h>

#include "frames.h"
#include "packet/frame_csum.h"

using namespace xnet::pkt;
using xt::Bytes;
using xt::Spec;

namespace {

std::span<std::uint8_t> span_of(Bytes& b) {
    return std::span<std::uint8_t>(b);
}

bool whole_l4(const Spec& s) {
    return s.frag == xt::Frag::none && (s.l4 == 6 || s.l4 == 17 || s.tunnel != xt::Tun::none);
}

bool outer_in_use(const Spec& s) {
    return s.ip == 6 || !s.udp_zero;
}

}  // namespace

TEST_CASE("built frames verify; a flipped payload bit is caught") {
    for (const auto& [name, spec] : xt::catalogue()) {
        CAPTURE(name);
        const auto b = xt::build(spec);
        auto v = verify(b.bytes);
        REQUIRE(v.has_value());
        CHECK(v->ok());
        CHECK(v->ipv4_header == (spec.ip == 4 ? Verdict::good : Verdict::none));
        if (!whole_l4(spec)) {
            // a later fragment, or a first one with a TCP/UDP header, cannot
            // be checked alone; anything else has no transport checksum
            const bool tcp_udp = spec.l4 == 6 || spec.l4 == 17;
            const bool frag_csum =
                spec.frag == xt::Frag::later || (tcp_udp && spec.frag != xt::Frag::none);
            CHECK(v->l4 == (frag_csum ? Verdict::unverifiable : Verdict::none));
            continue;
        }
        CHECK(v->l4 == (spec.udp_zero ? Verdict::absent : Verdict::good));
        if (spec.tunnel != xt::Tun::none) {
            CHECK(v->inner_l4 == Verdict::good);
            CHECK(v->inner_ipv4_header == (spec.inner->ip == 4 ? Verdict::good : Verdict::none));
        }
        if (spec.payload == 0 && spec.tunnel == xt::Tun::none) continue;
        Bytes bad = b.bytes;
        bad[bad.size() - 1 - spec.pad] ^= 0x10;  // last byte of the innermost payload
        auto w = verify(bad);
        REQUIRE(w.has_value());
        // without a checksum (IPv4 UDP 0) corruption cannot be seen
        CHECK(w->ok() == (spec.udp_zero && spec.tunnel == xt::Tun::none));
        if (spec.tunnel != xt::Tun::none) {
            CHECK(w->inner_l4 == Verdict::bad);
            CHECK(w->l4 == (outer_in_use(spec) ? Verdict::bad : Verdict::absent));
        } else {
            CHECK(w->l4 == (spec.udp_zero ? Verdict::absent : Verdict::bad));
        }
    }
}

TEST_CASE("a bad IPv4 header checksum is reported") {
    Spec s;
    s.payload = 5;
    Bytes b = xt::build(s).bytes;
    b[14 + 8] ^= 1;  // TTL
    auto v = verify(b);
    REQUIRE(v);
    CHECK(v->ipv4_header == Verdict::bad);
    CHECK(v->l4 == Verdict::good);
    CHECK_FALSE(v->ok());
}

TEST_CASE("complete: from partial and from garbage to exactly the right frame") {
    std::size_t completed = 0;
    for (const auto& [name, spec] : xt::catalogue()) {
        CAPTURE(name);
        const auto b = xt::build(spec);
        Bytes f = b.bytes;
        if (!whole_l4(spec)) {
            auto r = complete(span_of(f));
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error().code == Error::no_l4_checksum);
            CHECK(f == b.bytes);  // untouched
            continue;
        }
        if (spec.udp_zero && spec.tunnel == xt::Tun::none) continue;  // see below
        f = xt::partial_of(b);
        REQUIRE(complete(span_of(f)).has_value());
        CHECK(f == b.bytes);
        // Whatever a hostile peer left in the fields, the result is right.
        f = b.bytes;
        xt::put16(f, b.csum_at, 0xdead);
        if (b.inner_csum_at) xt::put16(f, b.inner_csum_at, 0xbeef);
        if (b.inner_csum_at && spec.udp_zero) xt::put16(f, b.csum_at, 0);  // outer stays none
        REQUIRE(complete(span_of(f)).has_value());
        CHECK(f == b.bytes);
        ++completed;
    }
    CHECK(completed > 500);
}

TEST_CASE("complete fills an IPv4 UDP checksum of 0 when asked, never leaves 0 in IPv6") {
    Spec s;
    s.l4 = 17;
    s.payload = 21;
    s.udp_zero = true;
    const auto b = xt::build(s);
    Bytes f = b.bytes;
    REQUIRE(xt::get16(f, b.csum_at) == 0);
    REQUIRE(complete(span_of(f)));
    CHECK(xt::get16(f, b.csum_at) != 0);
    CHECK(verify(f)->l4 == Verdict::good);

    s.ip = 6;
    s.udp_zero = false;
    f = xt::build(s).bytes;
    xt::put16(f, xt::build(s).csum_at, 0);
    CHECK(verify(f)->l4 == Verdict::bad);  // RFC 8200: zero is not "no checksum" in IPv6
    REQUIRE(complete(span_of(f)));
    CHECK(verify(f)->l4 == Verdict::good);
}

namespace {

// Makes the checksum at CSUM_AT of a frame whose checksums are right compute
// to 0: its current value, added to a word WORD of the data it covers (at an
// even offset from the region's start), makes the data sum to -0.
void sum_to_zero(Bytes& f, std::size_t word, std::size_t csum_at) {
    std::uint32_t w = xt::get16(f, word) + xt::get16(f, csum_at);
    xt::put16(f, word, static_cast<std::uint16_t>((w & 0xffff) + (w >> 16)));
    xt::put16(f, csum_at, 0x1234);  // garbage: complete must not read it
}

// What a checksum that computes to 0 is stored as: 0 in TCP (a computation
// never yields -0, RFC 1624), 0xffff in UDP (where 0 means "none").
std::uint16_t zero_as(std::uint8_t proto) {
    return proto == 17 ? 0xffff : 0x0000;
}

}  // namespace

TEST_CASE("a checksum that computes to 0: TCP carries 0x0000, UDP 0xffff") {
    for (int ip : {4, 6}) {
        for (std::uint8_t proto : {std::uint8_t{17}, std::uint8_t{6}}) {
            CAPTURE(ip);
            CAPTURE(int{proto});
            Spec s;
            s.ip = ip;
            s.l4 = proto;
            s.payload = 40;
            const auto b = xt::build(s);
            Bytes f = b.bytes;
            sum_to_zero(f, f.size() - 10, b.csum_at);
            Bytes partial = f;
            REQUIRE(complete(span_of(f)));
            CHECK(xt::get16(f, b.csum_at) == zero_as(proto));
            CHECK(verify(f)->l4 == Verdict::good);

            // The same through the virtio path: partial, then complete_at.
            auto loc = make_partial(span_of(partial));
            REQUIRE(loc);
            Bytes again = partial;
            REQUIRE(complete_at(span_of(again), *loc));
            CHECK(again == f);

            // A frame the parser does not follow (ethertype 0x88b5, local
            // experimental, outside the sum): the field's offset says whose
            // convention applies.
            again = partial;
            again[12] = 0x88;
            again[13] = 0xb5;
            REQUIRE(complete_at(span_of(again), *loc));
            CHECK(xt::get16(again, b.csum_at) == zero_as(proto));
        }
    }
}

TEST_CASE("a tunnel's checksums that compute to 0: inner TCP 0x0000, outer UDP 0xffff") {
    for (int ip : {4, 6}) {
        CAPTURE(ip);
        Spec in;
        in.ip = ip;
        in.l4 = 6;
        in.payload = 40;
        Spec s;
        s.ip = ip;
        s.tunnel = xt::Tun::vxlan;
        s.inner = std::make_shared<const Spec>(in);
        const auto b = xt::build(s);

        Bytes f = b.bytes;
        sum_to_zero(f, b.inner_l4_off + b.inner_l4_len - 10, b.inner_csum_at);
        REQUIRE(complete(span_of(f)));
        CHECK(xt::get16(f, b.inner_csum_at) == 0x0000);
        CHECK(verify(f)->ok());

        // Now the outer one: a word of the inner Ethernet header is covered
        // by the outer UDP checksum only.
        sum_to_zero(f, b.inner_off, b.csum_at);
        REQUIRE(complete(span_of(f)));
        CHECK(xt::get16(f, b.csum_at) == 0xffff);
        CHECK(xt::get16(f, b.inner_csum_at) == 0x0000);
        auto v = verify(f);
        CHECK(v->l4 == Verdict::good);
        CHECK(v->inner_l4 == Verdict::good);
    }
}

TEST_CASE("make_partial writes the pseudo-header sum where the catalogue expects it") {
    for (const auto& [name, spec] : xt::catalogue()) {
        if (!whole_l4(spec)) continue;
        if (spec.udp_zero && spec.tunnel == xt::Tun::none) continue;
        CAPTURE(name);
        const auto b = xt::build(spec);
        Bytes f = b.bytes;
        auto loc = make_partial(span_of(f));
        REQUIRE(loc.has_value());
        const std::size_t at = b.inner_csum_at ? b.inner_csum_at : b.csum_at;
        CHECK(std::size_t{loc->start} + loc->offset == at);
        CHECK(f == xt::partial_of(b));
        // and virtio NEEDS_CSUM completion from that location restores the frame
        if (spec.pad == 0) {
            REQUIRE(complete_at(span_of(f), *loc).has_value());
            CHECK(f == b.bytes);
        }
    }
}

TEST_CASE("GSO fix-up: a frame with a garbage checksum becomes a proper partial frame") {
    Spec s;
    s.ip = 6;
    s.tags = {0x8100};
    s.ipv6_ext = {0};
    s.payload = 8000;  // a GSO super-frame's worth of data
    const auto b = xt::build(s);
    Bytes f = b.bytes;
    xt::put16(f, b.csum_at, 0x0bad);
    auto loc = make_partial(span_of(f));
    REQUIRE(loc);
    CHECK(*loc == CsumLoc{static_cast<std::uint16_t>(b.l4_off), 16});
    CHECK(xt::get16(f, b.csum_at) == b.pseudo);
}

TEST_CASE("tunnel with a final inner checksum and a blank outer one: the outer is partial") {
    Spec s;
    s.ip = 6;
    s.l4 = 17;
    s.tunnel = xt::Tun::vxlan;
    auto inner = std::make_shared<Spec>();
    inner->payload = 77;
    s.inner = inner;
    const auto b = xt::build(s);
    Bytes f = b.bytes;
    xt::put16(f, b.csum_at, b.pseudo);  // outer left partial, inner complete
    auto loc = make_partial(span_of(f));
    REQUIRE(loc);
    CHECK(std::size_t{loc->start} == b.l4_off);
    CHECK(loc->offset == 6);
    CHECK(xt::get16(f, b.csum_at) == b.pseudo);
    CHECK(xt::get16(f, b.inner_csum_at) == xt::get16(b.bytes, b.inner_csum_at));
    REQUIRE(complete_at(span_of(f), *loc));
    CHECK(f == b.bytes);
}

TEST_CASE("complete_at refuses locations outside the frame") {
    Bytes f(60, 0);
    CHECK(complete_at(span_of(f), CsumLoc{59, 0}).error().code == Error::bad_csum_offset);
    CHECK(complete_at(span_of(f), CsumLoc{61, 0}).error().code == Error::bad_csum_offset);
    CHECK(complete_at(span_of(f), CsumLoc{50, 9}).error().code == Error::bad_csum_offset);
    CHECK(complete_at(span_of(f), CsumLoc{50, 8}).has_value());
    CHECK(complete_at(span_of(f), CsumLoc{0xffff, 0xffff}).error().code == Error::bad_csum_offset);
}

TEST_CASE("operations on frames the parser refuses report the parse error") {
    Bytes f(10, 0);
    CHECK(complete(span_of(f)).error().code == Error::truncated_ethernet);
    CHECK(make_partial(span_of(f)).error().code == Error::truncated_ethernet);
    CHECK(verify(f).error().code == Error::truncated_ethernet);
}

namespace {

Bytes from_hex(const std::string& hex) {
    Bytes b;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        b.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return b;
}

}  // namespace

TEST_CASE("known answers computed outside xnet (and confirmed by tshark)") {
    // VLAN 100, IPv4 10.0.0.1 -> 192.168.1.2, TCP 54321 -> 80, payload "hello":
    // TCP checksum 0xa010 at offset 54.
    const Bytes tcp4 = from_hex(
        "00163e00000200163e0000018100006408004500002dabcd40004006c3520a000001c0a80102d431005000"
        "0003e8000007d050182000a010000068656c6c6f");
    // IPv6 fe80::216:3eff:fe00:1 -> ff02::1, hop-by-hop, UDP 5353 -> 5353,
    // payload "xnet!!?": UDP checksum 0x5b5e at offset 68.
    const Bytes udp6 = from_hex(
        "00163e00000200163e00000186dd6000000000170040fe8000000000000002163efffe000001ff02000000"
        "0000000000000000000001110001040000000014e914e9000f5b5e786e657421213f");
    struct Case {
        const Bytes& frame;
        std::size_t at;
        std::uint16_t csum;
        CsumLoc loc;
    };
    for (const Case& c : {Case{tcp4, 54, 0xa010, {38, 16}}, Case{udp6, 68, 0x5b5e, {62, 6}}}) {
        CAPTURE(c.at);
        const auto before = verify(c.frame);
        REQUIRE(before.has_value());  // a parse failure fails the test, not the binary
        CHECK(before->ok());
        CHECK(before->l4 == Verdict::good);
        Bytes f = c.frame;
        xt::put16(f, c.at, 0);
        const auto zeroed = verify(f);
        REQUIRE(zeroed.has_value());
        CHECK(zeroed->l4 == Verdict::bad);
        REQUIRE(complete(span_of(f)));
        CHECK(xt::get16(f, c.at) == c.csum);
        auto loc = make_partial(span_of(f));
        REQUIRE(loc);
        CHECK(*loc == c.loc);
        REQUIRE(complete_at(span_of(f), *loc));
        CHECK(f == c.frame);
    }
}
