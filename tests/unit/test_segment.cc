// Software TCP segmentation (packet/segment.h): every segment a well-formed
// TCP datagram with its checksums right, and together exactly the data of
// the frame they were cut from. Frames come from the independent builder.
#include <doctest/doctest.h>

#include "frames.h"
#include "packet/frame_csum.h"
#include "packet/segment.h"

using namespace xnet;
using xt::Bytes;

namespace {

std::uint32_t get32(const Bytes& b, std::size_t off) {
    return std::uint32_t(xt::get16(b, off)) << 16 | xt::get16(b, off + 2);
}

struct Case {
    const char* name;
    xt::Spec spec;
    std::uint16_t mss;
};

xt::Spec tcp(int ip, std::vector<std::uint16_t> tags, std::size_t payload) {
    xt::Spec s;
    s.ip = ip;
    s.tags = std::move(tags);
    s.payload = payload;
    return s;
}

}  // namespace

TEST_CASE("cut_tcp: segments carry the frame's data with lengths, ids, sequence and flags fixed") {
    auto v4opt = tcp(4, {0x8100}, 10 * 1448 + 77);
    v4opt.ipv4_options = 8;
    v4opt.tcp_options = 12;
    auto v6ext = tcp(6, {0x88a8, 0x8100}, 7 * 1400);
    v6ext.ipv6_ext = {0, 60};
    const Case cases[] = {
        {"IPv4, 802.1Q, options, a short last segment", v4opt, 1448},
        {"IPv6, QinQ, extension headers, even cut", v6ext, 1400},
        {"IPv4 untagged, one segment", tcp(4, {}, 500), 1448},
        {"IPv6, MSS 536", tcp(6, {0x8100}, 20000), 536},
    };
    for (const auto& t : cases) {
        CAPTURE(t.name);
        auto b = xt::build(t.spec);
        // FIN, PSH and CWR set on the big frame: where each may stay.
        const std::size_t flags_at = b.l4_off + 13;
        b.bytes[flags_at] |= 0x01 | 0x08 | 0x80;
        REQUIRE(pkt::complete(std::span<std::uint8_t>(b.bytes)));
        auto parsed = pkt::parse(b.bytes);
        REQUIRE(parsed);

        pkt::Segments segs;
        auto n = pkt::cut_tcp(b.bytes, *parsed, t.mss, segs);
        REQUIRE(n);
        const std::size_t headers = b.l4_off + 20 + t.spec.tcp_options;
        const std::size_t payload = t.spec.payload;
        CHECK(*n == (payload + t.mss - 1) / t.mss);
        CHECK(segs.size() == *n);

        Bytes data;
        const std::uint32_t seq0 = get32(b.bytes, b.l4_off + 4);
        const std::uint16_t id0 = xt::get16(b.bytes, b.l3_off + 4);
        for (std::size_t i = 0; !segs.empty(); ++i, segs.pop()) {
            CAPTURE(i);
            auto sp = segs.front();
            Bytes s(sp.begin(), sp.end());
            const std::size_t chunk = std::min<std::size_t>(t.mss, payload - i * t.mss);
            REQUIRE(s.size() == headers + chunk);
            // Everything before the IP header (MACs, tags) is the frame's.
            CHECK(std::equal(s.begin(), s.begin() + b.l3_off, b.bytes.begin()));
            auto v = pkt::verify(s);
            REQUIRE_MESSAGE(v, (v ? "" : v.error().message()));
            CHECK(v->ok());
            CHECK(v->l4 == pkt::Verdict::good);
            // The builder's reference sum agrees (not only our own verify).
            const std::size_t l4_len = s.size() - b.l4_off;
            if (t.spec.ip == 4) {
                CHECK(v->ipv4_header == pkt::Verdict::good);
                CHECK(xt::get16(s, b.l3_off + 2) == s.size() - b.l3_off);
                CHECK(xt::get16(s, b.l3_off + 4) == std::uint16_t(id0 + i));
                CHECK(xt::ref_sum(s.data() + b.l3_off, b.ipv4_header_len) == 0xffff);
            } else {
                CHECK(xt::get16(s, b.l3_off + 4) == s.size() - b.l3_off - 40);
            }
            CHECK(l4_len == 20 + t.spec.tcp_options + chunk);
            CHECK(get32(s, b.l4_off + 4) == seq0 + std::uint32_t(i) * t.mss);
            const bool last = i + 1 == *n;
            CHECK(bool(s[flags_at] & 0x01) == last);      // FIN
            CHECK(bool(s[flags_at] & 0x08) == last);      // PSH
            CHECK(bool(s[flags_at] & 0x80) == (i == 0));  // CWR
            data.insert(data.end(), s.begin() + headers, s.end());
        }
        CHECK(data == Bytes(b.bytes.begin() + headers, b.bytes.begin() + headers + payload));
    }
}

TEST_CASE("cut_tcp: padding after the datagram is not data; a bare header is one segment") {
    auto spec = tcp(4, {0x8100}, 3000);
    spec.pad = 9;
    auto b = xt::build(spec);
    auto parsed = pkt::parse(b.bytes);
    REQUIRE(parsed);
    pkt::Segments segs;
    auto n = pkt::cut_tcp(b.bytes, *parsed, 1448, segs);
    REQUIRE(n);
    CHECK(*n == 3);
    std::size_t total = 0;
    for (; !segs.empty(); segs.pop())
        total += segs.front().size() - b.l4_off - 20;
    CHECK(total == 3000);

    auto bare = xt::build(tcp(6, {0x8100}, 0));
    parsed = pkt::parse(bare.bytes);
    REQUIRE(parsed);
    n = pkt::cut_tcp(bare.bytes, *parsed, 1448, segs);
    REQUIRE(n);
    CHECK(*n == 1);
    CHECK(Bytes(segs.front().begin(), segs.front().end()) == bare.bytes);
}

TEST_CASE("cut_tcp: refuses MSS 0, too many segments, and anything but a whole TCP datagram") {
    auto b = xt::build(tcp(4, {0x8100}, 60000));
    auto parsed = pkt::parse(b.bytes);
    REQUIRE(parsed);
    pkt::Segments segs;
    auto zero = pkt::cut_tcp(b.bytes, *parsed, 0, segs);
    REQUIRE_FALSE(zero);
    CHECK(zero.error().code == pkt::Error::bad_gso_size);
    auto tiny = pkt::cut_tcp(b.bytes, *parsed, 8, segs);  // 7500 segments
    REQUIRE_FALSE(tiny);
    CHECK(tiny.error().code == pkt::Error::bad_gso_size);

    xt::Spec udp = tcp(4, {}, 100);
    udp.l4 = 17;
    auto u = xt::build(udp);
    parsed = pkt::parse(u.bytes);
    REQUIRE(parsed);
    CHECK_FALSE(pkt::cut_tcp(u.bytes, *parsed, 1448, segs));
    xt::Spec frag = tcp(4, {}, 100);
    frag.frag = xt::Frag::first;
    auto f = xt::build(frag);
    parsed = pkt::parse(f.bytes);
    REQUIRE(parsed);
    CHECK_FALSE(pkt::cut_tcp(f.bytes, *parsed, 1448, segs));
}
