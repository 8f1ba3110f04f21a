// xnetctl: ethtool-like control of xnet's offload settings and counters.
// Settings are xenstore keys (<dir>/offload/, docs/xenstore-keys.md) that
// the daemons watch; counters and the policy in force come from the
// daemons' control sockets. Exit statuses: ctl/args.h.
#include <fmt/format.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "device/daemon.h"
#include "device/options.h"
#include "end.h"
#include "flat_json.h"
#include "netif/credit.h"
#include "netif/netif.h"
#include "netif/netif_keys.h"
#include "netif/policy_keys.h"
#include "runtime/control.h"

using namespace xnet;
using namespace xnet::ctl;

namespace {

int failed(const Failure& f) {
    fmt::print(stderr, "xnetctl: {}\n", f.message);
    return f.exit;
}

// The offload features the other end advertises, from the netif schema.
std::vector<std::string> peer_keys() {
    std::vector<std::string> out;
    for (const auto& k : netif::key::kSchema) {
        if (k.feature) out.emplace_back(k.name);
    }
    return out;
}

// A daemon's reply: printed as it is with --json, else as "path: value"
// lines; an {"error":...} reply is exit status 1.
int print_reply(const std::string& reply, bool json) {
    auto f = flatten(reply);
    if (!f) return failed({kFailure, f.error().message()});
    std::string err = lookup(*f, "error");
    if (!err.empty()) {
        fmt::print(stderr, "xnetctl: the daemon says: {}\n", err);
        return kDaemonError;
    }
    if (json) {
        fmt::print("{}\n", reply);
        return kOk;
    }
    for (auto& [k, v] : *f)
        fmt::print("{}: {}\n", k, v);
    return kOk;
}

// list's RATE column: "10M" for 10 Mbit/s, "-" for none (or a frontend).
std::string short_rate(const std::string& bits_per_second) {
    auto bps = netif::parse_number(bits_per_second, UINT64_MAX);
    if (!bps || *bps == 0) return "-";
    if (*bps >= 1000000000) return fmt::format("{:g}G", double(*bps) / 1e9);
    if (*bps >= 1000000) return fmt::format("{:g}M", double(*bps) / 1e6);
    return fmt::format("{:g}k", double(*bps) / 1e3);
}

// The vifs of the daemon on --control, else of this domain's xnetback,
// else of this guest's xnetfronts.
int list(const Command& c, const Platform& p) {
    std::vector<std::string> replies;
    if (!c.control.empty()) {
        auto r = ask(c.control, "list");
        if (!r) return failed(r.error());
        replies.push_back(*r);
    } else if (auto r = control_request(backend_control_path(p), "list")) {
        replies.push_back(*r);
    } else if (auto xs = p.open_store()) {
        auto base = fmt::format("/local/domain/{}/device/vif", p.self());
        if (auto kids = xs->directory(base)) {
            for (auto& k : *kids) {
                auto n = netif::parse_number(k, 0xffff);
                if (!n) continue;
                if (auto f = control_request(frontend_control_path(p, unsigned(*n)), "list"))
                    replies.push_back(*f);
            }
        }
    }
    if (replies.empty()) {
        return failed({kNotRunning,
                       "neither xnetback nor an xnetfront answers here (is the "
                       "daemon running?)"});
    }
    // One {"vifs":[...]} from all the replies.
    std::vector<std::string> all;
    for (auto& r : replies) {
        auto items = array_items(r, "vifs");
        if (!items) return failed({kFailure, items.error().message()});
        all.insert(all.end(), items->begin(), items->end());
    }
    std::string reply = control_list(all);
    auto f = flatten(reply);
    if (!f) return failed({kFailure, f.error().message()});
    if (c.json) {
        fmt::print("{}\n", reply);
        return kOk;
    }
    std::string head = fmt::format("{:<10} {:<8} {:<13} {:>6} ", "IF", "END", "STATE", "QUEUES");
    for (const auto& s : offload::kSettings) {
        if (!s.column.empty()) head += fmt::format(" {:<5}", s.column);
    }
    fmt::print("{} RATE\n", head);
    for (unsigned i = 0;; ++i) {
        std::string at = fmt::format("vifs.{}.", i);
        std::string name = lookup(*f, at + "name");
        if (name.empty()) break;
        std::string row = fmt::format("{:<10} {:<8} {:<13} {:>6} ", name, lookup(*f, at + "end"),
                                      lookup(*f, at + "state"), lookup(*f, at + "queues"));
        for (const auto& s : offload::kSettings) {
            if (s.column.empty()) continue;
            row += fmt::format(" {:<5}", lookup(*f, at + "policy." + std::string(s.key)));
        }
        fmt::print("{} {}\n", row, short_rate(lookup(*f, at + "rate.bits_per_second")));
    }
    return kOk;
}

// The rate key is the backend's (libxl's), whichever end is asked about.
std::string rate_path(const End& e) {
    const std::string& be = e.backend ? e.dir : e.peer_dir;
    return be.empty() ? std::string() : be + "/" + std::string(netif::key::rate);
}

// -k's rate line: the guest's transmit limit, as the backend applies it.
std::string rate_line(const std::optional<std::string>& key) {
    if (!key) return "rate (guest transmit): unlimited";
    auto r = netif::parse_rate_key(*key);
    if (!r) return fmt::format("rate (guest transmit): unlimited: {}", r.error().message());
    return fmt::format("rate (guest transmit): {} [set]", netif::describe(*r));
}

// xnetctl show --json: the settings, which of them a key sets, and with
// --peer what the other end advertises.
template <class Key>
std::string show_json(const Command& c, const End& e, const Key& key, const offload::Policy& policy,
                      const std::string& source) {
    JsonWriter w;
    w.begin_object();
    w.field("interface", e.name).field("end", e.backend ? "backend" : "frontend");
    w.field("dir", e.dir).field("profile", key(e.dir + "/offload/profile"));
    w.field("rate", key(rate_path(e)));
    w.key("settings").raw(offload::json(policy));
    w.key("explicit").begin_array();
    for (const auto& s : offload::kSettings) {
        if (key(e.dir + "/offload/" + std::string(s.key))) w.value(s.key);
    }
    w.end_array();
    w.field("source", source);
    if (c.peer) {
        w.key("peer").begin_object();
        w.field("end", e.backend ? "frontend" : "backend").field("dir", e.peer_dir);
        w.key("keys").begin_object();
        for (const auto& k : peer_keys())
            w.field(k, key(e.peer_dir + "/" + k));
        w.end_object().end_object();
    }
    w.end_object();
    return w.take();
}

// What ethtool -k on the end's interface shows of these, and what not.
std::string ethtool_note(const End& e) {
    std::string shown, not_shown;
    for (const auto& s : offload::kSettings) {
        if (offload::depth(s) != 0) continue;
        bool on_tap = !s.ethtool.empty();
        for (const auto& part : offload::kSettings)
            on_tap = on_tap || (offload::narrower(part, s) && !part.ethtool.empty());
        auto& to = on_tap ? shown : not_shown;
        to += fmt::format("{}{}", to.empty() ? "" : ", ", s.key);
    }
    return fmt::format(
        "(ethtool -k {} shows the effective {}, and ethtool -K on it sets them;\n"
        " a TAP cannot show {} nor the per-protocol parts of tx-checksum:\n"
        " xnetctl -k/-K are the way to them)\n",
        e.name, shown, not_shown);
}

int show(const Command& c, const End& e, const XenStore& xs) {
    auto key = [&](const std::string& path) -> std::optional<std::string> {
        auto v = xs.try_read(path);
        return v ? *v : std::nullopt;
    };
    // The policy in force: the daemon's word when it answers, else what
    // the keys make of the built-in default.
    offload::Policy policy = offload::safe();
    std::string source = "keys";
    if (!e.control.empty()) {
        if (auto r = control_request(e.control, e.request)) {
            if (auto f = flatten(*r); f && !lookup(*f, "policy.tx-checksum").empty()) {
                // The single-field settings; the groups follow from them.
                for (const auto& s : offload::kSettings) {
                    if (s.group()) continue;
                    (void)offload::set(policy, s.key, lookup(*f, "policy." + std::string(s.key)));
                }
                source = "daemon";
            }
        }
    }
    if (source == "keys") policy = offload::read_policy_keys(xs, e.dir, policy, policy).policy;
    auto profile = key(e.dir + "/offload/profile");

    const char* end = e.backend ? "backend" : "frontend";
    if (c.json) {
        fmt::print("{}\n", show_json(c, e, key, policy, source));
        return kOk;
    }
    fmt::print("Offload settings of {} ({} end, {}):\n", e.name, end, e.dir);
    fmt::print("profile: {}\n", profile ? *profile : "(none written: the daemon's default)");
    fmt::print("{}\n", rate_line(key(rate_path(e))));
    // As ethtool -k: the parts of a group indented under it.
    for (const auto& s : offload::kSettings) {
        fmt::print("{:{}}{}: {}{}\n", "", 4 * offload::depth(s), s.key,
                   offload::value_name(offload::value(policy, s)),
                   key(e.dir + "/offload/" + std::string(s.key)) ? " [set]" : "");
    }
    fmt::print("{}", ethtool_note(e));
    if (source == "keys") {
        fmt::print("(from the keys: {})\n", e.control.empty()
                                                ? "this end's daemon runs in the guest"
                                                : "the daemon did not answer");
    }
    if (c.peer) {
        fmt::print("Peer ({} end, {}) advertises:\n", e.backend ? "frontend" : "backend",
                   e.peer_dir);
        for (const auto& k : peer_keys()) {
            auto v = key(e.peer_dir + "/" + k);
            fmt::print("{}: {}\n", k, v ? *v : "(absent)");
        }
    }
    return kOk;
}

// -K and profile: the keys, written together.
int write_keys(const End& e, const XenStore& xs,
               const std::vector<std::pair<std::string, std::string>>& kv) {
    auto st = xs.transact([&](XenStore::Tx tx) -> Status {
        for (auto& [k, v] : kv) {
            if (const auto* s = offload::find_setting(k)) {
                XNET_TRY(offload::write_setting(xs, e.dir, *s, v, tx));
            } else {
                XNET_TRY(xs.write(e.dir + "/offload/" + k, v, tx));
            }
        }
        return {};
    });
    if (!st) return failed(store_failure(st.error()));
    return kOk;
}

// rate: the backend's key as libxl writes it, or none for no limit; the
// backend applies it at once.
int write_rate(const End& e, const XenStore& xs, netif::Rate r) {
    auto path = rate_path(e);
    if (path.empty())
        return failed({kFailure, fmt::format("{}: its backend is not known", e.name)});
    auto st = r.limited() ? xs.write(path, netif::rate_key(r)) : xs.rm(path);
    if (!st && !(st.error().code == ENOENT && !r.limited()))
        return failed(store_failure(st.error()));
    return kOk;
}

// policy-keys: "profile safe offload suppress", then "KEY on off" for each
// setting, the lines the hotplug and xenstore scripts read; with --check,
// whether each KEY VALUE pair is one the daemons take.
int policy_keys(const Command& c) {
    if (!c.settings.empty()) {
        int exit = kOk;
        for (const auto& [k, v] : c.settings) {
            if (auto why = check_key(k, v)) {
                fmt::print(stderr, "xnetctl: {}\n", *why);
                exit = kUsage;
            }
        }
        return exit;
    }
    std::string profiles;
    for (const auto& p : offload::kProfiles)
        profiles += " " + std::string(p.name);
    fmt::print("profile{}\n", profiles);
    for (const auto& s : offload::kSettings)
        fmt::print("{} on off\n", s.key);
    return kOk;
}

int run(const Command& c) {
    if (c.verb == Verb::keys) return policy_keys(c);
    auto platform = open_platform(default_platform());
    if (!platform) return failed({kFailure, platform.error().message()});
    if (c.verb == Verb::list) return list(c, **platform);
    auto xs = (*platform)->open_store();
    if (!xs) return failed({kFailure, xs.error().message()});
    auto e = resolve(c, **platform, *xs);
    if (!e) return failed(e.error());
    switch (c.verb) {
        case Verb::show:
            return show(c, *e, *xs);
        case Verb::set:
            return write_keys(*e, *xs, c.settings);
        case Verb::profile:
            return write_keys(*e, *xs, {{"profile", c.profile}});
        case Verb::rate:
            return write_rate(*e, *xs, c.rate);
        case Verb::stats: {
            if (e->control.empty()) {
                return failed({kUsage, fmt::format("the counters of {}'s {} end are read where "
                                                   "its daemon runs",
                                                   e->name, e->backend ? "backend" : "frontend")});
            }
            auto r = ask(e->control, e->request);
            if (!r) return failed(r.error());
            return print_reply(*r, c.json);
        }
        case Verb::list:
        case Verb::keys:
            break;
    }
    return kOk;
}

}  // namespace

int main(int argc, char** argv) {
    return xnet::cli::guarded_main(
        "xnetctl",
        [&] {
            auto p = parse(std::vector<std::string>(argv + 1, argv + argc));
            if (!p.command) {
                if (p.exit != kOk) {
                    fmt::print(stderr, "xnetctl: {}\n(xnetctl --help for usage)\n", p.error);
                }
                return p.exit;
            }
            return run(*p.command);
        },
        kFailure);
}
