// xnetback's queue against a frontend written by hand, on xnet-sim: what
// xnetfront never does (event storms, bad requests, a guest that goes away
// with frames in flight). Also the loop and pacing rules the queues rely
// on: deferred work, the notification throttle, busy polling.
#include <doctest/doctest.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "fake_port.h"
#include "frames.h"
#include "netback/queue.h"
#include "netif/busy_poll.h"
#include "netif/notify_throttle.h"
#include "runtime/reactor.h"
#include "sim_fixture.h"

using namespace xnet;
using xt::Bytes;
using xt::FakePort;
using xt::take;

namespace {

// A frontend written by hand, one queue with shared event channels, for
// what xnetfront never does: storms of notifications, bad requests.
struct HandFront {
    xt::SimDaemon sim;
    std::unique_ptr<Platform> guest, dom0;
    std::unique_ptr<GrantShare> gs;
    std::unique_ptr<GrantTable> gt;
    std::unique_ptr<EventChannels> ev;
    std::unique_ptr<EpollReactor> r = take(EpollReactor::create());
    SharedPages tx_page, rx_page, data, rx_bufs;
    Port port = 0;
    ring::FrontRing<netif::TxSring> tx{nullptr};
    ring::FrontRing<netif::RxSring> rx{nullptr};
    DeviceShared back;
    FakePort dom0_stack;
    std::unique_ptr<netback::BackQueue> bq;
    std::string fault;

    HandFront() {
        sim.create_domain(7);
        guest = sim.platform(7);
        dom0 = sim.platform(0);
        gs = take(guest->open_gntshr());
        gt = take(dom0->open_gnttab());
        ev = take(guest->open_evtchn());
        tx_page = take(gs->share(0, 1, true));
        rx_page = take(gs->share(0, 1, true));
        data = take(gs->share(0, 1, false));
        rx_bufs = take(gs->share(0, 4, true));
        auto* ts = static_cast<netif::TxSring*>(tx_page.addr());
        auto* rs = static_cast<netif::RxSring*>(rx_page.addr());
        ring::init_shared(ts);
        ring::init_shared(rs);
        tx = ring::FrontRing<netif::TxSring>(ts);
        rx = ring::FrontRing<netif::RxSring>(rs);
        port = take(ev->alloc_unbound(0));
        back.name = "vif7.0";
        back.peer = 7;
        back.tx = offload::kEveryTxOffload;
        back.rx.checksum = offload::kEveryProto;
        back.fault = [this](const Error& e, bool) { fault = e.message(); };
        netback::QueueKeys k{tx_page.refs()[0], rx_page.refs()[0], port, port};
        bq = take(
            netback::BackQueue::start(*r, *gt, take(dom0->open_evtchn()), dom0_stack, back, 0, k));
        bq->kick();
        spin(std::chrono::milliseconds(20));
    }

    // One packet of SIZE bytes from the data page (a broadcast frame of an
    // experimental EtherType), published and notified.
    void send(uint16_t size, uint16_t id = 1) {
        auto* p = static_cast<uint8_t*>(data.addr());
        std::memset(p, 0xff, 12);
        p[12] = 0x88;
        p[13] = 0xb5;
        netif::TxRequest req{};
        req.gref = data.refs()[0];
        req.size = size;
        req.id = id;
        tx.put(req);
        tx.push();
        REQUIRE(ev->notify(port));
    }

    // Posts RX buffer I (of rx_bufs) and notifies.
    void post(uint16_t i) {
        netif::RxRequest req{};
        req.id = i;
        req.gref = rx_bufs.refs()[i];
        rx.put(req);
        rx.push();
        REQUIRE(ev->notify(port));
    }
    const uint8_t* buf(unsigned i) const {
        return static_cast<uint8_t*>(rx_bufs.addr()) + i * 4096;
    }

    void spin(std::chrono::milliseconds d) {
        auto end = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < end)
            REQUIRE(r->run_once(1));
    }
};

}  // namespace

TEST_CASE("backend: the vif's rate holds the guest's transmit, and a live change ends the wait") {
    HandFront h;
    using std::chrono::milliseconds;
    h.back.tx_credit.set(netif::Rate{1000, 200000},
                         netif::Credit::Clock::now());  // 1000 B per 200 ms
    for (uint16_t id = 1; id <= 3; ++id)
        h.send(400, id);
    h.spin(milliseconds(30));
    CHECK(h.dom0_stack.outbox.size() == 2);  // the third waits for the next interval
    CHECK(h.back.counters.rate_throttled == 1);
    h.spin(milliseconds(230));  // the next interval's credit: 200 left + 1000
    CHECK(h.dom0_stack.outbox.size() == 3);
    for (uint16_t id = 4; id <= 6; ++id)  // 800 left: two go, one waits again
        h.send(400, id);
    h.spin(milliseconds(30));
    CHECK(h.dom0_stack.outbox.size() == 5);
    CHECK(h.back.counters.rate_throttled == 2);
    h.back.tx_credit.set(netif::Rate{}, netif::Credit::Clock::now());  // the key removed
    h.bq->credit_changed();
    h.spin(milliseconds(20));  // long before the interval's end
    CHECK(h.dom0_stack.outbox.size() == 6);
    CHECK(h.fault.empty());
}

