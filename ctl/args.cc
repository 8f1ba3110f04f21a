#include "args.h"

#include <fmt/format.h>

#include <string_view>

#include "netif/policy.h"

namespace xnet::ctl {

namespace {

const char* const kHelpTail =
    "IF is vifD.N in dom0 (the backend's end; --frontend: the guest's end) or\n"
    "the interface name (eth0) in a guest.\n"
    "\n"
    "Options:\n"
    "  --frontend      in dom0: act on the guest's end of vifD.N\n"
    "  --backend       act on the backend's end (the default for vifD.N; in a guest,\n"
    "                  the backend's end of IF, which a guest may read, not change)\n"
    "  --peer          with -k: also show the keys the other end advertised\n"
    "  --json          machine-readable output\n"
    "  --control PATH  ask the daemon on this control socket\n"
    "  --help, --version\n"
    "\n"
    "Changes are written to the end's xenstore keys (<dir>/offload/); the\n"
    "daemon applies them at once, reconnecting the vif only when the other\n"
    "end must learn of them.\n"
    "\n"
    "Exit status: 0 done, 1 the daemon reported an error, 2 bad usage (unknown\n"
    "command, feature, value or profile), 3 the daemon is not running, 4 no such\n"
    "interface, 5 permission denied, 6 other failures.\n";

Parsed usage(std::string message) {
    return {std::nullopt, kUsage, std::move(message)};
}

// policy-keys --check KEY VALUE ...: each pair as the daemons would take it.
Parsed parse_checks(const std::vector<std::string>& args, size_t& i, Command& c) {
    while (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) {
        std::string key = args[++i];
        if (i + 1 >= args.size()) return usage(fmt::format("{} needs a value", key.substr(0, 64)));
        std::string value = args[++i];
        c.settings.emplace_back(std::move(key), std::move(value));
    }
    if (c.settings.empty()) return usage("--check needs KEY VALUE");
    return {c, kOk, {}};
}

}  // namespace

std::string help() {
    std::string features;
    for (const auto& s : offload::kSettings) {
        std::string name =
            s.alias.empty() ? std::string(s.key) : fmt::format("{} ({})", s.alias, s.key);
        features += fmt::format("    {:<38} {}\n", name, s.help);
    }
    return fmt::format(
               "usage: xnetctl [OPTIONS] COMMAND\n"
               "\n"
               "Commands:\n"
               "  list                       vifs of the daemon: state, queues, offload settings\n"
               "  -k IF                      offload settings of IF's end (--peer: and what the "
               "other\n"
               "                             end advertised)\n"
               "  -K IF FEATURE on|off ...   change them; FEATURE is one of\n"
               "{}"
               "  profile IF {}\n"
               "                             set the end's profile (the features above override "
               "it)\n"
               "  rate IF RATE[@INTERVAL]|off\n"
               "                             limit what IF's guest transmits, as xl's rate= "
               "(10Mb/s,\n"
               "                             5MB/s@20ms; 50ms if left out): the backend's "
               "rate key\n"
               "  -S IF                      counters of IF, per direction\n"
               "  policy-keys [--check KEY VALUE ...]\n"
               "                             the keys of <dir>/offload/ and the values each "
               "takes,\n"
               "                             a line each (for scripts); --check: exit 0 if every\n"
               "                             pair is one a daemon takes, else 2 saying why\n"
               "\n",
               features, offload::profile_choices()) +
           kHelpTail;
}

std::optional<std::string> feature_key(std::string_view name) {
    const offload::Setting* s = offload::find_setting(name);
    if (!s) return std::nullopt;
    return std::string(s->key);
}

std::optional<std::string> check_key(std::string_view key, std::string_view value) {
    if (key == "profile") {
        if (offload::profile(value)) return std::nullopt;
        // As the daemons word a bad profile key (policy_keys.cc).
        return fmt::format("profile: '{}' is not {}", value.substr(0, 64),
                           offload::profile_names());
    }
    offload::Policy scratch;
    if (auto st = offload::set(scratch, key, value); !st) return st.error().what;
    return std::nullopt;
}

Parsed parse(const std::vector<std::string>& args) {
    Command c;
    bool have_verb = false;
    auto set_verb = [&](Verb v) {
        bool first = !have_verb;
        c.verb = v;
        have_verb = true;
        return first;
    };
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto next = [&]() -> std::optional<std::string> {
            if (i + 1 >= args.size()) return std::nullopt;
            return args[++i];
        };
        if (a == "--help" || a == "-h") {
            fmt::print("{}", help());
            return {};
        }
        if (a == "--version") {
            fmt::print("xnetctl {}\n", XNET_VERSION);
            return {};
        }
        if (a == "--json") {
            c.json = true;
        } else if (a == "--peer") {
            c.peer = true;
        } else if (a == "--frontend") {
            c.end = EndChoice::frontend;
        } else if (a == "--backend") {
            c.end = EndChoice::backend;
        } else if (a == "--control") {
            auto p = next();
            if (!p) return usage("--control needs a socket path");
            c.control = *p;
        } else if (a == "list") {
            if (!set_verb(Verb::list)) return usage("one command at a time");
        } else if (a == "policy-keys") {
            if (!set_verb(Verb::keys)) return usage("one command at a time");
        } else if (a == "--check") {
            if (c.verb != Verb::keys || !have_verb) return usage("--check goes with policy-keys");
            if (auto p = parse_checks(args, i, c); !p.command) return p;
        } else if (a == "-k" || a == "-S" || a == "-K" || a == "profile" || a == "rate") {
            Verb v = a == "-k"        ? Verb::show
                     : a == "-S"      ? Verb::stats
                     : a == "-K"      ? Verb::set
                     : a == "profile" ? Verb::profile
                                      : Verb::rate;
            if (!set_verb(v)) return usage("one command at a time");
            auto ifname = next();
            if (!ifname) return usage(a + " needs an interface");
            c.ifname = *ifname;
            if (v == Verb::profile) {
                auto name = next();
                if (!name) return usage(fmt::format("profile needs {}", offload::profile_names()));
                if (auto p = offload::profile(*name); !p) return usage(p.error().what);
                c.profile = *name;
            }
            if (v == Verb::rate) {
                auto text = next();
                if (!text) return usage("rate needs RATE[@INTERVAL] (as 10Mb/s) or off");
                auto r = netif::parse_xl_rate(*text);
                if (!r) return usage(r.error().message());
                c.rate = *r;
            }
            if (v == Verb::set) {
                // FEATURE VALUE pairs up to the next option.
                while (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) {
                    std::string f = args[++i];
                    auto key = feature_key(f);
                    if (!key) {
                        return usage(fmt::format("unknown feature '{}' (expected {})",
                                                 f.substr(0, 64), offload::setting_names()));
                    }
                    auto value = next();
                    if (!value) return usage(fmt::format("{} needs on or off", f));
                    if (*value != "on" && *value != "off") {
                        return usage(
                            fmt::format("{}: '{}' is not on or off", f, value->substr(0, 64)));
                    }
                    c.settings.emplace_back(*key, *value);
                }
                if (c.settings.empty()) return usage("-K needs FEATURE on|off");
            }
        } else {
            return usage(fmt::format("unknown argument '{}'", a.substr(0, 64)));
        }
    }
    if (!have_verb) return usage("no command (list, -k, -K, profile, rate, -S, policy-keys)");
    if (c.peer && c.verb != Verb::show) return usage("--peer goes with -k");
    return {c, kOk, {}};
}

}  // namespace xnet::ctl
