// The backend's xenbus state machine (netback/xenbus.h) without root: a Vif
// driven against a private xnet-sim, with a fake link device where the TAP
// would be, and a frontend whose keys the test writes by hand. Every state
// the backend goes through, the hotplug wait, a bad key, a frontend that
// closes and one that starts over (also while its rings are being mapped),
// the toolstack's removal.
#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <string>
#include <utility>

#include "fake_link.h"
#include "fake_port.h"
#include "netback/xenbus.h"
#include "netif/netif_keys.h"
#include "netif/ring.h"
#include "sim_fixture.h"

using namespace xnet;
using netif::State;
using xt::FakeLink;
using xt::take;
namespace key = netif::key;

namespace {

XenStore store_of(const Platform& p) {
    return take(p.open_store());
}

// The sim's grant table, with a hook that runs before the next map: a
// test puts the frontend's next move there, where a reconnect lands
// between the backend's read of the keys and its map. The map then fails
// as one of grants the frontend revoked does.
class RacingTable final : public GrantTable {
  public:
    explicit RacingTable(GrantTable& real) : real_(real) {}
    std::function<void()> before_map;

    Result<GrantMapping> map(DomId dom, std::span<const GrantRef> refs, bool writable) override {
        if (auto move = std::exchange(before_map, nullptr)) {
            move();
            return fail(EINVAL, "mapping a grant the frontend revoked");
        }
        return real_.map(dom, refs, writable);
    }
    Status copy(std::span<CopySegment> segs) override { return real_.copy(segs); }
    void forget(DomId dom) override { real_.forget(dom); }

  protected:
    void unmap(GrantMapping&) override {}  // the real table's mappings go back to it

  private:
    GrantTable& real_;
};

// Domain 7's vif 0 as the toolstack lays it out, a backend in dom0 over a
// fake link, and the guest's side of the rings for the frontend's keys.
struct Xenbus {
    xt::SimDaemon sim;
    std::unique_ptr<Platform> dom0 = sim.platform(0);
    std::unique_ptr<Platform> guest = (sim.create_domain(7), sim.platform(7));
    XenStore xs = store_of(*dom0);
    XenStore gxs = store_of(*guest);
    std::unique_ptr<GrantTable> gt = take(dom0->open_gnttab());
    RacingTable racing{*gt};
    std::unique_ptr<GrantShare> gs = take(guest->open_gntshr());
    std::unique_ptr<EventChannels> gev = take(guest->open_evtchn());
    std::unique_ptr<EpollReactor> r = take(EpollReactor::create());
    SharedPages tx_page = take(gs->share(0, 1, true));
    SharedPages rx_page = take(gs->share(0, 1, true));
    Port port = take(gev->alloc_unbound(0));
    FakeLink* link = nullptr;  // the Vif's, once it opened one
    std::shared_ptr<bool> link_removed;
    netback::Services s{
        *r,
        *dom0,
        xs,
        racing,
        netback::Options{},
        [this](const std::string& name, bool persistent) -> Result<std::unique_ptr<Link>> {
            CHECK(persistent);
            auto l = std::make_unique<FakeLink>(name);
            link = l.get();
            link_removed = l->removed;
            return std::unique_ptr<Link>(std::move(l));
        }};
    const std::string be = "/local/domain/0/backend/vif/7/0";
    const std::string fe = "/local/domain/7/device/vif/0";

