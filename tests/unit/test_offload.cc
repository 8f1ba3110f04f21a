// Checksum and GSO offload across the ring (xnet/offload.h), and the netif
// helpers it relies on (xnet/netif.h). Frames and their checksum locations
// come from the independent builder (frames.h), not from the parser.
#include <doctest/doctest.h>

#include <array>
#include <string>

#include "frames.h"
#include "xnet/frame_csum.h"
#include "xnet/netif.h"
#include "xnet/offload.h"

using namespace xnet;
using netif::Gso;
using netif::Meta;
using pkt::Verdict;
using xt::Bytes;
using xt::Spec;

namespace {

Spec tcp(int ip, std::vector<std::uint16_t> tags = {}, std::size_t payload = 301) {
    Spec s;
    s.ip = ip;
    s.tags = std::move(tags);
    s.payload = payload;
    return s;
}

Spec udp(int ip) {
    Spec s = tcp(ip);
    s.l4 = 17;
    return s;
}

// tcp(4) with something changed.
template <class F>
Spec v4_with(F change) {
    Spec s = tcp(4);
    change(s);
    return s;
}

// A frame as the local stack hands it with NEEDS_CSUM: the innermost field
// holds the pseudo-header sum; the header says where, as the builder knows it.
struct StackFrame {
    xt::Built built;
    Bytes frame;
    vnet::Hdr hdr;
};

StackFrame needs_csum(const Spec& s) {
    StackFrame sf{xt::build(s), {}, {}};
    sf.frame = xt::partial_of(sf.built);
    const bool inner = sf.built.inner_csum_at != 0;
    const std::size_t start = inner ? sf.built.inner_l4_off : sf.built.l4_off;
    const std::size_t at = inner ? sf.built.inner_csum_at : sf.built.csum_at;
    sf.hdr.flags = vnet::kNeedsCsum;
    sf.hdr.csum_start = static_cast<std::uint16_t>(start);
    sf.hdr.csum_offset = static_cast<std::uint16_t>(at - start);
    return sf;
}

auto to_ring(Bytes& f, const vnet::Hdr& h, const offload::TxRules& r, DirCounters& c) {
    return offload::to_ring(std::span<std::uint8_t>(f), h, r, c);
}

auto from_ring(Bytes& f, const Meta& m, bool checksum, DirCounters& c) {
    return offload::from_ring(std::span<std::uint8_t>(f), m, offload::RxRules{checksum}, c);
}

const offload::TxRules kAllTx = offload::kEveryTxOffload;

}  // namespace

TEST_CASE("to_ring: a partial checksum goes on the ring as csum_blank, untouched") {
    for (const auto& tags : {std::vector<std::uint16_t>{}, {0x8100}, {0x88a8, 0x8100}}) {
        for (bool dv : {false, true}) {
            INFO("tags " << tags.size() << " dv " << dv);
            auto sf = needs_csum(tcp(4, tags));
            const Bytes before = sf.frame;
            DirCounters c;
            auto m = to_ring(sf.frame, sf.hdr,
                             {.csum_blank_v4 = true, .data_validated = dv, .tagged = true}, c);
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
        offload::TxRules r{.csum_blank_v4 = ip == 6, .csum_blank_v6 = ip == 4};
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
    auto m = to_ring(sf.frame, sf.hdr, {.csum_blank_v6 = true}, c);
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
        auto m = to_ring(sf.frame, sf.hdr, {.gso_v4 = ip == 4, .gso_v6 = ip == 6}, c);
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
    const offload::TxRules no_v4{.csum_blank_v4 = true, .gso_v6 = true};
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
    auto m = to_ring(f, h, {.gso_v4 = true, .tagged = true}, c);
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
            auto m = to_ring(f, h, {.csum_blank_v4 = true, .data_validated = rule}, c);
            REQUIRE(m);
            CHECK(m->data_validated == (stack_dv && rule));
            CHECK_FALSE(m->csum_blank);
            CHECK(f == b.bytes);
            CHECK(c.dv_set == (stack_dv && rule ? 1u : 0u));
        }
    }
}

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

TEST_CASE("netif: checksum flags per direction") {
    // The two directions put the same bits in different places.
    CHECK(netif::tx_flags({.csum_blank = true}) == 1);
    CHECK(netif::tx_flags({.data_validated = true}) == 2);
    CHECK(netif::rx_flags({.csum_blank = true}) == 2);
    CHECK(netif::rx_flags({.data_validated = true}) == 1);
    for (bool blank : {false, true}) {
        for (bool dv : {false, true}) {
            const Meta m{.csum_blank = blank, .data_validated = dv};
            INFO("blank " << blank << " dv " << dv);
            CHECK(netif::from_tx_flags(netif::tx_flags(m)) == m);
            CHECK(netif::from_rx_flags(netif::rx_flags(m)) == m);
        }
    }
    for (std::uint16_t f = 0; f < 16; ++f) {
        CAPTURE(f);  // the slot-chain bits are not checksum bits
        CHECK(netif::tx_flags(netif::from_tx_flags(f)) == (f & 3));
        CHECK(netif::rx_flags(netif::from_rx_flags(f)) == (f & 3));
    }
    CHECK(netif::from_rx_flags(1) == Meta{.data_validated = true});
    CHECK(netif::from_tx_flags(1) == Meta{.csum_blank = true});
}

