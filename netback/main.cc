// xnetback: the dom0 half. Serves every vif of every guest found under
// backend/vif in xenstore; see docs/datapath.md.
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include <fmt/format.h>

#include "backend.h"
#include "xnet/cli.h"
#include "xnet/control.h"
#include "xnet/log.h"
#include "xnet/store_watchdog.h"

using namespace xnet;

namespace {

const char* const kUsageHead =
    "usage: xnetback [options]\n"
    "Serves the backend half of every vif under backend/vif in xenstore: a TAP\n"
    "vif<domid>.<devid> per vif, the netif rings, grant copy, event channels.\n"
    "\n"
    "  --max-queues N              queues a frontend may ask for (default: cores)\n"
    "  --control PATH              control socket (default: /run/xnet/xnetback.sock,\n"
    "                              on xnet-sim under the domain's directory)\n";

int usage_error(const std::string& msg) {
    fmt::print(stderr, "xnetback: {}\n", msg);
    fmt::print(stderr, "Try 'xnetback --help'.\n");
    return 2;
}

int run(int argc, char** argv) {
    cli::Args a(argc, argv);
    cli::Common common;
    netback::Options opts;
    opts.max_queues = std::max(1u, std::thread::hardware_concurrency());
    std::string control;
    while (!a.done()) {
        std::string key(a.next());
        if (key == "--help") {
            fmt::print("{}{}  --help, --version\n", kUsageHead, cli::common_help());
            return 0;
        }
        if (key == "--version") {
            fmt::print("xnetback {}\n", XNET_VERSION);
            return 0;
        }
        auto c = cli::common_option(key, a, common);
        if (!c) return usage_error(c.error().message());
        if (*c) continue;
        if (key == "--max-queues") {
            auto v = a.value(key);
            if (!v) return usage_error(v.error().message());
            auto n = netif::parse_number(*v, 64);
            if (!n || *n == 0) return usage_error("--max-queues: '" + *v + "' is not in 1..64");
            opts.max_queues = unsigned(*n);
        } else if (key == "--control") {
            auto v = a.value(key);
            if (!v) return usage_error(v.error().message());
            control = *v;
        } else {
            return usage_error("unknown option '" + key + "'");
        }
    }
    opts.policy = common.policy;
    opts.busy_poll = common.busy_poll;
    log::set_program("xnetback");
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
    auto gt = (*platform)->open_gnttab();
    if (!gt) return fatal(gt.error());
    auto reactor = EpollReactor::create();
    if (!reactor) return fatal(reactor.error());

    auto& loop = **reactor;
    if (auto st = loop.stop_on_signals(); !st) return fatal(st.error());
    loop.report_stalls(kStallReport);

    netback::Services services{loop, **platform, *xs, **gt, opts};
    netback::Backend backend(services);
    if (control.empty()) control = backend_control_path(kind);
    mkdir(control.substr(0, control.rfind('/')).c_str(), 0755);
    auto server = ControlServer::listen(loop, control,
                                        [&](std::string_view r) { return backend.control(r); });
    if (!server) return fatal(server.error());
    auto st = backend.start();
    if (!st) return fatal(st.error());
    log::info(
        "serving vifs ({} platform, up to {} queues, policy tx-checksum {} rx-checksum {} "
        "tx-data-validated {} sg {} tso {}), control socket {}",
        platform_name(kind), opts.max_queues, opts.policy.tx_checksum, opts.policy.rx_checksum,
        opts.policy.tx_data_validated, opts.policy.sg, opts.policy.tso, control);
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
    log::info("stopping (TAPs stay for the next run)");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return xnet::cli::guarded_main("xnetback", [&] { return run(argc, argv); });
}