    Xenbus() {
        ring::init_shared(static_cast<netif::TxSring*>(tx_page.addr()));
        ring::init_shared(static_cast<netif::RxSring*>(rx_page.addr()));
        s.options.max_queues = 2;
        // libxl: the backend directory with state 1, the frontend's too.
        REQUIRE(xs.write(be + "/" + std::string(key::frontend), fe));
        REQUIRE(xs.write(be + "/" + std::string(key::frontend_id), "7"));
        REQUIRE(xs.write(be + "/" + std::string(key::online), "1"));
        REQUIRE(xs.write(be + "/" + std::string(key::state), "1"));
        REQUIRE(xs.write(be + "/" + std::string(key::mtu), "9000"));
        REQUIRE(xs.write(fe + "/" + std::string(key::backend), be));
        REQUIRE(xs.write(fe + "/" + std::string(key::state), "1"));
        // The guest owns its directory, as libxl leaves it.
        for (const auto& node : {fe, fe + "/state", fe + "/backend"})
            REQUIRE(xs.set_perms(node, {{7, XsPerm::none}, {0, XsPerm::read}}));
    }

    std::string read(const std::string& path) {
        auto v = xs.try_read(path);
        REQUIRE(v);
        return v->value_or("(absent)");
    }
    std::string be_key(std::string_view k) { return read(be + "/" + std::string(k)); }
    void fe_write(std::string_view k, const std::string& v) {
        REQUIRE(gxs.write(fe + "/" + std::string(k), v));
    }
    // What a frontend writes before it says Connected: one queue, one port.
    void frontend_keys() {
        fe_write(key::tx_ring_ref, std::to_string(tx_page.refs()[0]));
        fe_write(key::rx_ring_ref, std::to_string(rx_page.refs()[0]));
        fe_write(key::event_channel, std::to_string(port));
        fe_write(key::request_rx_copy, "1");
        fe_write(key::feature_rx_notify, "1");
        fe_write(key::feature_sg, "1");
    }
    void frontend_state(State st) { fe_write(key::state, std::to_string(int(st))); }
    void hotplug_done() {
        REQUIRE(xs.write(be + "/" + std::string(key::hotplug_status), "connected"));
    }
    // The backend in InitWait with the hotplug script done, and the
    // frontend's keys and Connected written, not yet looked at.
    void frontend_ready(netback::Vif& vif) {
        hotplug_done();
        vif.reconcile();
        frontend_keys();
        frontend_state(State::connected);
    }
    // The hotplug script done, then the frontend's keys and Connected,
    // each followed by the backend's look at them: the usual handshake.
    void handshake(netback::Vif& vif) {
        frontend_ready(vif);
        vif.reconcile();
    }
};

std::string state(State s) {
    return std::to_string(int(s));
}

}  // namespace

TEST_CASE("backend xenbus: InitWait after setup, Connected only once the hotplug script said so") {
    Xenbus x;
    netback::Vif vif(x.s, 7, 0);
    vif.reconcile();
    CHECK(vif.state() == State::init_wait);
    CHECK(x.be_key(key::state) == state(State::init_wait));
    REQUIRE(x.link != nullptr);
    CHECK(x.link->name() == "vif7.0");
    CHECK(x.link->up);
    CHECK_FALSE(x.link->carrier);
    CHECK(x.link->mtu == 9000);
    CHECK(x.link->mac == std::array<uint8_t, 6>{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff});
    CHECK(x.link->gso_max == link::kNetifGsoMaxSize);
    // What it advertised, from the schema's keys.
    CHECK(x.be_key(key::feature_rx_copy) == "1");
    CHECK(x.be_key(key::feature_split_event_channels) == "1");
    CHECK(x.be_key(key::multi_queue_max_queues) == "2");
    CHECK(x.be_key(key::feature_no_csum_offload) == "1");  // safe: rx-checksum off

    x.frontend_keys();
    x.frontend_state(State::connected);
    vif.reconcile();
    CHECK(vif.state() == State::init_wait);  // the hotplug script has not run

    x.hotplug_done();
    vif.reconcile();
    CHECK(vif.state() == State::connected);
    CHECK(x.be_key(key::state) == state(State::connected));
    CHECK(x.be_key(key::carrier) == "1");
    CHECK(x.link->carrier);
    CHECK(x.link->ports.size() == 1);

    vif.reconcile();  // level-triggered: nothing new, nothing done
    CHECK(vif.state() == State::connected);
}

