// The frontend's xenbus state machine (netfront/xenbus.h) without root: a
// Frontend in guest 7 driven against a private xnet-sim, with a fake link
// device where its TAP would be, and a backend whose keys the test writes
// by hand in dom0. Every state the frontend goes through, a bad key, a
// backend that goes away and comes back, a renegotiation, the removal.
#include <doctest/doctest.h>

#include <string>

#include "fake_link.h"
#include "fake_port.h"
#include "netfront/xenbus.h"
#include "netif/netif_keys.h"
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

std::string state(State s) {
    return std::to_string(int(s));
}

// Guest 7's vif 0 as the toolstack lays it out, a frontend in the guest
// over a fake link, and dom0's store for the backend's side of the keys.
struct Xenbus {
    xt::SimDaemon sim;
    std::unique_ptr<Platform> dom0 = sim.platform(0);
    std::unique_ptr<Platform> guest = (sim.create_domain(7), sim.platform(7));
    XenStore xs = store_of(*dom0);
    XenStore gxs = store_of(*guest);
    std::unique_ptr<GrantShare> gs = take(guest->open_gntshr());
    std::unique_ptr<EpollReactor> r = take(EpollReactor::create());
    FakeLink* link = nullptr;  // the Frontend's, once it opened one
    const std::string be = "/local/domain/0/backend/vif/7/0";
    const std::string fe = "/local/domain/7/device/vif/0";
    netfront::Options options{
        .devid = 0,
        .ifname = "xf0",
        .queues = 2,
        .open_link = [this](const std::string& name,
                            bool persistent) -> Result<std::unique_ptr<Link>> {
            CHECK_FALSE(persistent);  // the guest's goes with the daemon
            auto l = std::make_unique<FakeLink>(name);
            link = l.get();
            return std::unique_ptr<Link>(std::move(l));
        }};

    Xenbus() {
        // libxl: the guest's domain directory readable by it, its error
        // corner writable; the backend's directory readable by the guest,
        // the vif's own directory the guest's; each in state 1.
        const std::string dp = "/local/domain/7";
        for (const auto& node : {dp, dp + "/device", dp + "/device/vif"}) {
            REQUIRE(xs.write(node, ""));
            REQUIRE(xs.set_perms(node, {{0, XsPerm::none}, {7, XsPerm::read}}));
        }
        REQUIRE(xs.write(dp + "/error", ""));
        REQUIRE(xs.set_perms(dp + "/error", {{7, XsPerm::none}}));
        REQUIRE(xs.write(be, ""));
        REQUIRE(xs.set_perms(be, {{0, XsPerm::none}, {7, XsPerm::read}}));
        be_write(key::frontend, fe);
        be_write(key::frontend_id, "7");
        be_write(key::online, "1");
        be_write(key::state, "1");
        REQUIRE(xs.write(fe, ""));
        REQUIRE(xs.set_perms(fe, {{7, XsPerm::none}, {0, XsPerm::read}}));
        REQUIRE(xs.write(fe + "/" + std::string(key::backend), be));
        REQUIRE(xs.write(fe + "/" + std::string(key::backend_id), "0"));
        REQUIRE(xs.write(fe + "/" + std::string(key::mac), "00:16:3e:01:02:03"));
        REQUIRE(xs.write(fe + "/" + std::string(key::mtu), "1400"));
        REQUIRE(xs.write(fe + "/" + std::string(key::state), "1"));
    }

    std::string read(const std::string& path) {
        auto v = xs.try_read(path);
        REQUIRE(v);
        return v->value_or("(absent)");
    }
    std::string fe_key(std::string_view k) { return read(fe + "/" + std::string(k)); }
    void be_write(std::string_view k, const std::string& v) {
        REQUIRE(xs.write(be + "/" + std::string(k), v));
    }
    // What a backend writes before InitWait (as netback/xenbus.cc does).
    void backend_keys(unsigned max_queues = 2) {
        be_write(key::feature_rx_copy, "1");
        be_write(key::feature_split_event_channels, "1");
        be_write(key::multi_queue_max_queues, std::to_string(max_queues));
        be_write(key::feature_sg, "1");
        be_write(key::carrier, "0");
    }
    void backend_state(State st) { be_write(key::state, std::to_string(int(st))); }
    // The backend's offer, then its Connected, each followed by the
    // frontend's look at them: the usual handshake.
    void handshake(netfront::Frontend& f) {
        backend_keys();
        backend_state(State::init_wait);
        f.reconcile();
        backend_state(State::connected);
        be_write(key::carrier, "1");
        f.reconcile();
    }
};

}  // namespace

