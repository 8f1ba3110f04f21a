// Taking frames from the ring (netif/offload.h, from_ring): csum_blank and
// data-validated honoured or verified per the rules, GSO handed on, tunnel
// and malformed frames. Frames come from the independent builder (frames.h).
#include <doctest/doctest.h>

#include <array>
#include <string>

#include "offload_frames.h"
#include "packet/frame_csum.h"

using namespace offload_test;
using netif::Gso;
using netif::Meta;
using pkt::Verdict;

TEST_CASE("from_ring: csum_blank becomes NEEDS_CSUM (rx-checksum on) or is completed (off)") {
    for (const auto& spec :
         {tcp(4), tcp(4, {0x8100}), tcp(4, {0x88a8, 0x8100}), tcp(6), udp(4), udp(6)}) {
        const auto b = xt::build(spec);
        for (bool rx : {true, false}) {
            for (bool garbage : {false, true}) {
                INFO("tags " << spec.tags.size() << " ip " << spec.ip << " l4 " << int{spec.l4}
                             << " rx-checksum " << rx << " garbage " << garbage);
                Bytes f = xt::partial_of(b);
                // A hostile peer's value must not survive into the field.
                if (garbage) xt::put16(f, b.csum_at, 0xdead);
                DirCounters c;
                auto h = from_ring(f, {.csum_blank = true}, rx, c);
                REQUIRE(h);
                if (rx) {
                    CHECK(h->flags == vnet::kNeedsCsum);
                    CHECK(h->csum_start == b.l4_off);
                    CHECK(h->csum_offset == b.csum_at - b.l4_off);
                    CHECK(h->gso_type == vnet::kGsoNone);
                    CHECK(xt::get16(f, b.csum_at) == b.pseudo);
                    CHECK(c.csum_partial == 1);
                    REQUIRE(pkt::complete_at(std::span<std::uint8_t>(f),
                                             {h->csum_start, h->csum_offset}));
                } else {
                    CHECK(*h == vnet::Hdr{.flags = vnet::kDataValid});
                    CHECK(c.csum_completed == 1);
                    CHECK(c.csum_partial == 0);
                }
                CHECK(f == b.bytes);
            }
        }
    }
}

TEST_CASE("from_ring: csum_blank on a tunnel frame blanks the outer checksum only") {
    // The inner checksum is the sender's: it must be checked (rx-checksum
    // off) or left alone (on), never recomputed so as to hide corruption.
    Spec s = udp(4);
    s.tunnel = xt::Tun::vxlan;
    s.inner = std::make_shared<Spec>(tcp(4));
    const auto b = xt::build(s);
    REQUIRE(b.inner_csum_at != 0);
    Bytes blank = b.bytes;
    xt::put16(blank, b.csum_at, b.pseudo);  // outer field: its pseudo-header sum
    Bytes corrupt = blank;
    REQUIRE(corrupt.size() > b.inner_csum_at + 2);
    corrupt.at(corrupt.size() - 1) ^= 0x5a;  // inner payload

    DirCounters c;
    Bytes f = blank;
    auto h = from_ring(f, Meta{.csum_blank = true}, false, c);
    REQUIRE(h);
    CHECK(h->flags == vnet::kDataValid);
    CHECK(f == b.bytes);

    f = corrupt;
    c = {};
    auto bad = from_ring(f, Meta{.csum_blank = true}, false, c);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == Drop::bad_checksum);
    CHECK(c.csum_bad == 1);

    f = corrupt;
    c = {};
    auto trusted = from_ring(f, Meta{.csum_blank = true}, true, c);
    REQUIRE(trusted);
    CHECK(trusted->csum_start == b.l4_off);  // the outer UDP header
    CHECK(xt::get16(f, b.inner_csum_at) == xt::get16(corrupt, b.inner_csum_at));
}

TEST_CASE("from_ring: GSO without csum_blank is verified before its fix-up (rx-checksum off)") {
    const auto b = xt::build(tcp(4, {}, 3000));
    Bytes corrupt = b.bytes;
    REQUIRE(corrupt.size() > b.csum_at + 2);
    corrupt.at(corrupt.size() - 1) ^= 0x5a;
    const Meta m{.gso = Gso::tcpv4, .gso_size = 1448};

    DirCounters c;
    Bytes f = corrupt;
    auto h = from_ring(f, m, false, c);
    REQUIRE_FALSE(h);
    CHECK(h.error() == Drop::bad_checksum);
    CHECK(c.csum_verified == 1);
    CHECK(c.csum_bad == 1);

    f = b.bytes;
    c = {};
    h = from_ring(f, m, false, c);
    REQUIRE(h);
    CHECK(h->gso_type == vnet::kGsoTcpv4);
    CHECK(c.gso_fixups == 1);
}

