// The policy table (netif/policy.h) and its users: the daemons' options,
// xnetctl's parser and `policy-keys --check`, the log line and JSON, and
// the pages that document the keys.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "ctl/args.h"
#include "device/options.h"
#include "netif/offload.h"
#include "netif/policy.h"

using namespace xnet;

namespace {

std::string read_doc(const char* name) {
    auto path = std::filesystem::path(__FILE__).parent_path() / "../../docs" / name;
    std::ifstream in(path);
    REQUIRE_MESSAGE(in, "cannot read ", path.string());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The daemons' argument parsing over WORDS, as cli::Args sees argv.
Result<cli::Common> daemon_options(std::vector<std::string> words) {
    std::vector<char*> argv{const_cast<char*>("xnetd")};
    for (auto& w : words)
        argv.push_back(w.data());
    cli::Args a(int(argv.size()), argv.data());
    cli::Common c;
    while (!a.done()) {
        std::string key(a.next());
        auto r = cli::common_option(key, a, c);
        if (!r) return Unexpected{r.error()};
        if (!*r) return fail(EINVAL, "not a common option: " + key);
    }
    return c;
}

}  // namespace

TEST_CASE("policy table: names are unique, and each finds its own row") {
    std::set<std::string_view> names, options, columns;
    for (const auto& s : offload::kSettings) {
        CAPTURE(s.key);
        CHECK(names.insert(s.key).second);
        if (!s.alias.empty()) CHECK(names.insert(s.alias).second);
        CHECK(options.insert(s.option).second);
        if (!s.column.empty()) CHECK(columns.insert(s.column).second);
        CHECK_FALSE(s.fields.empty());
        CHECK(offload::find_setting(s.key) == &s);
        if (!s.alias.empty()) CHECK(offload::find_setting(s.alias) == &s);
        CHECK(s.key != "profile");  // profile is the key of kProfiles
    }
    CHECK(offload::find_setting("profile") == nullptr);
    CHECK(offload::find_setting("") == nullptr);
    CHECK(offload::profile_names() == "safe, offload or suppress");
    CHECK(offload::setting_names().starts_with("tx, tx-checksum-ipv4, tx-checksum-ipv6, "));
    CHECK(offload::setting_names().ends_with(", tso, tso4 or tso6"));
}

TEST_CASE("policy table: groups and their parts") {
    auto s = [](std::string_view name) {
        const auto* r = offload::find_setting(name);
        REQUIRE(r);
        return r;
    };
    CHECK(offload::depth(*s("tx-checksum")) == 0);
    CHECK(offload::depth(*s("tx-checksum-ipv6")) == 1);
    CHECK(offload::depth(*s("tx-checksum-udpv6")) == 2);
    CHECK(offload::depth(*s("tso6")) == 1);
    CHECK(offload::depth(*s("sg")) == 0);
    CHECK(offload::narrower(*s("rx-checksum-tcpv4"), *s("rx-checksum-ipv4")));
    CHECK_FALSE(offload::narrower(*s("rx-checksum-tcpv4"), *s("rx-checksum-ipv6")));
    CHECK_FALSE(offload::narrower(*s("rx-checksum-tcpv4"), *s("tx-checksum")));
    CHECK_FALSE(offload::narrower(*s("tx-checksum"), *s("tx-checksum")));
    // A group comes before its parts: read broadest first, a part overrides.
    for (const auto& outer : offload::kSettings) {
        for (const auto& inner : offload::kSettings) {
            if (offload::narrower(inner, outer)) CHECK(&outer < &inner);
        }
    }
    // Every field is in exactly one of the broadest settings.
    size_t fields = 0;
    for (const auto& r : offload::kSettings)
        fields += offload::depth(r) == 0 ? r.fields.size() : 0;
    CHECK(fields == sizeof(offload::Policy));  // one bool each

    offload::Policy p = offload::safe();
    REQUIRE(offload::set(p, "tx-checksum-udpv6", "on"));
    CHECK(offload::value(p, *s("tx-checksum")) == offload::Value::mixed);
    CHECK(offload::value(p, *s("tx-checksum-ipv4")) == offload::Value::off);
    CHECK(offload::value(p, *s("tx-checksum-udpv6")) == offload::Value::on);
    CHECK(offload::describe(p).starts_with(
        "tx-checksum-tcpv4 off tx-checksum-udpv4 off tx-checksum-tcpv6 off "
        "tx-checksum-udpv6 on rx-checksum off"));
    CHECK(offload::json(p).find("\"tx-checksum\":\"mixed\"") != std::string::npos);
    CHECK(p.tx_checksum() == offload::Protos{offload::Proto::udpv6});
}

TEST_CASE("policy table: set, describe and json cover every setting") {
    for (const auto& s : offload::kSettings) {
        CAPTURE(s.key);
        offload::Policy p = offload::safe();
        REQUIRE(offload::set(p, s.key, "off"));
        CHECK(offload::value(p, s) == offload::Value::off);
        REQUIRE(offload::set(p, s.key, "on"));
        CHECK(offload::value(p, s) == offload::Value::on);
        if (offload::depth(s) == 0) {
            CHECK(offload::describe(p).find(std::string(s.key) + " on") != std::string::npos);
        }
        CHECK(offload::json(p).find("\"" + std::string(s.key) + "\":\"on\"") != std::string::npos);
        if (!s.alias.empty()) {
            // An alias is xnetctl's word; the keys and set() take only the key.
            CHECK_FALSE(offload::set(p, s.alias, "off"));
            CHECK(offload::value(p, s) == offload::Value::on);
        }
    }
    CHECK(offload::json(offload::safe()).front() == '{');
    CHECK(offload::json(offload::safe()).back() == '}');
}

TEST_CASE("policy table: suppress is offload's rules under another name") {
    CHECK(*offload::profile("suppress") == *offload::profile("offload"));
    CHECK_FALSE(*offload::profile("safe") == *offload::profile("offload"));
    auto bad = offload::profile("fast");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().what == "unknown profile 'fast' (expected safe, offload or suppress)");
}

