// xnetfront: the guest half of one vif (device/vif/N); see docs/datapath.md.
#include <sys/stat.h>

#include <fmt/format.h>

#include "frontend.h"
#include "xnet/cli.h"
#include "xnet/control.h"
#include "xnet/log.h"
#include "xnet/store_watchdog.h"

using namespace xnet;

namespace {

const char* const kUsageHead =
    "usage: xnetfront --devid N [options]\n"
    "Gives this guest the network of vif N (device/vif/N in xenstore) through a TAP.\n"
    "\n"
    "  --devid N                   the vif's device id (required)\n"
    "  --ifname NAME               the TAP's name (default: eth0)\n"
    "  --queues N                  queues to ask for (default: 1; the backend bounds it)\n"
    "  --control PATH              control socket (default: /run/xnet/xnetfront-N.sock,\n"
    "                              on xnet-sim under the domain's directory)\n";

int usage_error(const std::string& msg) {
    fmt::print(stderr, "xnetfront: {}\nTry 'xnetfront --help'.\n", msg);
    return 2;
}

int run(int argc, char** argv) {
    cli::Args a(argc, argv);
    cli::Common common;
    netfront::Options opts;
    bool have_devid = false;
    std::string control;
    while (!a.done()) {
        std::string key(a.next());
        if (key == "--help") {
            fmt::print("{}{}  --help, --version\n", kUsageHead, cli::common_help());
            return 0;
        }
        if (key == "--version") {
            fmt::print("xnetfront {}\n", XNET_VERSION);
            return 0;
        }
        auto c = cli::common_option(key, a, common);
        if (!c) return usage_error(c.error().message());
        if (*c) continue;
        auto v = a.value(key);
        if (key != "--devid" && key != "--ifname" && key != "--queues" && key != "--control") {
            return usage_error("unknown option '" + key + "'");
        }
        if (!v) return usage_error(v.error().message());
        if (key == "--devid") {
            auto n = netif::parse_number(*v, 0xffff);
            if (!n) return usage_error("--devid: '" + *v + "' is not a device id");
            opts.devid = unsigned(*n);
            have_devid = true;
        } else if (key == "--ifname") {
            if (v->empty() || v->size() > 15) return usage_error("--ifname: bad interface name");
            opts.ifname = *v;
        } else if (key == "--queues") {
            auto n = netif::parse_number(*v, 64);
            if (!n || *n == 0) return usage_error("--queues: '" + *v + "' is not in 1..64");
            opts.queues = unsigned(*n);
        } else {
            control = *v;
        }
    }
    if (!have_devid) return usage_error("--devid is required");
    opts.policy = common.policy;
    opts.busy_poll = common.busy_poll;
    log::set_program(fmt::format("xnetfront[{}]", opts.ifname));
    log::set_verbose(common.verbose);

    PlatformKind kind = common.platform.value_or(default_platform());
    auto fatal = [](const Error& e) {
        log::error("{}", e.message());
        return 1;
    };
    auto platform = open_platform(kind);
    if (!platform) return fatal(platform.error());
    auto xs = (*platform)->open_store();
    if (!xs) return fatal(xs.error());
    auto gs = (*platform)->open_gntshr();
    if (!gs) return fatal(gs.error());
    auto reactor = EpollReactor::create();
    if (!reactor) return fatal(reactor.error());

    auto& loop = **reactor;
    if (auto st = loop.stop_on_signals(); !st) return fatal(st.error());
    loop.report_stalls(kStallReport);

    netfront::Frontend front(loop, **platform, *xs, **gs, opts);
    if (control.empty()) control = frontend_control_path(kind, opts.devid);
    mkdir(control.substr(0, control.rfind('/')).c_str(), 0755);
    auto server = ControlServer::listen(loop, control, [&](std::string_view r) -> std::string {
        if (r == "list" || r == "stats" || r == "stats " + front.name()) {
            return r == "list" ? "{\"vifs\":[" + front.json() + "]}" : front.json();
        }
        return "{\"error\":\"unknown request\"}";
    });
    if (!server) return fatal(server.error());
    auto st = front.start();
    if (!st) return fatal(st.error());
    // A dead xenstored (or xnet-sim) ends the daemon, with a message.
    std::optional<Error> lost;
    StoreWatchdog watchdog(loop, *xs, fmt::format("/local/domain/{}", (*platform)->self()),
                           [&](const Error& e) {
                               lost = e;
                               loop.stop();
                           });
    if (auto w = watchdog.start(); !w) return fatal(w.error());
    st = loop.run();
    if (!st) return fatal(st.error());
    if (lost) return fatal(Error{0, lost->message() + "; exiting"});
    log::info("stopping");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return xnet::cli::guarded_main("xnetfront", [&] { return run(argc, argv); });
}
