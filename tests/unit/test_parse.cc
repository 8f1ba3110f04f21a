// The frame parser (packet/packet.h): every header combination of the test
// catalogue, and every malformed input it must refuse.
#include <doctest/doctest.h>

#include <algorithm>

#include "frames.h"
#include "packet/packet.h"

using namespace xnet::pkt;
using xt::Bytes;
using xt::Spec;

namespace {

ParseResult<Frame> parse_bytes(const Bytes& b) {
    return parse(std::span<const std::uint8_t>(b));
}

// Parses a copy in a heap block of exactly the frame's size, so that
// AddressSanitizer sees any read past the end.
ParseResult<Frame> parse_exact(const std::uint8_t* p, std::size_t n) {
    std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[n ? n : 1]);
    std::copy(p, p + n, copy.get());
    return parse(std::span<const std::uint8_t>(copy.get(), n));
}

Error error_of(const Bytes& b) {
    auto r = parse_bytes(b);
    REQUIRE_FALSE(r.has_value());
    CHECK_FALSE(r.error().message().empty());
    return r.error().code;
}

Spec tcp4(std::size_t payload = 10) {
    Spec s;
    s.payload = payload;
    return s;
}

}  // namespace

TEST_CASE("every catalogue frame parses to the builder's offsets") {
    std::size_t n = 0;
    for (const auto& [name, spec] : xt::catalogue()) {
        CAPTURE(name);
        const xt::Built b = xt::build(spec);
        auto r = parse_bytes(b.bytes);
        REQUIRE(r.has_value());
        const Frame& f = *r;
        CHECK(f.vlan_tags == spec.tags.size());
        const Layers& o = f.outer;
        CHECK(o.l3 == (spec.ip == 4 ? L3::ipv4 : L3::ipv6));
        CHECK(o.l3_off == b.l3_off);
        CHECK(o.fragment == (spec.frag == xt::Frag::none    ? Fragment::none
                             : spec.frag == xt::Frag::first ? Fragment::first
                                                            : Fragment::later));
        if (spec.frag == xt::Frag::later) {
            CHECK_FALSE(o.has_l4());  // a later fragment is reported as such, no L4
        } else if (spec.l4 == 6 || spec.l4 == 17 || spec.tunnel != xt::Tun::none) {
            CHECK(o.has_l4());
            CHECK(o.l4_off == b.l4_off);
            CHECK(o.csum_loc().start + o.csum_loc().offset == b.csum_at);
            if (spec.frag == xt::Frag::none) CHECK(o.l4_len == b.l4_len);
            CHECK(o.checksummable() == (spec.frag == xt::Frag::none));
            CHECK(o.udp_zero_csum == spec.udp_zero);
        } else {
            CHECK_FALSE(o.has_l4());
            CHECK(o.proto == spec.l4);
        }
        if (spec.tunnel != xt::Tun::none) {
            CHECK(f.tunnel == (spec.tunnel == xt::Tun::vxlan ? Tunnel::vxlan : Tunnel::geneve));
            CHECK(f.inner_off == b.inner_off);
            CHECK(f.inner.l4_off == b.inner_l4_off);
            CHECK(f.inner.l4_len == b.inner_l4_len);
            CHECK(f.inner.csum_loc().start + f.inner.csum_loc().offset == b.inner_csum_at);
            CHECK(&f.innermost() == &f.inner);
        } else {
            CHECK(f.tunnel == Tunnel::none);
            CHECK(&f.innermost() == &f.outer);
        }
        ++n;
    }
    CHECK(n > 1000);
}

TEST_CASE("virtio-style checksum locations for plain frames") {
    auto t = xt::build(tcp4());
    auto r = parse_bytes(t.bytes);
    REQUIRE(r);
    CHECK(r->outer.csum_loc() == CsumLoc{34, 16});  // the virtio spec's own example
    Spec u = tcp4();
    u.l4 = 17;
    u.tags = {0x8100};
    r = parse_bytes(xt::build(u).bytes);
    REQUIRE(r);
    CHECK(r->outer.csum_loc() == CsumLoc{38, 6});
    Spec v6 = tcp4();
    v6.ip = 6;
    v6.ipv6_ext = {0};
    r = parse_bytes(xt::build(v6).bytes);
    REQUIRE(r);
    CHECK(r->outer.csum_loc() == CsumLoc{14 + 40 + 8, 16});
}

TEST_CASE("non-IP frames parse with nothing to checksum") {
    Spec arp;
    arp.ip = 0;
    auto r = parse_bytes(xt::build(arp).bytes);
    REQUIRE(r);
    CHECK(r->outer.l3 == L3::none);
    CHECK(r->ethertype == 0x0806);
    CHECK_FALSE(r->outer.has_l4());
}