TEST_CASE("backend: an event storm is throttled, and work still gets through") {
    HandFront h;
    constexpr int kStorm = 20000;
    for (int i = 0; i < kStorm; ++i) {
        REQUIRE(h.ev->notify(h.port));
        if (i % 20 == 0) REQUIRE(h.r->run_once(0));
    }
    h.spin(std::chrono::milliseconds(20));
    INFO("woken ", h.back.counters.notifications_received, " times, throttled ",
         h.back.counters.notifications_throttled);
    CHECK(h.back.counters.notifications_throttled > 0);
    CHECK(h.back.counters.notifications_received < kStorm / 20 / 2);
    h.send(200);
    for (int i = 0; i < 200 && h.dom0_stack.outbox.empty(); ++i)
        h.spin(std::chrono::milliseconds(1));
    CHECK(h.fault.empty());
    REQUIRE(h.dom0_stack.outbox.size() == 1);
    CHECK(h.dom0_stack.outbox[0].bytes.size() == 200);
}

// A frame that waited for buffers goes out in a batch, and the next one
// read in that batch must wait too: it may not take the waiting place
// before the batch's copy has read the first from it (the fuzz replay
// under ASan found the backend overwriting it there).
TEST_CASE("backend: a frame that waited for buffers is copied whole, whatever waits next") {
    HandFront h;
    auto frame = [](uint8_t fill) {
        FakePort::Frame f;
        f.bytes.assign(1000, fill);
        std::memset(f.bytes.data(), 0xff, 12);  // broadcast, an experimental EtherType
        f.bytes[12] = 0x88;
        f.bytes[13] = 0xb5;
        return f;
    };
    h.dom0_stack.send(frame('A'));  // no buffer yet: it waits
    h.spin(std::chrono::milliseconds(10));
    h.dom0_stack.send(frame('B'));
    h.post(0);  // room for A only; B waits in turn
    h.spin(std::chrono::milliseconds(20));
    auto n = h.rx.pending();
    REQUIRE(n);
    REQUIRE(*n == 1);
    auto rsp = h.rx.take();
    CHECK(rsp.status == 1000);
    CHECK(h.buf(0)[500] == 'A');
    h.post(1);
    h.spin(std::chrono::milliseconds(20));
    n = h.rx.pending();
    REQUIRE(n);
    REQUIRE(*n == 1);
    CHECK(h.rx.take().status == 1000);
    CHECK(h.buf(1)[500] == 'B');
    CHECK(h.fault.empty());
}

TEST_CASE("backend: a packet of size 0 is a fault; a runt is answered with an error") {
    {
        HandFront h;
        h.send(10);  // shorter than an Ethernet header: refused, as Linux does
        h.spin(std::chrono::milliseconds(20));
        CHECK(h.fault.empty());
        CHECK(h.back.counters.rx.drops[size_t(Drop::runt)] == 1);
        auto n = h.tx.pending();
        REQUIRE(n);
        REQUIRE(*n == 1);
        CHECK(h.tx.take().status == NETIF_RSP_ERROR);
    }
    HandFront h;
    h.send(0);
    h.spin(std::chrono::milliseconds(20));
    CHECK(h.fault.find("a packet of size 0") != std::string::npos);
}

TEST_CASE("reactor: work that keeps deferring itself does not starve descriptors") {
    auto r = take(EpollReactor::create());
    UniqueFd ev(eventfd(0, EFD_NONBLOCK));
    bool fd_ran = false;
    REQUIRE(r->add(ev.get(), EPOLLIN, [&](uint32_t) { fd_ran = true; }));
    int spins = 0;
    std::function<void()> spin = [&] {
        if (++spins == 1) {
            uint64_t one = 1;  // the descriptor becomes ready while work is deferred
            REQUIRE(::write(ev.get(), &one, sizeof one) == sizeof one);
        }
        if (spins < 1000) r->defer(spin);  // as a polling queue does (bounded: no hang)
    };
    r->defer(spin);
    for (int i = 0; i < 3 && !fd_ran; ++i)
        REQUIRE(r->run_once(-1));
    CHECK(fd_ran);
    CHECK(spins >= 1);
    CHECK(spins <= 3);  // one generation of deferred work per round
}

TEST_CASE("notify throttle: a budget of idle wakeups per window") {
    NotifyThrottle t;
    auto t0 = NotifyThrottle::Clock::now();
    for (unsigned i = 0; i < NotifyThrottle::kBudget; ++i)
        CHECK_FALSE(t.idle_wakeup(t0));
    CHECK(t.idle_wakeup(t0));  // one past the budget
    CHECK(t.idle_wakeup(t0 + NotifyThrottle::kWindow / 2));
    CHECK_FALSE(t.idle_wakeup(t0 + NotifyThrottle::kWindow));  // a new window
}

TEST_CASE("busy poll: off, inside the window, after it") {
    BusyPoll off;
    off.worked();
    CHECK_FALSE(off.again());

    BusyPoll poll(std::chrono::milliseconds(20));
    CHECK_FALSE(poll.again());  // no work seen yet
    poll.worked();
    CHECK(poll.again());
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    CHECK_FALSE(poll.again());
    poll.worked();
    CHECK(poll.again());
}
