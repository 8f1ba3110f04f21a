#include "cli.h"

#include <fmt/format.h>

#include <string_view>

#include "xnet/offload.h"

namespace xnet::ctl {

const char* const kHelp =
    "usage: xnetctl [OPTIONS] COMMAND\n"
    "\n"
    "Commands:\n"
    "  list                       vifs of the daemon: state, queues, offload settings\n"
    "  -k IF                      offload settings of IF's end (--peer: and what the other\n"
    "                             end advertised)\n"
    "  -K IF FEATURE on|off ...   change them; FEATURE is tx (tx-checksum), rx (rx-checksum),\n"
    "                             tx-data-validated, sg (scatter-gather) or tso\n"
    "                             (tcp-segmentation-offload)\n"
    "  profile IF safe|offload|suppress\n"
    "                             set the end's profile (the features above override it)\n"
    "  -S IF                      counters of IF, per direction\n"
    "\n"
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

namespace {

// ethtool's short names, and the key names themselves.
std::optional<std::string> feature_key(std::string_view name) {
    static const std::pair<const char*, const char*> names[] = {
        {"tx", "tx-checksum"},
        {"rx", "rx-checksum"},
        {"sg", "scatter-gather"},
        {"tso", "tcp-segmentation-offload"},
        {"tx-checksum", "tx-checksum"},
        {"rx-checksum", "rx-checksum"},
        {"tx-data-validated", "tx-data-validated"},
        {"scatter-gather", "scatter-gather"},
        {"tcp-segmentation-offload", "tcp-segmentation-offload"},
    };
    for (auto [n, key] : names) {
        if (name == n) return std::string(key);
    }
    return std::nullopt;
}

Parsed usage(std::string message) {
    return {std::nullopt, kUsage, std::move(message)};
}

}  // namespace

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
            fmt::print("{}", kHelp);
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
        } else if (a == "-k" || a == "-S" || a == "-K" || a == "profile") {
            Verb v = a == "-k"   ? Verb::show
                     : a == "-S" ? Verb::stats
                     : a == "-K" ? Verb::set
                                 : Verb::profile;
            if (!set_verb(v)) return usage("one command at a time");
            auto ifname = next();
            if (!ifname) return usage(a + " needs an interface");
            c.ifname = *ifname;
            if (v == Verb::profile) {
                auto name = next();
                if (!name) return usage("profile needs safe, offload or suppress");
                if (!offload::profile(*name)) {
                    return usage(
                        fmt::format("unknown profile '{}' (expected safe, offload or "
                                    "suppress)",
                                    name->substr(0, 64)));
                }
                c.profile = *name;
            }
            if (v == Verb::set) {
                // FEATURE VALUE pairs up to the next option.
                while (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) {
                    std::string f = args[++i];
                    auto key = feature_key(f);
                    if (!key) {
                        return usage(
                            fmt::format("unknown feature '{}' (expected tx, rx, "
                                        "tx-data-validated, sg or tso)",
                                        f.substr(0, 64)));
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
    if (!have_verb) return usage("no command (list, -k, -K, profile, -S)");
    if (c.peer && c.verb != Verb::show) return usage("--peer goes with -k");
    return {c, kOk, {}};
}

}  // namespace xnet::ctl