TEST_CASE("frontend xenbus: Initialising at start, keys at InitWait, packets at Connected") {
    Xenbus x;
    netfront::Frontend f(*x.r, *x.guest, x.gxs, *x.gs, x.options);
    REQUIRE(f.start());
    CHECK(f.state() == State::initialising);
    CHECK(x.fe_key(key::state) == state(State::initialising));
    REQUIRE(x.link != nullptr);
    CHECK(x.link->name() == "xf0");
    CHECK(x.link->up);
    CHECK_FALSE(x.link->carrier);
    CHECK(x.link->mtu == 1400);
    CHECK(x.link->mac == std::array<uint8_t, 6>{0x00, 0x16, 0x3e, 0x01, 0x02, 0x03});
    CHECK(x.link->gso_max == link::kNetifGsoMaxSize);
    // The default policy (safe): the TAP shows tx-checksumming off, so the
    // kernel completes checksums before we read the frame.
    CHECK_FALSE(x.link->offload.csum);
    CHECK_FALSE(x.link->offload.tso4);
    CHECK(x.link->offload.sg);

    f.reconcile();  // the backend has not offered anything yet
    CHECK(f.state() == State::initialising);

    x.backend_keys();
    x.backend_state(State::init_wait);
    f.reconcile();
    CHECK(f.state() == State::connected);
    CHECK(x.fe_key(key::state) == state(State::connected));
    // Two queues (ours and the backend's maximum), split channels.
    CHECK(x.fe_key(key::multi_queue_num_queues) == "2");
    for (const char* q : {"queue-0/", "queue-1/"}) {
        CAPTURE(q);
        CHECK(x.fe_key(std::string(q) + std::string(key::tx_ring_ref)) != "(absent)");
        CHECK(x.fe_key(std::string(q) + std::string(key::rx_ring_ref)) != "(absent)");
        CHECK(x.fe_key(std::string(q) + std::string(key::event_channel_tx)) != "(absent)");
        CHECK(x.fe_key(std::string(q) + std::string(key::event_channel_rx)) != "(absent)");
    }
    CHECK(x.fe_key(key::request_rx_copy) == "1");
    CHECK(x.fe_key(key::feature_rx_notify) == "1");
    // Nothing reads the link until the backend is Connected.
    CHECK(x.link->ports.empty());

    x.backend_state(State::connected);
    x.be_write(key::carrier, "1");
    f.reconcile();
    CHECK(f.state() == State::connected);
    CHECK(x.link->ports.size() == 2);
    CHECK(x.link->carrier);

    x.be_write(key::carrier, "0");  // the backend's carrier follows to ours
    f.reconcile();
    CHECK_FALSE(x.link->carrier);
    x.be_write(key::carrier, "1");
    f.reconcile();
    CHECK(x.link->carrier);
}

TEST_CASE("frontend xenbus: one queue when the backend offers one, a shared channel") {
    Xenbus x;
    netfront::Frontend f(*x.r, *x.guest, x.gxs, *x.gs, x.options);
    REQUIRE(f.start());
    x.backend_keys(1);
    x.be_write(key::feature_split_event_channels, "0");
    x.backend_state(State::init_wait);
    f.reconcile();
    REQUIRE(f.state() == State::connected);
    CHECK(x.fe_key(key::multi_queue_num_queues) == "(absent)");
    CHECK(x.fe_key(key::tx_ring_ref) != "(absent)");
    CHECK(x.fe_key(key::event_channel) != "(absent)");
    CHECK(x.fe_key(key::event_channel_tx) == "(absent)");
}

