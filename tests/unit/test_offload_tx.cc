// Putting frames on the ring (netif/offload.h, to_ring, must_cut, cut):
// partial checksums passed on or completed per the rules, GSO accepted as
// negotiated, data-validated, and tagged frames toward Linux's drivers.
// Frames and their checksum locations come from the independent builder
// (frames.h), not from the parser.
#include <doctest/doctest.h>

#include <array>
#include <string>

#include "offload_frames.h"
#include "packet/frame_csum.h"

using namespace offload_test;
using netif::Gso;
using netif::Meta;
using pkt::Verdict;

TEST_CASE("to_ring: a partial checksum goes on the ring as csum_blank, untouched") {
    for (const auto& tags : {std::vector<std::uint16_t>{}, {0x8100}, {0x88a8, 0x8100}}) {
        for (bool dv : {false, true}) {
            INFO("tags " << tags.size() << " dv " << dv);
            auto sf = needs_csum(tcp(4, tags));
            const Bytes before = sf.frame;
            DirCounters c;
            auto m = to_ring(
                sf.frame, sf.hdr,
                {.csum_blank = offload::kIpv4Protos, .data_validated = dv, .tagged = true}, c);
            REQUIRE(m);
            CHECK(m->csum_blank);
            CHECK(m->data_validated == dv);
            CHECK(m->gso == Gso::none);
            CHECK(sf.frame == before);
            CHECK(c.csum_partial == 1);
            CHECK(c.csum_completed == 0);
            CHECK(c.dv_set == (dv ? 1u : 0u));
        }
    }
}

TEST_CASE("to_ring: without the rule for its IP version the checksum is completed") {
    // v4 rule off; then IPv6 with only the v4 rule on (the v6 rule is separate).
    for (int ip : {4, 6}) {
        CAPTURE(ip);
        auto sf = needs_csum(tcp(ip));
        REQUIRE(pkt::verify(sf.frame)->l4 == Verdict::bad);  // really partial
        DirCounters c;
        offload::TxRules r{.csum_blank = ip == 6 ? offload::kIpv4Protos : offload::kIpv6Protos};
        auto m = to_ring(sf.frame, sf.hdr, r, c);
        REQUIRE(m);
        CHECK_FALSE(m->csum_blank);
        auto v = pkt::verify(sf.frame);
        CHECK((v && v->ok() && v->l4 == Verdict::good));
        CHECK(sf.frame == sf.built.bytes);
        CHECK(c.csum_completed == 1);
        CHECK(c.csum_partial == 0);
    }
    auto sf = needs_csum(tcp(6));
    DirCounters c;
    auto m = to_ring(sf.frame, sf.hdr, {.csum_blank = offload::kIpv6Protos}, c);
    REQUIRE(m);
    CHECK(m->csum_blank);
}

TEST_CASE("to_ring: a checksum location outside the frame is bad_csum_meta") {
    auto sf = needs_csum(tcp(4));
    const auto len = static_cast<std::uint16_t>(sf.frame.size());
    for (auto [start, offset] : {std::pair<std::uint16_t, std::uint16_t>{len, 0},
                                 {std::uint16_t(len + 10), 16},
                                 {sf.hdr.csum_start, std::uint16_t(len)},
                                 {std::uint16_t(len - 1), 0}}) {
        INFO("start " << start << " offset " << offset);
        vnet::Hdr h = sf.hdr;
        h.csum_start = start;
        h.csum_offset = offset;
        DirCounters c;
        auto m = to_ring(sf.frame, h, kAllTx, c);
        REQUIRE_FALSE(m);
        CHECK(m.error() == Drop::bad_csum_meta);
    }
}

TEST_CASE("to_ring: a tunnel's inner partial is completed, never passed as csum_blank") {
    // Receivers locate a csum_blank checksum in the outer header only.
    const auto inner = std::make_shared<Spec>(tcp(4));
    for (int ip : {4, 6}) {
        CAPTURE(ip);
        Spec s = udp(ip);
        s.tunnel = xt::Tun::vxlan;
        s.inner = inner;
        auto sf = needs_csum(s);
        REQUIRE(sf.built.inner_csum_at != 0);
        DirCounters c;
        auto m = to_ring(sf.frame, sf.hdr, kAllTx, c);
        REQUIRE(m);
        CHECK_FALSE(m->csum_blank);
        CHECK(c.csum_completed == 1);
        auto v = pkt::verify(sf.frame);
        REQUIRE(v);
        CHECK(v->ok());
        CHECK(v->inner_l4 == Verdict::good);
        CHECK(v->l4 == Verdict::good);
    }
}