TEST_CASE("IPv6 routing headers with segments left give the final destination") {
    for (std::uint8_t type : {0, 2, 4}) {
        CAPTURE(int{type});
        Spec s = tcp4();
        s.ip = 6;
        s.ipv6_ext = {43};
        s.routing_type = type;
        s.segments_left = 1;
        const auto b = xt::build(s);
        auto r = parse_bytes(b.bytes);
        REQUIRE(r);
        const std::size_t rh = b.l3_off + 40;
        // type 0 lists two addresses here and the last is final; 2 and 4 the first
        CHECK(r->outer.dst_off == (type == 0 ? rh + 8 + 16 : rh + 8));
        s.segments_left = 0;
        r = parse_bytes(xt::build(s).bytes);
        REQUIRE(r);
        CHECK(r->outer.dst_off == b.l3_off + 24);
    }
}

TEST_CASE("Ethernet padding after the datagram is not part of it") {
    Spec s = tcp4(0);
    s.pad = 6;
    const auto b = xt::build(s);
    auto r = parse_bytes(b.bytes);
    REQUIRE(r);
    CHECK(r->outer.l4_len == 20);
    CHECK(b.bytes.size() == 14 + 40 + 6);
}

TEST_CASE("malformed: Ethernet and VLAN") {
    CHECK(error_of(Bytes(13, 0)) == Error::truncated_ethernet);
    CHECK(error_of(Bytes{}) == Error::truncated_ethernet);
    Spec s = tcp4();
    s.tags = {0x8100};
    Bytes b = xt::build(s).bytes;
    b.resize(16);  // the tag's TCI and inner type are cut
    CHECK(error_of(b) == Error::truncated_vlan);
    s.tags.assign(kMaxVlanTags, 0x8100);
    CHECK(parse_bytes(xt::build(s).bytes).has_value());  // at the limit: fine
    s.tags.assign(kMaxVlanTags + 1, 0x88a8);
    CHECK(error_of(xt::build(s).bytes) == Error::too_many_vlan_tags);
    // a frame that is nothing but tags: a loop must end at the bound, not the buffer
    Bytes loop(12 + 4 * 1000, 0);
    for (std::size_t i = 12; i < loop.size(); i += 4)
        xt::put16(loop, i, 0x8100);
    CHECK(error_of(loop) == Error::too_many_vlan_tags);
}

TEST_CASE("malformed: IPv4") {
    const Bytes good = xt::build(tcp4()).bytes;
    Bytes b = good;
    b.resize(14 + 19);
    CHECK(error_of(b) == Error::truncated_ipv4);
    b = good;
    b[14] = 0x55;  // version 5
    CHECK(error_of(b) == Error::bad_ipv4_version);
    b = good;
    b[14] = 0x44;  // IHL 4 words: below the minimum
    CHECK(error_of(b) == Error::bad_ipv4_header_length);
    b = good;
    b.resize(14 + 40);
    b[14] = 0x4f;  // 60-byte header in a 40-byte datagram
    CHECK(error_of(b) == Error::bad_ipv4_header_length);
    b = good;
    xt::put16(b, 16, static_cast<std::uint16_t>(good.size()));  // claims more than is there
    CHECK(error_of(b) == Error::bad_ipv4_total_length);
    b = good;
    xt::put16(b, 16, 19);  // shorter than its own header
    CHECK(error_of(b) == Error::bad_ipv4_total_length);
}

TEST_CASE("malformed: IPv6 and its extension headers") {
    Spec s = tcp4();
    s.ip = 6;
    const Bytes good = xt::build(s).bytes;
    Bytes b = good;
    b.resize(14 + 39);
    CHECK(error_of(b) == Error::truncated_ipv6);
    b = good;
    b[14] = 0x40;
    CHECK(error_of(b) == Error::bad_ipv6_version);
    b = good;
    xt::put16(b, 18, 0xffff);
    CHECK(error_of(b) == Error::bad_ipv6_payload_length);
    b = good;
    xt::put16(b, 18, 0);
    b[20] = 0;  // hop-by-hop with payload length 0: a jumbogram
    CHECK(error_of(b) == Error::ipv6_jumbogram);

    s.ipv6_ext = {60};
    const Bytes ext = xt::build(s).bytes;
    b = ext;
    b[14 + 40 + 1] = 200;  // extension length far beyond the payload
    CHECK(error_of(b) == Error::truncated_ipv6_extension);
    b = ext;
    xt::put16(b, 18, 4);  // payload ends inside the extension header
    b.resize(14 + 44);
    CHECK(error_of(b) == Error::truncated_ipv6_extension);

    s.ipv6_ext = {60, 0};
    CHECK(error_of(xt::build(s).bytes) == Error::misplaced_hop_by_hop);
    s.ipv6_ext.assign(kMaxIpv6ExtHeaders + 1, 60);
    CHECK(error_of(xt::build(s).bytes) == Error::too_many_ipv6_extensions);
    s.ipv6_ext.assign(kMaxIpv6ExtHeaders, 60);
    CHECK(parse_bytes(xt::build(s).bytes).has_value());

    // a routing header with segments left and no room for an address
    s.ipv6_ext = {43};
    s.segments_left = 1;
    b = xt::build(s).bytes;
    const std::size_t rh = 14 + 40;
    Bytes cut = b;
    cut.erase(cut.begin() + static_cast<long>(rh) + 8, cut.begin() + static_cast<long>(rh) + 40);
    cut[rh + 1] = 0;  // 8 bytes: no address at all
    xt::put16(cut, 18, static_cast<std::uint16_t>(cut.size() - 14 - 40));
    CHECK(error_of(cut) == Error::bad_ipv6_routing_header);
}

