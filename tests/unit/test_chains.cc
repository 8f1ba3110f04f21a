// The pure chain parsers of both ends: a guest TX packet's requests
// (netback/tx_chain.h) and a guest RX packet's responses
// (netfront/rx_chain.h), on hand-made slot lists: what a well-formed peer
// sends, what is not all published yet, and every violation by name.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "netback/tx_chain.h"
#include "netfront/rx_chain.h"

using namespace xnet;
using netback::TxChain;
using netfront::RxChain;

namespace {

const netif::GsoAccepted kBoth{true, true};
constexpr uint16_t kMore = netif::txf::more_data;
constexpr uint16_t kExtra = netif::txf::extra_info;

netif::TxRequest tx(uint16_t size, uint16_t flags = 0, uint16_t id = 0, uint16_t offset = 0) {
    netif::TxRequest r{};
    r.size = size;
    r.flags = flags;
    r.id = id;
    r.offset = offset;
    return r;
}

netif::RxResponse rx(int16_t status, uint16_t flags = 0, uint16_t offset = 0) {
    netif::RxResponse r{};
    r.status = status;
    r.flags = flags;
    r.offset = offset;
    return r;
}

template <class Slot>
Slot extra(uint8_t type, uint16_t mss = 1448, uint8_t gso = XEN_NETIF_GSO_TYPE_TCPV4,
           bool more = false) {
    netif::ExtraInfo e{};
    e.type = type;
    e.flags = more ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
    e.u.gso.size = mss;
    e.u.gso.type = gso;
    Slot s{};
    std::memcpy(&s, &e, sizeof e);
    return s;
}

Result<unsigned> parse_tx(const std::vector<netif::TxRequest>& reqs, TxChain& c,
                          netif::GsoAccepted a = kBoth) {
    auto peek = [&](uint32_t i, netif::TxRequest& r) { r = reqs.at(i); };
    return netback::parse_tx_chain(peek, uint32_t(reqs.size()), a, c);
}

std::string tx_error(const std::vector<netif::TxRequest>& reqs, netif::GsoAccepted a = kBoth) {
    TxChain c;
    auto r = parse_tx(reqs, c, a);
    return r ? "" : r.error().what;
}

Result<bool> parse_rx(const std::vector<netif::RxResponse>& rsps, RxChain& c,
                      std::vector<int32_t> bufs = {}) {
    if (bufs.empty()) {
        for (size_t i = 0; i < rsps.size(); ++i)
            bufs.push_back(int32_t(i));
    }
    auto peek = [&](uint32_t i) { return rsps.at(i); };
    auto buf = [&](uint32_t i) { return bufs.at(i); };
    return netfront::parse_rx_chain(peek, buf, uint32_t(rsps.size()), kBoth, c);
}

std::string rx_error(const std::vector<netif::RxResponse>& rsps, std::vector<int32_t> bufs = {}) {
    RxChain c;
    auto r = parse_rx(rsps, c, std::move(bufs));
    return r ? "" : r.error().what;
}

}  // namespace

TEST_CASE("tx chain: one slot, fragments, and a GSO extra") {
    TxChain c;
    auto one = parse_tx({tx(60, 0, 7)}, c);
    REQUIRE(one);
    CHECK(*one == 1);
    CHECK(c.first.id == 7);
    CHECK(c.first_len == 60);
    CHECK_FALSE(c.refused);

    // 9000 bytes: 808 in the first slot, then two full pages.
    auto frags = parse_tx({tx(9000, kMore | kExtra, 1, 100), extra<netif::TxRequest>(1),
                           tx(4096, kMore, 2), tx(4096, 0, 3)},
                          c);
    REQUIRE(frags);
    CHECK(*frags == 4);
    CHECK(c.nextras == 1);
    CHECK(c.nfrags == 2);
    CHECK(c.first_len == 808);
    CHECK(c.meta.gso == netif::Gso::tcpv4);
    CHECK(c.meta.gso_size == 1448);
    CHECK(c.slots() == 4);
}

TEST_CASE("tx chain: not all published yet, then the whole ring") {
    TxChain c;
    auto wait = parse_tx({tx(9000, kMore, 1), tx(4096, kMore, 2)}, c);
    REQUIRE(wait);
    CHECK(*wait == 0);
    auto extra_wait = parse_tx({tx(60, kExtra, 1)}, c);
    REQUIRE(extra_wait);
    CHECK(*extra_wait == 0);
    // Unreachable through the slot limit, and kept as a bound of its own.
    CHECK(netback::txcheck::whole_ring(255));
    CHECK(netback::txcheck::whole_ring(256).error().what ==
          "a packet's slot chain fills the whole TX ring");
}

