// The shared-ring ends (netif/ring.h) on netif's TX ring: sizes, the
// request/response round trip, notification suppression as ring.h defines
// it, index wrap-around, and a hostile peer's indexes refused.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

#include <xen/io/netif.h>

#include "netif/ring.h"

using namespace xnet::ring;
using Tx = netif_tx_sring;

namespace {

// A ring page, page-aligned as a granted page is.
struct alignas(4096) PageBytes {
    uint8_t bytes[kPageBytes];
};

struct Page {
    std::unique_ptr<PageBytes> page = std::make_unique<PageBytes>();
    Tx* sring() { return reinterpret_cast<Tx*>(page->bytes); }
};

netif_tx_request req(uint16_t id) {
    netif_tx_request r{};
    r.id = id;
    r.size = uint16_t(60 + id);
    return r;
}

}  // namespace

TEST_CASE("ring: netif sizes match ring.h's") {
    // 4096 - 64 header bytes over 12-byte TX entries = 336 -> 256; RX: 8 -> 256.
    CHECK(ring_size<netif_tx_sring>() == 256);
    CHECK(ring_size<netif_rx_sring>() == 256);
    CHECK(__CONST_RING_SIZE(netif_tx, 4096) == 256);  // ring.h's own formula
    CHECK(__CONST_RING_SIZE(netif_rx, 4096) == 256);
}

TEST_CASE("ring: requests and responses round trip, with notifications as ring.h decides") {
    Page p;
    init_shared(p.sring());
    FrontRing<Tx> front(p.sring());
    BackRing<Tx> back(p.sring());
    CHECK(front.free_slots() == 256);
    front.put(req(1));
    front.put(req(2));
    // req_event starts at 1: the first push notifies, a second without the
    // backend asking again does not.
    CHECK(front.push());
    front.put(req(3));
    CHECK_FALSE(front.push());
    REQUIRE(*back.pending() == 3);
    for (uint16_t id = 1; id <= 3; ++id) {
        auto r = back.take();
        CHECK(r.id == id);
        CHECK(r.size == 60 + id);
        back.put(netif_tx_response{id, NETIF_RSP_OKAY});
    }
    CHECK(back.push());                // rsp_event = 1
    CHECK_FALSE(*back.final_check());  // nothing more: now asks for req_event = 4
    front.put(req(4));
    CHECK(front.push());  // so this one notifies
    REQUIRE(*front.pending() == 3);
    CHECK(front.take().id == 1);
    CHECK(front.take().id == 2);
    CHECK(front.take().id == 3);
    CHECK(front.free_slots() == 255);
    CHECK(*back.final_check());  // request 4 is there
    CHECK(back.take().id == 4);
    back.put(netif_tx_response{4, NETIF_RSP_OKAY});
    // The frontend has not asked again since rsp_event = 1: no notify.
    CHECK_FALSE(back.push());
    CHECK(*front.final_check());
    CHECK(front.take().id == 4);
    CHECK_FALSE(*front.final_check());  // now asks for rsp_event = 5
    front.put(req(5));
    front.push();
    REQUIRE(*back.pending() == 1);
    back.take();
    back.put(netif_tx_response{5, NETIF_RSP_OKAY});
    CHECK(back.push());
}

TEST_CASE("ring: indexes wrap around 2^32") {
    Page p;
    // As after four billion requests: the indexes cross zero mid-batch.
    const RING_IDX start = UINT32_MAX - 5;
    init_shared(p.sring(), start);
    FrontRing<Tx> front(p.sring(), start);
    BackRing<Tx> back(p.sring(), start);
    for (int round = 0; round < 3; ++round) {
        for (uint16_t id = 0; id < 200; ++id)
            front.put(req(id));
        front.push();
        REQUIRE(*back.pending() == 200);
        for (uint16_t id = 0; id < 200; ++id) {
            REQUIRE(back.take().id == id);
            back.put(netif_tx_response{id, NETIF_RSP_OKAY});
        }
        back.push();
        REQUIRE(*front.pending() == 200);
        for (uint16_t id = 0; id < 200; ++id)
            REQUIRE(front.take().id == id);
        CHECK(front.free_slots() == 256);
    }
    CHECK(front.req_prod_pvt() == start + 600);  // wrapped
    CHECK(front.req_prod_pvt() < start);
}

TEST_CASE("ring: a hostile peer's indexes are refused") {
    Page p;
    init_shared(p.sring());
    BackRing<Tx> back(p.sring());
    FrontRing<Tx> front(p.sring());
    // The frontend claims more requests than the ring holds.
    p.sring()->req_prod = 257;
    auto n = back.pending();
    REQUIRE_FALSE(n);
    CHECK(n.error().message().find("req_prod past the ring") != std::string::npos);
    CHECK_FALSE(back.final_check());
    // Exactly a full ring is fine.
    p.sring()->req_prod = 256;
    CHECK(*back.pending() == 256);
    // A backend answering requests that were never made.
    p.sring()->rsp_prod = 1;
    auto m = front.pending();
    REQUIRE_FALSE(m);
    CHECK(m.error().message().find("rsp_prod past the requests") != std::string::npos);
    front.put(req(1));
    front.push();
    CHECK(*front.pending() == 1);
}