TEST_CASE("to_ring: TCP GSO is accepted only as negotiated and well formed") {
    for (int ip : {4, 6}) {
        CAPTURE(ip);
        auto sf = needs_csum(tcp(ip, {}, 2896));
        sf.hdr.gso_type = ip == 4 ? vnet::kGsoTcpv4 : vnet::kGsoTcpv6;
        sf.hdr.gso_size = 1448;
        const Bytes before = sf.frame;
        DirCounters c;
        auto m =
            to_ring(sf.frame, sf.hdr, {.csum_blank = {}, .gso_v4 = ip == 4, .gso_v6 = ip == 6}, c);
        REQUIRE(m);
        CHECK(m->gso == (ip == 4 ? Gso::tcpv4 : Gso::tcpv6));
        CHECK(m->gso_size == 1448);
        CHECK(m->csum_blank);
        CHECK(sf.frame == before);
        CHECK(c.gso_packets == 1);
        CHECK(c.gso_fixups == 0);
    }
    struct Refused {
        const char* what;
        Spec spec;
        std::uint8_t type;
        std::uint16_t size;
        offload::TxRules rules;
    };
    const offload::TxRules no_v4{.csum_blank = offload::kIpv4Protos, .gso_v6 = true};
    for (const auto& t : {Refused{"not negotiated", tcp(4), vnet::kGsoTcpv4, 1448, no_v4},
                          Refused{"v4 GSO on IPv6", tcp(6), vnet::kGsoTcpv4, 1448, kAllTx},
                          Refused{"v6 GSO on IPv4", tcp(4), vnet::kGsoTcpv6, 1448, kAllTx},
                          Refused{"size 0", tcp(4), vnet::kGsoTcpv4, 0, kAllTx},
                          Refused{"UDP", udp(4), vnet::kGsoTcpv4, 1448, kAllTx},
                          Refused{"UFO", udp(4), vnet::kGsoUdp, 1448, kAllTx}}) {
        CAPTURE(t.what);
        auto sf = needs_csum(t.spec);
        sf.hdr.gso_type = t.type;
        sf.hdr.gso_size = t.size;
        DirCounters c;
        auto m = to_ring(sf.frame, sf.hdr, t.rules, c);
        REQUIRE_FALSE(m);
        CHECK(m.error() == Drop::gso_refused);
    }
}

TEST_CASE("to_ring: GSO without NEEDS_CSUM gets the fix-up to a partial checksum") {
    const auto b = xt::build(tcp(4, {0x8100}, 2896));
    Bytes f = b.bytes;
    vnet::Hdr h{.gso_type = vnet::kGsoTcpv4, .gso_size = 1448};
    DirCounters c;
    auto m = to_ring(f, h, {.csum_blank = {}, .gso_v4 = true, .tagged = true}, c);
    REQUIRE(m);
    CHECK(m->csum_blank);
    CHECK(c.gso_fixups == 1);
    CHECK(xt::get16(f, b.csum_at) == b.pseudo);
    Bytes done = f;
    REQUIRE(pkt::complete(std::span<std::uint8_t>(done)));
    CHECK(done == b.bytes);
}

TEST_CASE("to_ring: DATA_VALID from the stack travels only if the rules allow") {
    for (bool stack_dv : {false, true}) {
        for (bool rule : {false, true}) {
            INFO("stack " << stack_dv << " rule " << rule);
            const auto b = xt::build(tcp(4));
            Bytes f = b.bytes;
            vnet::Hdr h{.flags = stack_dv ? vnet::kDataValid : std::uint8_t{0}};
            DirCounters c;
            auto m = to_ring(f, h, {.csum_blank = offload::kIpv4Protos, .data_validated = rule}, c);
            REQUIRE(m);
            CHECK(m->data_validated == (stack_dv && rule));
            CHECK_FALSE(m->csum_blank);
            CHECK(f == b.bytes);
            CHECK(c.dv_set == (stack_dv && rule ? 1u : 0u));
        }
    }
}