TEST_CASE("policy table: the daemons take one option per setting") {
    for (const auto& s : offload::kSettings) {
        CAPTURE(s.option);
        auto on = daemon_options({"--profile", "safe", std::string(s.option), "on"});
        REQUIRE(on);
        CHECK(offload::value(on->policy, s) == offload::Value::on);
        auto off = daemon_options({"--profile=offload", std::string(s.option) + "=off"});
        REQUIRE(off);
        CHECK(offload::value(off->policy, s) == offload::Value::off);
        auto bad = daemon_options({std::string(s.option), "maybe"});
        REQUIRE_FALSE(bad);
        CHECK(bad.error().message().find("is not on or off") != std::string::npos);
        CHECK(cli::common_help().find(s.option) != std::string::npos);
    }
    CHECK_FALSE(daemon_options({"--profile", "fast"}));
}

TEST_CASE("xnetctl: -K takes every key and alias, policy-keys --check judges as the daemons") {
    for (const auto& s : offload::kSettings) {
        for (auto name : {s.key, s.alias}) {
            if (name.empty()) continue;
            CAPTURE(name);
            auto p = ctl::parse({"-K", "vif1.0", std::string(name), "off"});
            REQUIRE(p.command);
            REQUIRE(p.command->settings.size() == 1);
            CHECK(p.command->settings[0].first == s.key);
            CHECK(ctl::help().find(name) != std::string::npos);
        }
        CHECK_FALSE(ctl::check_key(s.key, "on"));
        CHECK(ctl::check_key(s.key, "maybe") == std::string(s.key) + ": 'maybe' is not on or off");
        CHECK(ctl::check_key(s.alias.empty() ? "nothing" : s.alias, "on"));
    }
    auto unknown = ctl::parse({"-K", "vif1.0", "checksum", "off"});
    CHECK(unknown.exit == ctl::kUsage);
    CHECK(unknown.error ==
          "unknown feature 'checksum' (expected " + offload::setting_names() + ")");
    for (const auto& p : offload::kProfiles)
        CHECK_FALSE(ctl::check_key("profile", p.name));
    CHECK(ctl::check_key("profile", "fast") == "profile: 'fast' is not safe, offload or suppress");

    auto keys = ctl::parse({"policy-keys", "--check", "profile", "offload", "tx-checksum", "on"});
    REQUIRE(keys.command);
    CHECK(keys.command->verb == ctl::Verb::keys);
    CHECK(keys.command->settings.size() == 2);
    CHECK(ctl::parse({"policy-keys", "--check", "profile"}).exit == ctl::kUsage);
    CHECK(ctl::parse({"--check", "profile", "safe"}).exit == ctl::kUsage);
}