TEST_CASE("tx chain: each violation is refused by name") {
    using X = netif::TxRequest;
    CHECK(tx_error({tx(0)}) == "a packet of size 0");
    CHECK(tx_error({tx(60, kExtra), extra<X>(200)}) == "extra info of unknown type 200");
    CHECK(tx_error({tx(60, kExtra), extra<X>(1, 1448, 9)}) == "GSO extra info of unknown type 9");
    CHECK(tx_error({tx(60, kExtra), extra<X>(1, 0)}) == "GSO extra info with MSS 0");
    CHECK(tx_error({tx(200, kExtra), extra<X>(1, 200)}) ==
          "GSO MSS 200 not below the packet size 200");
    CHECK(tx_error({tx(60, kExtra), extra<X>(1)}, {false, true}) == "GSO that was not negotiated");
    std::vector<X> endless = {tx(60, kExtra)};
    for (int i = 0; i < 8; ++i)
        endless.push_back(extra<X>(2, 0, 0, true));  // MCAST_ADD, chained for ever
    CHECK(tx_error(endless) == "more extra-info slots than there are types");
    CHECK(tx_error({tx(100, kMore), tx(200)}) == "fragment of 200 bytes in a packet with 100 left");
    CHECK(tx_error({tx(8000, kMore), tx(4000, 0, 1, 200)}) ==
          "fragment at offset 200 size 4000 crosses its page");
    CHECK(tx_error({tx(100, 0, 0, 4000)}) ==
          "first slot at offset 4000 with 100 bytes crosses "
          "its page");
    std::vector<X> long_chain = {tx(30000, kMore)};
    for (int i = 0; i < 20; ++i)
        long_chain.push_back(tx(1000, kMore));
    CHECK(tx_error(long_chain) == "a packet of more than 20 slots");
}

TEST_CASE("tx chain: refused as Linux refuses, the ring going on") {
    TxChain c;
    auto runt = parse_tx({tx(10)}, c);
    REQUIRE(runt);
    CHECK(*runt == 1);
    CHECK(c.refused == Drop::runt);
    std::vector<netif::TxRequest> wide = {tx(19 * 100, kMore)};
    for (int i = 0; i < 18; ++i)
        wide.push_back(tx(100, i < 17 ? kMore : 0));
    auto many = parse_tx(wide, c);
    REQUIRE(many);
    CHECK(*many == 19);
    CHECK(c.refused == Drop::too_big);  // more than XEN_NETIF_NR_SLOTS_MIN (18)
}

TEST_CASE("rx chain: one piece, pieces with a GSO extra, and waiting for the rest") {
    constexpr uint16_t kRxMore = netif::rxf::more_data;
    constexpr uint16_t kRxExtra = netif::rxf::extra_info;
    RxChain c;
    auto one = parse_rx({rx(60)}, c);
    REQUIRE(one);
    CHECK(*one);
    CHECK(c.slots == 1);
    CHECK(c.len == 60);
    CHECK_FALSE(c.peer_error);

    auto gso = parse_rx({rx(4096, kRxMore | kRxExtra), extra<netif::RxResponse>(1), rx(1000)}, c);
    REQUIRE(gso);
    CHECK(*gso);
    CHECK(c.slots == 3);
    CHECK(c.npieces == 2);
    CHECK(c.len == 5096);
    CHECK(c.meta.gso == netif::Gso::tcpv4);

    auto wait = parse_rx({rx(4096, kRxMore)}, c);
    REQUIRE(wait);
    CHECK_FALSE(*wait);
    auto err = parse_rx({rx(-1)}, c);
    REQUIRE(err);
    CHECK(c.peer_error);
}

TEST_CASE("rx chain: each violation is refused by name") {
    constexpr uint16_t kRxMore = netif::rxf::more_data;
    CHECK(rx_error({rx(60)}, {-1}) == "response in a slot with no buffer");
    CHECK(rx_error({rx(200, 0, 4000)}) == "response at offset 4000 size 200 crosses its page");
    CHECK(rx_error({rx(60, netif::rxf::extra_info), extra<netif::RxResponse>(200)}) ==
          "extra info of unknown type 200");
    std::vector<netif::RxResponse> long_chain(19, rx(100, kRxMore));
    CHECK(rx_error(long_chain) == "a packet of more than 18 slots");
    CHECK(netfront::rxcheck::whole_ring(255));
    CHECK(netfront::rxcheck::whole_ring(256).error().what ==
          "a packet's slot chain fills the whole RX ring");
}