TEST_CASE("from_ring: data_validated is trusted with rx-checksum on, verified with it off") {
    const auto b = xt::build(tcp(4));
    Bytes wrong = b.bytes;
    wrong.back() ^= 0x01;
    REQUIRE(pkt::verify(wrong)->l4 == Verdict::bad);
    for (bool dv : {false, true}) {
        CAPTURE(dv);  // rx-checksum on: nothing is checked, the flag is passed on
        Bytes f = wrong;
        DirCounters c;
        auto h = from_ring(f, {.data_validated = dv}, true, c);
        REQUIRE(h);
        CHECK(h->flags == (dv ? vnet::kDataValid : 0));
        CHECK(c.dv_trusted == (dv ? 1u : 0u));
        CHECK(c.csum_verified == 0);
        CHECK(f == wrong);
    }
    for (bool dv : {false, true}) {
        CAPTURE(dv);  // rx-checksum off ignores data_validated
        Bytes f = wrong;
        DirCounters c;
        auto h = from_ring(f, {.data_validated = dv}, false, c);
        REQUIRE_FALSE(h);
        CHECK(h.error() == Drop::bad_checksum);
        CHECK(c.csum_bad == 1);
        CHECK(c.csum_verified == 1);
        CHECK(c.dv_trusted == 0);

        f = b.bytes;
        c = {};
        h = from_ring(f, {.data_validated = dv}, false, c);
        REQUIRE(h);
        CHECK(h->flags == vnet::kDataValid);
        CHECK(c.csum_verified == 1);
        CHECK(c.csum_bad == 0);
        CHECK(f == b.bytes);
    }
}

TEST_CASE("from_ring: csum_blank on a frame without a TCP/UDP checksum is bad_frame") {
    Bytes truncated = xt::partial_of(xt::build(tcp(4)));
    truncated.resize(14 + 10);  // half an IPv4 header
    for (const auto& [name, frame] :
         {std::pair<const char*, Bytes>{"truncated", truncated},
          {"icmp", xt::build(v4_with([](Spec& s) { s.l4 = 1; })).bytes},
          {"arp", xt::build(v4_with([](Spec& s) { s.ip = 0; })).bytes},
          {"first fragment",
           xt::build(v4_with([](Spec& s) { s.frag = xt::Frag::first; })).bytes}}) {
        for (bool checksum : {false, true}) {
            INFO(name << " rx-checksum " << checksum);
            Bytes f = frame;
            DirCounters c;
            auto h = from_ring(f, {.csum_blank = true}, checksum, c);
            REQUIRE_FALSE(h);
            CHECK(h.error() == Drop::bad_frame);
        }
    }
}

TEST_CASE("from_ring: GSO is handed on as NEEDS_CSUM with the header length") {
    Spec s = tcp(4, {0x8100}, 2896);
    s.tcp_options = 12;
    const auto b = xt::build(s);
    for (bool blank : {false, true}) {
        CAPTURE(blank);
        Bytes f = b.bytes;
        if (blank) xt::put16(f, b.csum_at, 0xdead);  // a peer's pseudo sum is not trusted
        DirCounters c;
        auto h = from_ring(f, {.csum_blank = blank, .gso = Gso::tcpv4, .gso_size = 1448}, false, c);
        REQUIRE(h);
        CHECK(h->flags == vnet::kNeedsCsum);
        CHECK(h->gso_type == vnet::kGsoTcpv4);
        CHECK(h->gso_size == 1448);
        CHECK(h->csum_start == b.l4_off);
        CHECK(h->csum_offset == 16);
        CHECK(h->hdr_len == b.l4_off + 20 + 12);
        CHECK(xt::get16(f, b.csum_at) == b.pseudo);
        CHECK(c.gso_fixups == (blank ? 0u : 1u));
        CHECK(c.gso_packets == 1);
    }
    struct Refused {
        const char* what;
        Spec spec;
        Gso gso;
        std::uint16_t size;
    };
    for (const auto& t : {Refused{"UDP", udp(4), Gso::tcpv4, 1448},
                          Refused{"v6 GSO on IPv4", tcp(4), Gso::tcpv6, 1448},
                          Refused{"v4 GSO on IPv6", tcp(6), Gso::tcpv4, 1448},
                          Refused{"size 0", tcp(4), Gso::tcpv4, 0}}) {
        CAPTURE(t.what);
        Bytes f = xt::build(t.spec).bytes;
        DirCounters c;
        auto h = from_ring(f, {.csum_blank = true, .gso = t.gso, .gso_size = t.size}, true, c);
        REQUIRE_FALSE(h);
        CHECK(h.error() == Drop::gso_refused);
    }
}
