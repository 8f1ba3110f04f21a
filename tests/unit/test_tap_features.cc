// The TAP's features against an end's policy (device/tap_features.h):
// what ethtool -k shows for a policy, which settings an ethtool -K makes,
// which are refused and why, and the sync that puts refused ones back
// and never mistakes its own writes for a user's.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "device/tap_features.h"
#include "fake_link.h"

using namespace xnet;
using offload::Request;

namespace {

offload::Policy with(offload::Policy p, std::string_view key, std::string_view value) {
    REQUIRE(offload::set(p, key, value));
    return p;
}

TapOffload shown_toward(const offload::Policy& p, const offload::Features& peer) {
    return offload::shown(p, offload::tx_rules(p, peer));
}

const offload::Setting& setting(std::string_view name) {
    const auto* s = offload::find_setting(name);
    REQUIRE(s);
    return *s;
}

}  // namespace

TEST_CASE("tap features: the TAP shows what goes on the ring") {
    const auto& all = offload::kEveryFeature;
    CHECK(shown_toward(offload::safe(), all) == TapOffload{.sg = true});
    CHECK(shown_toward(offload::offload(), all) ==
          TapOffload{.csum = true, .tso4 = true, .tso6 = true, .sg = true});
    // One protocol on is enough for the TAP to hand partials (xnet
    // completes the others); TSO per version follows its TCP checksum.
    auto p = with(offload::safe(), "tx-checksum-tcpv6", "on");
    CHECK(shown_toward(p, all) == TapOffload{.csum = true, .tso6 = true, .sg = true});
    // A peer that takes no IPv4 partials: IPv4 TSO cannot show.
    auto v6only = all;
    v6only.no_csum = true;
    CHECK(shown_toward(offload::offload(), v6only) ==
          TapOffload{.csum = true, .tso6 = true, .sg = true});
    // scatter-gather off: no TSO either.
    CHECK(shown_toward(with(offload::offload(), "scatter-gather", "off"), all) ==
          TapOffload{.csum = true, .sg = false});
}

TEST_CASE("tap features: our own writes are no requests; a user's change is") {
    TapOffload applied{.csum = true, .tso4 = true, .tso6 = true, .sg = true};
    CHECK(offload::requests(applied, applied).empty());
    auto wanted = applied;
    wanted.csum = false;
    CHECK(offload::requests(applied, wanted) ==
          std::vector{Request{&setting("tx-checksum"), false}});
    // ethtool -K tso off changes both TSO bits: written as the group.
    wanted = applied;
    wanted.tso4 = wanted.tso6 = false;
    CHECK(offload::requests(applied, wanted) ==
          std::vector{Request{&setting("tcp-segmentation-offload"), false}});
    // One of them alone stays itself.
    wanted = applied;
    wanted.tso6 = false;
    CHECK(offload::requests(applied, wanted) ==
          std::vector{Request{&setting("tx-tcp6-segmentation"), false}});
    wanted = applied;
    wanted.sg = false;
    CHECK(offload::requests(applied, wanted) ==
          std::vector{Request{&setting("scatter-gather"), false}});
}

TEST_CASE("tap features: what cannot show is refused, with why") {
    const auto& all = offload::kEveryFeature;
    auto tx_off = with(offload::offload(), "tx-checksum", "off");
    // tso on while tx is off.
    auto v = offload::judge(tx_off, all, "frontend", {{&setting("tso"), true}});
    CHECK(v.accepted.empty());
    REQUIRE(v.refused.size() == 1);
    CHECK(v.refused[0].second.find("needs tx-checksumming on") != std::string::npos);
    // tx and tso on together: both taken.
    v = offload::judge(tx_off, all, "frontend", {{&setting("tx"), true}, {&setting("tso"), true}});
    CHECK(v.refused.empty());
    CHECK(v.accepted.size() == 2);
    // A peer without feature-gso-tcpv4: named.
    auto no_gso = all;
    no_gso.gso4 = false;
    auto tso4_off = with(offload::offload(), "tx-tcp-segmentation", "off");
    v = offload::judge(tso4_off, no_gso, "backend", {{&setting("tso4"), true}});
    REQUIRE(v.refused.size() == 1);
    CHECK(v.refused[0].second == "the backend does not advertise feature-gso-tcpv4");
    // A peer that takes no partials at all: tx on is refused.
    auto none = all;
    none.no_csum = true;
    none.ipv6_csum = false;
    v = offload::judge(offload::safe(), none, "frontend", {{&setting("tx"), true}});
    REQUIRE(v.refused.size() == 1);
    CHECK(v.refused[0].second.find("takes no partial checksums") != std::string::npos);
    // Off always shows.
    v = offload::judge(offload::offload(), none, "frontend",
                       {{&setting("sg"), false}, {&setting("tx"), false}});
    CHECK(v.refused.empty());
    CHECK(v.accepted.size() == 2);
}

TEST_CASE("tap features: the sync writes what it takes and puts back the rest") {
    xt::FakeLink link("eth0");
    offload::TapSync sync("eth0", "backend");
    auto p = offload::offload();
    const auto& all = offload::kEveryFeature;
    std::vector<Request> written;
    auto write = [&](const std::vector<Request>& r) -> Status {
        written.insert(written.end(), r.begin(), r.end());
        return {};
    };
    REQUIRE(sync.apply(link, p, &all));
    const auto full = link.offload;
    CHECK(full == TapOffload{.csum = true, .tso4 = true, .tso6 = true, .sg = true});

    // Our own write: nothing to do.
    sync.on_changed(link, p, &all, write);
    CHECK(written.empty());

    // The user turns tx off: written, the TAP left as the user set it
    // until the policy change comes back.
    link.wanted.csum = false;
    sync.on_changed(link, p, &all, write);
    REQUIRE(written.size() == 1);
    CHECK(written[0] == Request{&setting("tx-checksum"), false});
    CHECK(link.offload == full);  // not touched by the sync

    // The policy change comes back: the TAP set to it.
    p = with(p, "tx-checksum", "off");
    REQUIRE(sync.apply(link, p, &all));
    CHECK(link.offload == TapOffload{.sg = true});

    // tso on while tx is off: refused, put back, nothing written.
    written.clear();
    link.wanted.tso4 = link.wanted.tso6 = true;
    sync.on_changed(link, p, &all, write);
    CHECK(written.empty());
    CHECK(link.wanted == TapOffload{.sg = true});
}

TEST_CASE("tap features: docs/ethtool.md has a row for every setting") {
    auto path = std::filesystem::path(__FILE__).parent_path() / "../../docs/ethtool.md";
    std::ifstream in(path);
    REQUIRE_MESSAGE(in, "cannot read ", path.string());
    std::stringstream doc;
    doc << in.rdbuf();
    for (const auto& s : offload::kSettings) {
        CAPTURE(s.key);
        auto row = doc.str().find("| `" + std::string(s.key) + "` |");
        REQUIRE(row != std::string::npos);
        auto line = doc.str().substr(row, doc.str().find('\n', row) - row);
        // The xnetctl word, and the TAP's feature where it has one.
        std::string word(s.alias.empty() ? s.key : s.alias);
        CHECK(line.find("`" + word + "`") != std::string::npos);
        if (!s.ethtool.empty()) CHECK(line.find(std::string(s.ethtool)) != std::string::npos);
    }
}