TEST_CASE("backend xenbus: a frontend that closes, and one that starts over") {
    Xenbus x;
    netback::Vif vif(x.s, 7, 0);
    x.handshake(vif);
    REQUIRE(vif.state() == State::connected);

    x.frontend_state(State::closing);
    vif.reconcile();
    CHECK(vif.state() == State::closing);
    CHECK(x.be_key(key::carrier) == "0");
    CHECK_FALSE(x.link->carrier);

    // Closed: set up again and wait for it (the TAP stays).
    FakeLink* first = x.link;
    x.frontend_state(State::closed);
    vif.reconcile();
    CHECK(vif.state() == State::init_wait);
    CHECK(x.link == first);

    x.frontend_state(State::initialising);
    vif.reconcile();
    CHECK(vif.state() == State::init_wait);
    x.frontend_state(State::connected);
    vif.reconcile();
    CHECK(vif.state() == State::connected);
}

TEST_CASE("backend xenbus: a bad key is blamed, reported, and the vif waits for a new start") {
    Xenbus x;
    netback::Vif vif(x.s, 7, 0);
    x.hotplug_done();
    vif.reconcile();
    x.frontend_keys();
    x.fe_write(key::tx_ring_ref, "12abc");
    x.frontend_state(State::connected);
    vif.reconcile();
    CHECK(vif.state() == State::closing);
    auto error = x.read("/local/domain/0/error/backend/vif/7/0/error");
    CHECK(error.find("tx-ring-ref") != std::string::npos);
    CHECK(error.find("'12abc' is not a number") != std::string::npos);
    CHECK_FALSE(x.link->carrier);

    // Still Connected, the same bad keys: no second attempt.
    vif.reconcile();
    CHECK(vif.state() == State::closing);

    // The frontend starts over with good keys.
    x.frontend_state(State::initialising);
    vif.reconcile();
    CHECK(vif.state() == State::init_wait);
    x.frontend_keys();
    x.frontend_state(State::connected);
    vif.reconcile();
    CHECK(vif.state() == State::connected);
}

TEST_CASE("backend xenbus: the toolstack's removal closes the vif and the TAP goes") {
    Xenbus x;
    auto vif = std::make_unique<netback::Vif>(x.s, 7, 0);
    x.handshake(*vif);
    REQUIRE(vif->state() == State::connected);

    REQUIRE(x.xs.write(x.be + "/" + std::string(key::online), "0"));
    vif->reconcile();
    CHECK(vif->state() == State::closed);
    CHECK(x.be_key(key::state) == state(State::closed));
    CHECK_FALSE(*x.link_removed);

    REQUIRE(x.xs.rm(x.be));
    vif->reconcile();
    CHECK(vif->gone());
    CHECK(*x.link_removed);
}

TEST_CASE("backend xenbus: a frontend that starts over while its rings are mapped is waited for") {
    Xenbus x;
    netback::Vif vif(x.s, 7, 0);
    x.frontend_ready(vif);
    // It closes and starts again between our read of its keys and the map.
    x.racing.before_map = [&] { x.frontend_state(State::initialising); };
    vif.reconcile();
    CHECK(vif.state() == State::init_wait);
    CHECK(x.read("/local/domain/0/error/backend/vif/7/0/error") == "(absent)");
    CHECK(vif.json().find("\"faults\":0") != std::string::npos);
    CHECK_FALSE(x.link->carrier);
    // Its next Connected connects.
    x.frontend_state(State::connected);
    vif.reconcile();
    CHECK(vif.state() == State::connected);
}

