// The netif xenstore schema (netif/netif_keys.h) and the queue layout both
// ends share (device/queue_keys.h), against a private xnet-sim's store.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "device/queue_keys.h"
#include "netif/netif_keys.h"
#include "netif/offload.h"
#include "sim_fixture.h"

using namespace xnet;
namespace key = netif::key;

namespace {

const std::string kDir = "/local/domain/0/device/vif/0";

XenStore open(xt::SimDaemon& sim) {
    auto xs = sim.platform(0)->open_store();
    REQUIRE(xs);
    return std::move(*xs);
}

Status write_all(const XenStore& xs, unsigned n, const std::vector<netif::QueueKeys>& q,
                 bool split) {
    return xs.transact([&](XenStore::Tx tx) -> Status {
        for (unsigned i = 0; i < n; ++i) {
            if (auto st = netif::write_queue_keys(xs, kDir, n, i, q[i], split, tx); !st) return st;
        }
        return {};
    });
}

}  // namespace

TEST_CASE("netif schema: one row a key, and the offload features are its feature rows") {
    std::set<std::string_view> names;
    std::set<std::string_view> features;
    for (const auto& k : key::kSchema) {
        CAPTURE(k.name);
        CHECK(names.insert(k.name).second);
        CHECK_FALSE(k.help.empty());
        if (k.feature) features.insert(k.name);
        if (k.per_queue) CHECK(k.writer == key::Writer::frontend);
    }
    std::set<std::string_view> offload_features;
    for (auto [name, member] : offload::kFeatureKeys)
        offload_features.insert(name);
    CHECK(features == offload_features);
}

TEST_CASE("netif schema: docs/xenstore-keys.md names every key") {
    auto path = std::filesystem::path(__FILE__).parent_path() / "../../docs/xenstore-keys.md";
    std::ifstream in(path);
    REQUIRE(in);
    std::stringstream s;
    s << in.rdbuf();
    const std::string doc = s.str();
    for (const auto& k : key::kSchema) {
        CAPTURE(k.name);
        CHECK(doc.find("`" + std::string(k.name)) != std::string::npos);
    }
}

TEST_CASE("queue keys: what one end writes the other reads, flat and per queue") {
    xt::SimDaemon sim;
    XenStore xs = open(sim);
    const std::vector<netif::QueueKeys> q = {{8, 9, 10, 11}, {12, 13, 14, 15}};
    for (bool split : {false, true}) {
        for (unsigned n : {1u, 2u}) {
            CAPTURE(split);
            CAPTURE(n);
            (void)xs.rm(kDir);  // the previous round's keys, if any
            REQUIRE(write_all(xs, n, q, split));
            for (unsigned i = 0; i < n; ++i) {
                auto got = netif::read_queue_keys(xs, kDir, n, i);
                REQUIRE(got);
                netif::QueueKeys want = q[i];
                if (!split) want.rx_port = want.tx_port;
                CHECK(*got == want);
            }
            auto flat = xs.try_read(kDir + "/tx-ring-ref");
            REQUIRE(flat);
            CHECK(flat->has_value() == (n == 1));
        }
    }
    CHECK(netif::queue_dir(kDir, 1, 0) == kDir);
    CHECK(netif::queue_dir(kDir, 4, 3) == kDir + "/queue-3");
}

TEST_CASE("queue keys: a missing, malformed or doubled key is an error naming it") {
    xt::SimDaemon sim;
    XenStore xs = open(sim);
    REQUIRE(write_all(xs, 1, {{8, 9, 10, 11}}, true));
    REQUIRE(xs.write(kDir + "/event-channel-rx", "10"));
    auto same = netif::read_queue_keys(xs, kDir, 1, 0);
    REQUIRE_FALSE(same);
    CHECK(same.error().message().find("the same port") != std::string::npos);

    REQUIRE(xs.write(kDir + "/rx-ring-ref", "9x"));
    auto bad = netif::read_queue_keys(xs, kDir, 1, 0);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message().find(kDir + "/rx-ring-ref: '9x'") != std::string::npos);

    REQUIRE(xs.rm(kDir + "/tx-ring-ref"));
    auto missing = netif::read_queue_keys(xs, kDir, 1, 0);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message().find(kDir + "/tx-ring-ref: missing") != std::string::npos);
}

TEST_CASE("queue keys: the layout a reconnecting frontend removes, and the MTU") {
    for (const char* k : {"tx-ring-ref", "rx-ring-ref", "event-channel", "event-channel-tx",
                          "event-channel-rx", "queue-0", "queue-12", "multi-queue-num-queues"})
        CHECK(netif::is_queue_key(k));
    for (const char* k : {"state", "mac", "feature-sg", "request-rx-copy", "offload", "backend"})
        CHECK_FALSE(netif::is_queue_key(k));

    xt::SimDaemon sim;
    XenStore xs = open(sim);
    REQUIRE(xs.write(kDir + "/state", "1"));
    auto absent = netif::read_mtu(xs, kDir);
    REQUIRE(absent);
    CHECK_FALSE(absent->has_value());
    for (auto [value, want] : {std::pair{"9000", 9000u}, {"68", 68u}, {"65535", 65535u}}) {
        REQUIRE(xs.write(kDir + "/mtu", value));
        auto m = netif::read_mtu(xs, kDir);
        REQUIRE(m);
        CHECK(**m == want);
    }
    for (const char* value : {"67", "65536", "1500 ", "", "jumbo"}) {
        CAPTURE(value);
        REQUIRE(xs.write(kDir + "/mtu", value));
        auto m = netif::read_mtu(xs, kDir);
        REQUIRE_FALSE(m);
        CHECK(m.error().message().find(kDir + "/mtu") != std::string::npos);
    }
}