TEST_CASE("policy table: the pages that document the keys name every one") {
    const std::string keys = read_doc("xenstore-keys.md");
    const std::string manual = read_doc("xnetctl.1");
    for (const auto& s : offload::kSettings) {
        CAPTURE(s.key);
        CHECK(keys.find("| `" + std::string(s.key) + "` |") != std::string::npos);
        CHECK(manual.find("\\fB" + std::string(s.key) + "\\fR") != std::string::npos);
    }
    for (const auto& p : offload::kProfiles) {
        CAPTURE(p.name);
        CHECK(keys.find("`" + std::string(p.name) + "`") != std::string::npos);
        CHECK(manual.find("\\fB" + std::string(p.name) + "\\fR") != std::string::npos);
    }
}

TEST_CASE("offload policy: profiles and settings") {
    auto safe = offload::profile("safe");
    auto on = offload::profile("offload");
    REQUIRE((safe && on));
    CHECK_FALSE(safe->tx_checksum().any());
    CHECK_FALSE(safe->rx_checksum().any());
    CHECK_FALSE(safe->tx_data_validated);
    CHECK(on->tx_checksum().all());
    CHECK(on->rx_checksum().all());
    CHECK(on->tx_data_validated);
    CHECK((safe->sg && safe->tso4 && safe->tso6 && on->sg && on->tso4 && on->tso6));
    auto bad = offload::profile("fast");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message().find("fast") != std::string::npos);

    // Each key sets its own fields and no other.
    for (const auto& s : offload::kSettings) {
        CAPTURE(s.key);
        for (bool v : {true, false}) {
            offload::Policy p{};
            for (const auto& top : offload::kSettings) {
                if (offload::depth(top) == 0) REQUIRE(offload::set(p, top.key, v ? "off" : "on"));
            }
            REQUIRE(offload::set(p, s.key, v ? "on" : "off"));
            for (const auto& leaf : offload::kSettings) {
                if (leaf.group()) continue;
                bool inside = &leaf == &s || offload::narrower(leaf, s);
                CHECK(offload::value(p, leaf) ==
                      (inside == v ? offload::Value::on : offload::Value::off));
            }
        }
    }
    offload::Policy p = offload::offload();
    for (const char* value : {"maybe", "", "ON", "1"}) {
        CAPTURE(value);
        auto st = offload::set(p, "tx-checksum", value);
        REQUIRE_FALSE(st);
        CHECK(st.error().message().find("tx-checksum") != std::string::npos);
        CHECK(st.error().message().find("'" + std::string(value) + "'") != std::string::npos);
        CHECK(p.tx_checksum().all());
    }
    auto st = offload::set(p, "tx-chksum", "off");
    REQUIRE_FALSE(st);
    CHECK(st.error().message().find("tx-chksum") != std::string::npos);
    CHECK(p.tx_checksum().all());
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
    CHECK((all.csum_blank.all() && all.gso_v4 && all.gso_v6 && all.sg));
    CHECK(all.data_validated);
    // A peer that verifies everything gets complete checksums and no GSO.
    auto to_safe = offload::tx_rules(offload::offload(), safe);
    CHECK_FALSE(to_safe.csum_blank.any());
    CHECK_FALSE(to_safe.gso_v4);
    // A safe sender never puts partials on the ring, whatever the peer takes.
    auto from_safe = offload::tx_rules(offload::safe(), off);
    CHECK_FALSE(from_safe.csum_blank.any());
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
