// Per-protocol checksum rules (netif/proto.h): what a policy with some of
// TCP/UDP over IPv4/IPv6 off advertises, what it may put on the ring, and
// how each kind of frame is treated and counted in both directions.
#include <doctest/doctest.h>

#include "offload_frames.h"
#include "packet/frame_csum.h"

using namespace offload_test;
using offload::Proto;
using offload::Protos;
using pkt::Verdict;

namespace {

offload::Policy with(offload::Policy p, std::string_view key, std::string_view value) {
    REQUIRE(offload::set(p, key, value));
    return p;
}

// The four kinds, as frames of the builder.
struct Kind {
    Proto proto;
    Spec spec;
};
std::vector<Kind> kinds() {
    return {{Proto::tcpv4, tcp(4)},
            {Proto::udpv4, udp(4)},
            {Proto::tcpv6, tcp(6)},
            {Proto::udpv6, udp(6)}};
}

}  // namespace

TEST_CASE("per protocol: netif says what it can, by IP version") {
    const auto on = offload::offload();
    // UDPv4 alone off: IPv4 partials are still taken (TCPv4 takes them), and GSO stays.
    auto a = offload::advertised(with(on, "rx-checksum-udpv4", "off"));
    CHECK_FALSE(a.no_csum);
    CHECK(a.gso4);
    // Both of IPv4 off: refused, and TCPv4 GSO with them.
    a = offload::advertised(with(on, "rx-checksum-ipv4", "off"));
    CHECK(a.no_csum);
    CHECK_FALSE(a.gso4);
    CHECK((a.ipv6_csum && a.gso6));
    // TCPv6 off: IPv6 partials still taken for UDP, no TCPv6 GSO.
    a = offload::advertised(with(on, "rx-checksum-tcpv6", "off"));
    CHECK(a.ipv6_csum);
    CHECK_FALSE(a.gso6);
    CHECK(a.gso4);
    a = offload::advertised(with(on, "tx-tcp6-segmentation", "off"));
    CHECK_FALSE(a.gso6);
    CHECK(a.gso4);
}

TEST_CASE("per protocol: what goes on the ring follows both the policy and the peer") {
    const auto peer = offload::advertised(offload::offload());
    auto r = offload::tx_rules(with(offload::offload(), "tx-checksum-ipv6", "off"), peer);
    CHECK(r.csum_blank == offload::kIpv4Protos);
    CHECK(r.gso_v4);
    CHECK_FALSE(r.gso_v6);  // GSO needs the partial
    r = offload::tx_rules(with(offload::offload(), "tx-checksum-udpv4", "off"), peer);
    CHECK(r.csum_blank == Protos{Proto::tcpv4, Proto::tcpv6, Proto::udpv6});
    CHECK((r.gso_v4 && r.gso_v6));
    // A peer that refuses IPv4 partials gets none, whatever the policy.
    auto no_v4 = peer;
    no_v4.no_csum = true;
    r = offload::tx_rules(offload::offload(), no_v4);
    CHECK(r.csum_blank == offload::kIpv6Protos);
    CHECK_FALSE(r.gso_v4);
    r = offload::tx_rules(with(offload::offload(), "tx-tcp-segmentation", "off"), peer);
    CHECK_FALSE(r.gso_v4);
    CHECK(r.gso_v6);
}

TEST_CASE("per protocol: to_ring leaves partial the kinds the rules allow, completes the rest") {
    for (Proto off : offload::kAllProtos) {
        CAPTURE(offload::proto_name(off));
        offload::TxRules rules = kAllTx;
        rules.csum_blank.set(off, false);
        DirCounters c;
        for (const auto& k : kinds()) {
            CAPTURE(offload::proto_name(k.proto));
            auto sf = needs_csum(k.spec);
            auto m = to_ring(sf.frame, sf.hdr, rules, c);
            REQUIRE(m);
            CHECK(m->csum_blank == (k.proto != off));
            if (k.proto == off) {
                CHECK(sf.frame == sf.built.bytes);  // completed, and right
            }
        }
        for (Proto k : offload::kAllProtos) {
            const auto& pc = c.proto[offload::index(k)];
            CHECK(pc.csum_partial == (k == off ? 0u : 1u));
            CHECK(pc.csum_completed == (k == off ? 1u : 0u));
        }
        CHECK(c.csum_partial == 3);
        CHECK(c.csum_completed == 1);
    }
}

TEST_CASE("per protocol: from_ring takes on trust only the kinds the rules allow") {
    for (Proto off : offload::kAllProtos) {
        CAPTURE(offload::proto_name(off));
        offload::RxRules rules{offload::kEveryProto};
        rules.checksum.set(off, false);
        DirCounters c;
        for (const auto& k : kinds()) {
            CAPTURE(offload::proto_name(k.proto));
            const auto b = xt::build(k.spec);
            // A blank one: handed on partial, or completed here.
            Bytes f = xt::partial_of(b);
            auto h = offload::from_ring(std::span<std::uint8_t>(f), {.csum_blank = true}, rules, c);
            REQUIRE(h);
            if (k.proto == off) {
                CHECK(h->flags == vnet::kDataValid);
                CHECK(f == b.bytes);
            } else {
                CHECK(h->flags == vnet::kNeedsCsum);
            }
            // A wrong one that claims data_validated: trusted, or caught.
            Bytes wrong = b.bytes;
            wrong.back() ^= 0x01;
            REQUIRE(pkt::verify(wrong)->l4 == Verdict::bad);
            h = offload::from_ring(std::span<std::uint8_t>(wrong), {.data_validated = true}, rules,
                                   c);
            if (k.proto == off) {
                REQUIRE_FALSE(h);
                CHECK(h.error() == Drop::bad_checksum);
            } else {
                REQUIRE(h);
                CHECK(h->flags == vnet::kDataValid);
            }
        }
        for (Proto k : offload::kAllProtos) {
            const auto& pc = c.proto[offload::index(k)];
            CHECK(pc.csum_partial == (k == off ? 0u : 1u));
            CHECK(pc.csum_completed == (k == off ? 1u : 0u));
            CHECK(pc.csum_verified == (k == off ? 1u : 0u));
        }
        CHECK(c.csum_bad == 1);
        CHECK(c.dv_trusted == 3);
    }
}

TEST_CASE("per protocol: counters add up and show in the JSON") {
    DirCounters a, b;
    a.proto[offload::index(Proto::udpv6)].csum_completed = 2;
    b.proto[offload::index(Proto::udpv6)].csum_completed = 3;
    a += b;
    CHECK(a.proto[offload::index(Proto::udpv6)].csum_completed == 5);
    auto j = a.json();
    CHECK(j.find("\"by_protocol\":{\"tcpv4\":{\"csum_partial\":0,") != std::string::npos);
    CHECK(j.find("\"udpv6\":{\"csum_partial\":0,\"csum_completed\":5,\"csum_verified\":0}") !=
          std::string::npos);
}
