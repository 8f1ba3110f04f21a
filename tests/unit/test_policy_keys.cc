// The offload policy keys in xenstore (netif/policy_keys.h), read from a
// private xnet-sim's store: profiles, overrides, and bad values that are
// rejected by name while the previous setting stays.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "netif/policy_keys.h"
#include "sim_fixture.h"

using namespace xnet;
using offload::Policy;

namespace {

const std::string kDir = "/local/domain/0/backend/vif/3/0";

XenStore open(xt::SimDaemon& sim) {
    auto xs = sim.platform(0)->open_store();
    REQUIRE(xs);
    return std::move(*xs);
}

struct Store {
    xt::SimDaemon sim;
    XenStore xs = open(sim);
    void set(const std::string& key, const std::string& value) {
        REQUIRE(xs.write(kDir + "/offload/" + key, value));
    }
    offload::KeyedPolicy read(const Policy& previous, const Policy& fallback = offload::safe()) {
        return offload::read_policy_keys(xs, kDir, fallback, previous);
    }
};

}  // namespace

TEST_CASE("policy keys: nothing written is the daemon's default; a profile; overrides") {
    Store s;
    REQUIRE(s.xs.write(kDir + "/state", "1"));
    auto none = s.read(offload::offload(), offload::safe());
    CHECK(none.errors.empty());
    CHECK(none.policy == offload::safe());
    CHECK(s.read(offload::safe(), offload::offload()).policy == offload::offload());

    s.set("profile", "offload");
    CHECK(s.read(offload::safe()).policy == offload::offload());
    s.set("rx-checksum", "off");
    s.set("tcp-segmentation-offload", "off");
    auto p = s.read(offload::safe());
    CHECK(p.errors.empty());
    Policy want = offload::offload();
    REQUIRE(offload::set(want, "rx-checksum", "off"));
    REQUIRE(offload::set(want, "tcp-segmentation-offload", "off"));
    CHECK(p.policy == want);

    s.set("profile", "safe");
    s.set("tx-checksum", "on");
    want = offload::safe();
    REQUIRE(offload::set(want, "tx-checksum", "on"));
    REQUIRE(offload::set(want, "tcp-segmentation-offload", "off"));
    CHECK(s.read(offload::offload()).policy == want);
}

TEST_CASE("policy keys: a bad value is rejected by name and the setting keeps its value") {
    Store s;
    Policy previous = offload::offload();
    previous.sg = false;
    for (const std::string& bad : std::vector<std::string>{
             "maybe", "", "ON", std::string(4000, 'x'), std::string("o\x01n", 3)}) {
        CAPTURE(bad.size());
        s.set("rx-checksum", bad);
        s.set("scatter-gather", "on");
        auto p = s.read(previous);
        REQUIRE(p.errors.size() == 1);
        auto msg = p.errors[0].message();
        CHECK(msg.find(kDir + "/offload/rx-checksum") != std::string::npos);
        CHECK(msg.find("is not on or off") != std::string::npos);
        CHECK(msg.size() < 300);  // ~4 KiB of junk (all one message holds) is not echoed whole
        CHECK(msg.find('\x01') == std::string::npos);
        CHECK(p.policy.rx_checksum() == previous.rx_checksum());  // kept
        CHECK(p.policy.sg);                                       // the good key applies
    }
    s.set("rx-checksum", "off");
    s.set("profile", "fast");
    auto p = s.read(previous);
    REQUIRE(p.errors.size() == 1);
    CHECK(p.errors[0].message().find("offload/profile: 'fast'") != std::string::npos);
    CHECK(p.policy.tx_checksum() == previous.tx_checksum());
    CHECK_FALSE(p.policy.rx_checksum().any());
}

TEST_CASE("policy keys: a key removed goes back to the profile; an unlistable directory is named") {
    Store s;
    s.set("profile", "offload");
    s.set("rx-checksum", "off");
    CHECK_FALSE(s.read(offload::safe()).policy.rx_checksum().any());
    REQUIRE(s.xs.rm(kDir + "/offload/rx-checksum"));
    CHECK(s.read(offload::safe()).policy == offload::offload());
    REQUIRE(s.xs.rm(kDir + "/offload"));
    CHECK(s.read(offload::offload(), offload::safe()).policy == offload::safe());

    // A reader that may not list offload/ (here: another guest) is not
    // taken for one that found no keys: each read fails by name, and the
    // previous settings stay.
    s.set("profile", "safe");
    s.sim.create_domain(7);
    auto platform = s.sim.platform(7);
    auto guest = platform->open_store();
    REQUIRE(guest);
    Policy previous = offload::offload();
    auto p = offload::read_policy_keys(*guest, kDir, offload::safe(), previous);
    REQUIRE_FALSE(p.errors.empty());
    CHECK(p.errors[0].message().find(kDir + "/offload/profile") != std::string::npos);
    CHECK(p.policy == previous);
}

TEST_CASE("policy keys: a narrower key overrides its group, whatever order they were written in") {
    using offload::Proto;
    Store s;
    s.set("profile", "offload");
    s.set("tx-checksum-udpv4", "off");
    s.set("tx-checksum", "on");  // written later, read first: the group
    s.set("rx-checksum-ipv6", "off");
    s.set("rx-checksum-tcpv6", "on");
    s.set("tx-tcp6-segmentation", "off");
    auto p = s.read(offload::safe());
    CHECK(p.errors.empty());
    CHECK(p.policy.tx_checksum() == offload::Protos{Proto::tcpv4, Proto::tcpv6, Proto::udpv6});
    CHECK(p.policy.rx_checksum() == offload::Protos{Proto::tcpv4, Proto::udpv4, Proto::tcpv6});
    CHECK(p.policy.tso4);
    CHECK_FALSE(p.policy.tso6);
}

TEST_CASE("policy keys: writing a group removes the keys of its parts, and only those") {
    Store s;
    s.set("tx-checksum-udpv4", "off");
    s.set("tx-checksum-ipv6", "off");
    s.set("rx-checksum-tcpv4", "off");
    const auto* tx = offload::find_setting("tx-checksum");
    REQUIRE(tx);
    REQUIRE(s.xs.transact(
        [&](XenStore::Tx t) { return offload::write_setting(s.xs, kDir, *tx, "on", t); }));
    auto listed = s.xs.directory(kDir + "/offload");
    REQUIRE(listed);
    std::sort(listed->begin(), listed->end());
    CHECK(*listed == std::vector<std::string>{"rx-checksum-tcpv4", "tx-checksum"});
    auto p = s.read(offload::safe());
    CHECK(p.policy.tx_checksum().all());
    CHECK(p.policy.rx_checksum() == offload::Protos{});  // safe's, and tcpv4 off
    // A part written alone leaves the group's key.
    const auto* udp4 = offload::find_setting("tx-checksum-udpv4");
    REQUIRE(udp4);
    REQUIRE(s.xs.transact(
        [&](XenStore::Tx t) { return offload::write_setting(s.xs, kDir, *udp4, "off", t); }));
    CHECK(s.read(offload::safe()).policy.tx_checksum() ==
          offload::Protos{offload::Proto::tcpv4, offload::Proto::tcpv6, offload::Proto::udpv6});
}