TEST_CASE("malformed: TCP and UDP") {
    Spec s = tcp4(0);
    Bytes b = xt::build(s).bytes;
    xt::put16(b, 16, 20 + 19);  // IP says 19 bytes of TCP
    b.resize(14 + 39);
    CHECK(error_of(b) == Error::truncated_tcp);
    b = xt::build(s).bytes;
    b[14 + 20 + 12] = 0x40;  // data offset 4
    CHECK(error_of(b) == Error::bad_tcp_data_offset);
    b[14 + 20 + 12] = 0xf0;  // 60-byte header in a 20-byte segment
    CHECK(error_of(b) == Error::bad_tcp_data_offset);

    s.l4 = 17;
    s.payload = 4;
    b = xt::build(s).bytes;
    Bytes t = b;
    xt::put16(t, 16, 20 + 7);
    t.resize(14 + 27);
    CHECK(error_of(t) == Error::truncated_udp);
    t = b;
    xt::put16(t, 14 + 20 + 4, 7);
    CHECK(error_of(t) == Error::bad_udp_length);
    t = b;
    xt::put16(t, 14 + 20 + 4, 13);  // one more than the IP payload
    CHECK(error_of(t) == Error::bad_udp_length);
    t = b;
    xt::put16(t, 14 + 20 + 4, 11);  // shorter than the IP payload: trailing bytes ignored
    auto r = parse_bytes(t);
    REQUIRE(r);
    CHECK(r->outer.l4_len == 11);
}

TEST_CASE("malformed: tunnels and the frames inside them") {
    Spec vx;
    vx.l4 = 17;
    vx.tunnel = xt::Tun::vxlan;
    vx.inner = std::make_shared<Spec>(tcp4());
    const auto built = xt::build(vx);
    const std::size_t udp = built.l4_off;

    Bytes b = built.bytes;  // UDP to 4789 with only 4 bytes of payload
    b.resize(udp + 12);
    xt::put16(b, 16, static_cast<std::uint16_t>(b.size() - 14));
    xt::put16(b, udp + 4, 12);
    auto e = parse_bytes(b);
    REQUIRE_FALSE(e);
    CHECK(e.error().code == Error::truncated_tunnel);
    CHECK(e.error().inner);

    b = built.bytes;
    b[udp + 8] = 0;  // no I flag: not VXLAN, plain UDP
    auto r = parse_bytes(b);
    REQUIRE(r);
    CHECK(r->tunnel == Tunnel::none);

    b = built.bytes;  // the inner IPv4 header lies about its length
    xt::put16(b, built.inner_off + 14 + 2, 1400);
    e = parse_bytes(b);
    REQUIRE_FALSE(e);
    CHECK(e.error().code == Error::bad_ipv4_total_length);
    CHECK(e.error().inner);
    CHECK(e.error().message().find("inner frame") != std::string::npos);

    b = built.bytes;  // the inner frame is cut short by the outer UDP length
    xt::put16(b, udp + 4, 8 + 8 + 10);
    e = parse_bytes(b);
    REQUIRE_FALSE(e);
    CHECK(e.error().code == Error::truncated_ethernet);

    Spec gn = vx;
    gn.tunnel = xt::Tun::geneve;
    gn.geneve_options = 8;
    b = xt::build(gn).bytes;
    b[udp + 8] = 0x3f;  // 252 bytes of options: beyond the datagram
    CHECK(error_of(b) == Error::bad_tunnel_header);
    b = xt::build(gn).bytes;
    b[udp + 8] = 0x42;  // version 1: not ours, plain UDP
    r = parse_bytes(b);
    REQUIRE(r);
    CHECK(r->tunnel == Tunnel::none);
}

TEST_CASE("error messages name the header and the offset") {
    Bytes b = xt::build(tcp4()).bytes;
    b[14] = 0x55;
    auto e = parse_bytes(b);
    REQUIRE_FALSE(e);
    CHECK(e.error().message() == "IPv4 version field is not 4 at offset 14");
    for (int code = 0; code <= static_cast<int>(Error::bad_csum_offset); ++code)
        CHECK_FALSE(describe(static_cast<Error>(code)).empty());
}

TEST_CASE("every truncation of every catalogue frame is handled within bounds") {
    std::size_t ok = 0, refused = 0;
    for (const auto& [name, spec] : xt::catalogue()) {
        if (spec.payload > 40) continue;  // header bytes are where the cases are
        const Bytes b = xt::build(spec).bytes;
        for (std::size_t n = 0; n <= b.size(); ++n) {
            auto r = parse_exact(b.data(), n);
            (r ? ok : refused) += 1;
            if (r) {
                // whatever it reports lies inside what it was given
                CHECK(r->outer.l4_end() <= n);
                if (r->tunnel != Tunnel::none) CHECK(r->inner.l4_end() <= n);
            }
        }
    }
    CHECK(ok > 0);
    CHECK(refused > 0);
}