TEST_CASE("backend xenbus: a frontend that replaces its ring refs meanwhile is waited for too") {
    Xenbus x;
    netback::Vif vif(x.s, 7, 0);
    x.frontend_ready(vif);
    SharedPages fresh = take(x.gs->share(0, 1, true));
    ring::init_shared(static_cast<netif::TxSring*>(fresh.addr()));
    x.racing.before_map = [&] { x.fe_write(key::tx_ring_ref, std::to_string(fresh.refs()[0])); };
    vif.reconcile();
    CHECK(vif.state() == State::init_wait);
    CHECK(vif.json().find("\"faults\":0") != std::string::npos);
    // The next look maps the new ring.
    vif.reconcile();
    CHECK(vif.state() == State::connected);
}

TEST_CASE("backend xenbus: a map that fails with the frontend unmoved is its fault") {
    Xenbus x;
    netback::Vif vif(x.s, 7, 0);
    x.frontend_ready(vif);
    x.racing.before_map = [] {};  // nothing moves: the map just fails
    vif.reconcile();
    CHECK(vif.state() == State::closing);
    CHECK(x.read("/local/domain/0/error/backend/vif/7/0/error").find("mapping tx-ring-ref") !=
          std::string::npos);
    CHECK(vif.json().find("\"faults\":1") != std::string::npos);
}

TEST_CASE("backend xenbus: queues on a worker thread, and a fault found there reaches the vif") {
    Xenbus x;
    auto host = take(netback::WorkerHost::start(0, *x.dom0, *x.r, std::chrono::milliseconds(0)));
    {
        netback::Vif vif(x.s, 7, 0, host.get());
        x.handshake(vif);
        REQUIRE(vif.state() == State::connected);
        CHECK(x.link->ports.size() == 1);

        // A request that runs past the end of its page: a violation the
        // queue finds on the worker's thread.
        ring::FrontRing<netif::TxSring> tx(static_cast<netif::TxSring*>(x.tx_page.addr()));
        netif::TxRequest req{};
        req.gref = x.tx_page.refs()[0];
        req.offset = 4000;
        req.size = 200;
        req.id = 1;
        tx.put(req);
        tx.push();
        REQUIRE(x.gev->notify(x.port));
        // The vif acts on it on the control thread: its loop runs the report.
        auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (vif.state() != State::closing && std::chrono::steady_clock::now() < end)
            REQUIRE(x.r->run_once(10));
        CHECK(vif.state() == State::closing);
        CHECK(x.be_key(key::state) == state(State::closing));
        CHECK(vif.json().find("\"faults\":1") != std::string::npos);
        CHECK(vif.json().find("crosses its page") != std::string::npos);
    }
}

TEST_CASE("backend xenbus: the rate key is applied live, and a bad one is reported") {
    Xenbus x;
    netback::Vif vif(x.s, 7, 0);
    x.handshake(vif);
    REQUIRE(vif.state() == State::connected);
    CHECK(vif.json().find("\"rate\":null") != std::string::npos);

    auto rate = x.be + "/" + std::string(key::rate);
    REQUIRE(x.xs.write(rate, "62500,50000"));  // xl's rate=10Mb/s
    vif.reconcile();
    CHECK(vif.state() == State::connected);  // no reconnect for it
    CHECK(vif.json().find("\"bits_per_second\":10000000") != std::string::npos);

    REQUIRE(x.xs.write(rate, "10Mb/s"));  // xl's syntax, not the key's
    vif.reconcile();
    CHECK(vif.state() == State::connected);
    auto error = x.read("/local/domain/0/error/backend/vif/7/0/error");
    CHECK(error.find("rate '10Mb/s'") != std::string::npos);
    CHECK(error.find("not limited") != std::string::npos);
    CHECK(vif.json().find("\"rate\":null") != std::string::npos);

    REQUIRE(x.xs.write(rate, "1250,1000"));
    vif.reconcile();
    CHECK(vif.json().find("\"bytes\":1250,\"usec\":1000") != std::string::npos);
    REQUIRE(x.xs.rm(rate));
    vif.reconcile();
    CHECK(vif.json().find("\"rate\":null") != std::string::npos);
}