TEST_CASE("frontend xenbus: a bad backend key is reported and nothing connects") {
    Xenbus x;
    netfront::Frontend f(*x.r, *x.guest, x.gxs, *x.gs, x.options);
    REQUIRE(f.start());
    x.backend_keys();
    x.be_write(key::multi_queue_max_queues, "two");
    x.backend_state(State::init_wait);
    f.reconcile();
    CHECK(f.state() == State::closed);
    CHECK(x.fe_key(key::state) == state(State::closed));
    auto error = x.read("/local/domain/7/error/device/vif/0/error");
    CHECK(error.find(std::string(key::multi_queue_max_queues)) != std::string::npos);
    CHECK(x.fe_key("queue-0/" + std::string(key::tx_ring_ref)) == "(absent)");

    // A backend without feature-rx-copy: refused, naming the key.
    x.be_write(key::multi_queue_max_queues, "2");
    REQUIRE(x.xs.rm(x.be + "/" + std::string(key::feature_rx_copy)));
    f.reconcile();
    CHECK(f.state() == State::closed);
    CHECK(x.read("/local/domain/7/error/device/vif/0/error").find("feature-rx-copy") !=
          std::string::npos);

    // Fixed: the next look connects.
    x.be_write(key::feature_rx_copy, "1");
    f.reconcile();
    CHECK(f.state() == State::connected);
}

TEST_CASE("frontend xenbus: a backend that goes away and comes back") {
    Xenbus x;
    netfront::Frontend f(*x.r, *x.guest, x.gxs, *x.gs, x.options);
    REQUIRE(f.start());
    x.handshake(f);
    REQUIRE(f.state() == State::connected);
    REQUIRE(x.link->ports.size() == 2);

    // A restarted xnetback asks with Closing: we let go and wait.
    x.backend_state(State::closing);
    f.reconcile();
    CHECK(f.state() == State::closed);
    CHECK_FALSE(x.link->carrier);
    CHECK(x.link->ports.size() <= 1);  // the extra queue is dropped

    // Closed and still online: we ask it to start over.
    x.backend_state(State::closed);
    f.reconcile();
    CHECK(f.state() == State::initialising);

    FakeLink* first = x.link;
    x.backend_state(State::init_wait);
    f.reconcile();
    CHECK(f.state() == State::connected);
    x.backend_state(State::connected);
    f.reconcile();
    CHECK(x.link == first);  // the same link all along
    CHECK(x.link->ports.size() == 2);
    CHECK(x.link->carrier);

    // Offline (the toolstack is removing it): Closed stays Closed.
    x.be_write(key::online, "0");
    x.backend_state(State::closed);
    f.reconcile();
    CHECK(f.state() == State::closed);
    f.reconcile();
    CHECK(f.state() == State::closed);
}

TEST_CASE("frontend xenbus: new features renegotiate through Closing") {
    Xenbus x;
    netfront::Frontend f(*x.r, *x.guest, x.gxs, *x.gs, x.options);
    REQUIRE(f.start());
    x.handshake(f);
    REQUIRE(f.state() == State::connected);
    CHECK(x.fe_key(key::feature_gso_tcpv4) != "1");  // safe: no GSO offered

    REQUIRE(x.gxs.write(x.fe + "/offload/profile", "offload"));
    f.reconcile();
    CHECK(f.state() == State::closing);
    CHECK(x.fe_key(key::state) == state(State::closing));

    // While the backend is still Connected our grants stay.
    f.reconcile();
    CHECK(f.state() == State::closing);

    // It let go and waits again: we connect with the new features.
    x.backend_state(State::init_wait);
    f.reconcile();
    CHECK(f.state() == State::connected);
    CHECK(x.fe_key(key::feature_gso_tcpv4) == "1");

    // A bad policy value is reported, and changes nothing.
    REQUIRE(x.gxs.write(x.fe + "/offload/profile", "fastest"));
    f.reconcile();
    CHECK(f.state() == State::connected);
    CHECK(x.read("/local/domain/7/error/device/vif/0/error").find("fastest") != std::string::npos);
}

TEST_CASE("frontend xenbus: the vif's removal disconnects; a bad start is refused") {
    Xenbus x;
    netfront::Frontend f(*x.r, *x.guest, x.gxs, *x.gs, x.options);
    REQUIRE(f.start());
    x.handshake(f);
    REQUIRE(f.state() == State::connected);
    REQUIRE(x.xs.rm(x.fe));
    f.reconcile();
    CHECK(f.state() == State::unknown);
    CHECK_FALSE(x.link->carrier);

    // A backend path that is not the one for our domain and devid.
    Xenbus y;
    REQUIRE(y.xs.write(y.fe + "/" + std::string(key::backend), "/local/domain/0/backend/vif/8/0"));
    netfront::Frontend g(*y.r, *y.guest, y.gxs, *y.gs, y.options);
    auto st = g.start();
    REQUIRE_FALSE(st);
    CHECK(st.error().message().find("expected /local/domain/0/backend/vif/7/0") !=
          std::string::npos);
}