TEST_CASE("netif: parse_number, parse_state, state_name, gso_extra") {
    for (const char* bad : {"", "-1", "+4", "0x10", " 4", "4 ", "4\n", "99999999999999999999999",
                            "18446744073709551616"}) {
        CAPTURE(bad);
        CHECK_FALSE(netif::parse_number(bad, UINT64_MAX).has_value());
    }
    CHECK(netif::parse_number("0", 10) == 0u);
    CHECK(netif::parse_number("42", 42) == 42u);
    CHECK(netif::parse_number("18446744073709551615", UINT64_MAX) == UINT64_MAX);
    CHECK_FALSE(netif::parse_number("43", 42).has_value());

    CHECK(netif::parse_state("4") == netif::State::connected);
    CHECK(netif::parse_state("8") == netif::State::reconfigured);
    for (const char* bad : {"9", "x", "", "-1"}) {
        CAPTURE(bad);
        CHECK_FALSE(netif::parse_state(bad).has_value());
    }
    CHECK(netif::state_name(netif::State::connected) == "Connected");
    CHECK(netif::state_name(netif::State::init_wait) == "InitWait");

    auto e = netif::gso_extra({.gso = Gso::tcpv6, .gso_size = 1440});
    CHECK(e.type == XEN_NETIF_EXTRA_TYPE_GSO);
    CHECK(e.flags == 0);
    CHECK(e.u.gso.size == 1440);
    CHECK(e.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6);
    CHECK(e.u.gso.features == 0);
    CHECK(netif::gso_extra({.gso = Gso::tcpv4, .gso_size = 1}).u.gso.type ==
          XEN_NETIF_GSO_TYPE_TCPV4);
}

TEST_CASE("offload policy: profiles and settings") {
    auto fields = [](const offload::Policy& p) {
        return std::array{p.tx_checksum, p.rx_checksum, p.tx_data_validated, p.sg, p.tso};
    };
    auto safe = offload::profile("safe");
    auto on = offload::profile("offload");
    REQUIRE((safe && on));
    for (int i = 0; i < 3; ++i) {  // the checksum keys
        CHECK_FALSE(fields(*safe)[i]);
        CHECK(fields(*on)[i]);
    }
    auto bad = offload::profile("fast");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message().find("fast") != std::string::npos);

    // Each key sets its own field and no other.
    struct Key {
        const char* name;
        bool offload::Policy::*field;
    };
    for (auto k : {Key{"tx-checksum", &offload::Policy::tx_checksum},
                   Key{"rx-checksum", &offload::Policy::rx_checksum},
                   Key{"tx-data-validated", &offload::Policy::tx_data_validated},
                   Key{"scatter-gather", &offload::Policy::sg},
                   Key{"tcp-segmentation-offload", &offload::Policy::tso}}) {
        CAPTURE(k.name);
        for (bool v : {true, false}) {
            offload::Policy p{};
            p.*k.field = !v;
            offload::Policy want = p;
            want.*k.field = v;
            REQUIRE(offload::set(p, k.name, v ? "on" : "off"));
            CHECK(fields(p) == fields(want));
        }
    }
    offload::Policy p = offload::offload();
    for (const char* value : {"maybe", "", "ON", "1"}) {
        CAPTURE(value);
        auto st = offload::set(p, "tx-checksum", value);
        REQUIRE_FALSE(st);
        CHECK(st.error().message().find("tx-checksum") != std::string::npos);
        CHECK(st.error().message().find("'" + std::string(value) + "'") != std::string::npos);
        CHECK(p.tx_checksum);
    }
    auto st = offload::set(p, "tx-chksum", "off");
    REQUIRE_FALSE(st);
    CHECK(st.error().message().find("tx-chksum") != std::string::npos);
    CHECK(p.tx_checksum);
}

TEST_CASE("offload: what a policy advertises, and what a peer's features allow on the ring") {
    auto safe = offload::advertised(offload::safe());
    CHECK(safe.no_csum);
    CHECK_FALSE(safe.ipv6_csum);
    CHECK_FALSE(safe.gso4);
    CHECK(safe.sg);
    auto off = offload::advertised(offload::offload());
    CHECK(off == offload::Features{
                     .sg = true, .gso4 = true, .gso6 = true, .ipv6_csum = true, .tagged = true});
    CHECK(safe.tagged);  // a capability of the parser, not a policy

    // An offloading sender to an offloading peer: partials and GSO both ways.
    auto all = offload::tx_rules(offload::offload(), off);
    CHECK((all.csum_blank_v4 && all.csum_blank_v6 && all.gso_v4 && all.gso_v6 && all.sg));
    CHECK(all.data_validated);
    // A peer that verifies everything gets complete checksums and no GSO.
    auto to_safe = offload::tx_rules(offload::offload(), safe);
    CHECK_FALSE(to_safe.csum_blank_v4);
    CHECK_FALSE(to_safe.csum_blank_v6);
    CHECK_FALSE(to_safe.gso_v4);
    // A safe sender never puts partials on the ring, whatever the peer takes.
    auto from_safe = offload::tx_rules(offload::safe(), off);
    CHECK_FALSE(from_safe.csum_blank_v4);
    CHECK_FALSE(from_safe.gso_v4);
    CHECK_FALSE(from_safe.data_validated);
    // Tagged frames keep their offloads only for a peer that said it parses
    // them: an xnet end; Linux's netfront and netback do not say so.
    CHECK(all.tagged);
    auto linux_peer = off;
    linux_peer.tagged = false;
    CHECK_FALSE(offload::tx_rules(offload::offload(), linux_peer).tagged);
}

// ---- tagged frames for a peer that parses untagged ones only ----------------

TEST_CASE("to_ring: a tagged partial for a peer without tagged offload is completed") {
    const offload::TxRules linux_peer{
        .csum_blank_v4 = true, .csum_blank_v6 = true, .data_validated = true};
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