TEST_CASE("to_ring: a tagged partial for a peer without tagged offload is completed") {
    const offload::TxRules linux_peer{.csum_blank = offload::kEveryProto, .data_validated = true};
    for (const auto& tags : {std::vector<std::uint16_t>{0x8100}, {0x88a8, 0x8100}, {0x9100}}) {
        for (int ip : {4, 6}) {
            INFO("tags " << tags.size() << " ip " << ip);
            auto sf = needs_csum(tcp(ip, tags));
            DirCounters c;
            auto m = to_ring(sf.frame, sf.hdr, linux_peer, c);
            REQUIRE(m);
            CHECK_FALSE(m->csum_blank);
            CHECK(m->data_validated);
            CHECK(sf.frame == sf.built.bytes);  // finished: what the builder computed
            CHECK(c.csum_completed == 1);
            CHECK(c.csum_partial == 0);
        }
    }
    // Untagged frames keep their partial checksum with the same rules.
    auto sf = needs_csum(tcp(4));
    DirCounters c;
    auto m = to_ring(sf.frame, sf.hdr, linux_peer, c);
    REQUIRE(m);
    CHECK(m->csum_blank);
}

TEST_CASE("must_cut and cut: tagged GSO for a peer without tagged offload leaves as segments") {
    offload::TxRules linux_peer = kAllTx;
    linux_peer.tagged = false;
    auto sf = needs_csum(tcp(4, {0x8100}, 5 * 1448 + 100));
    sf.hdr.gso_type = vnet::kGsoTcpv4;
    sf.hdr.gso_size = 1448;
    CHECK(offload::must_cut(sf.frame, sf.hdr, linux_peer));
    CHECK_FALSE(offload::must_cut(sf.frame, sf.hdr, kAllTx));  // an xnet peer takes it whole
    vnet::Hdr no_gso = sf.hdr;
    no_gso.gso_type = vnet::kGsoNone;
    CHECK_FALSE(offload::must_cut(sf.frame, no_gso, linux_peer));  // completed instead
    auto untagged = needs_csum(tcp(4, {}, 3000));
    untagged.hdr.gso_type = vnet::kGsoTcpv4;
    untagged.hdr.gso_size = 1448;
    CHECK_FALSE(offload::must_cut(untagged.frame, untagged.hdr, linux_peer));

    // to_ring refuses what must be cut, so that nothing tagged slips through whole.
    {
        Bytes f = sf.frame;
        DirCounters c;
        auto m = to_ring(f, sf.hdr, linux_peer, c);
        REQUIRE_FALSE(m);
        CHECK(m.error() == Drop::gso_refused);
    }
    pkt::Segments segs;
    DirCounters c;
    auto m = offload::cut(sf.frame, sf.hdr, linux_peer, segs, c);
    REQUIRE(m);
    CHECK_FALSE(m->csum_blank);
    CHECK(m->gso == Gso::none);
    CHECK(m->data_validated);
    CHECK(segs.size() == 6);
    CHECK(c.gso_cut == 1);
    CHECK(c.csum_completed == 6);
    CHECK(c.dv_set == 6);
    while (!segs.empty()) {
        auto v = pkt::verify(segs.front());
        REQUIRE(v);
        CHECK(v->ok());
        CHECK(v->l4 == Verdict::good);
        segs.pop();
    }
    // A UDP frame or a zero segment size is refused, not cut.
    auto u = needs_csum(udp(4));
    u.frame.insert(u.frame.begin() + 12, {0x81, 0x00, 0x00, 0x05});  // tag it
    u.hdr.gso_type = vnet::kGsoTcpv4;
    u.hdr.gso_size = 1448;
    auto bad = offload::cut(u.frame, u.hdr, linux_peer, segs, c);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == Drop::gso_refused);
    vnet::Hdr zero = sf.hdr;
    zero.gso_size = 0;
    REQUIRE_FALSE(offload::cut(sf.frame, zero, linux_peer, segs, c));
}

TEST_CASE("to_ring: a frame with no partial checksum counts as csum_none") {
    auto sf = needs_csum(tcp(4));
    Bytes complete = sf.built.bytes;  // as the kernel hands it with tx-checksumming off
    DirCounters c;
    auto m = to_ring(complete, vnet::Hdr{}, kAllTx, c);
    REQUIRE(m);
    CHECK_FALSE(m->csum_blank);
    CHECK_FALSE(m->data_validated);  // nobody said it was checked
    CHECK(c.csum_none == 1);
    CHECK(c.csum_partial == 0);
    CHECK(c.csum_completed == 0);
    // A partial one does not.
    DirCounters p;
    REQUIRE(to_ring(sf.frame, sf.hdr, kAllTx, p));
    CHECK(p.csum_none == 0);
}
