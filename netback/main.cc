// xnetback: the dom0 half. Serves every vif of every guest found under
// backend/vif in xenstore; see docs/datapath.md.
#include <thread>

#include <fmt/format.h>

#include "backend.h"
#include "device/daemon.h"
#include "device/ethtool.h"
#include "runtime/log.h"

using namespace xnet;

namespace {

const char* const kUsage =
    "usage: xnetback [options]\n"
    "Serves the backend half of every vif under backend/vif in xenstore: a TAP\n"
    "vif<domid>.<devid> per vif, the netif rings, grant copy, event channels.\n";

constexpr cli::OptionHelp kOptions[] = {
    {"--max-queues N", "queues a frontend may ask for (default: cores)"},
    {"--threads N",
     "worker threads for the vifs' queues, each vif on one\n"
     "(default: cores; 0: all on the control thread)"},
};

int run(int argc, char** argv) {
    Daemon d("xnetback", kUsage, kOptions, "xnetback.sock");
    netback::Options opts;
    opts.max_queues = std::max(1u, std::thread::hardware_concurrency());
    opts.threads = opts.max_queues;
    auto own = [&](std::string_view key, cli::Args& a) -> Result<bool> {
        if (key != "--max-queues" && key != "--threads") return false;
        XNET_TRY_ASSIGN(auto v, a.value(key));
        auto n = netif::parse_number(v, 64);
        if (key == "--threads") {
            if (!n) return fail(0, "--threads: '" + v + "' is not in 0..64");
            opts.threads = unsigned(*n);
            return true;
        }
        if (!n || *n == 0) return fail(0, "--max-queues: '" + v + "' is not in 1..64");
        opts.max_queues = unsigned(*n);
        return true;
    };
    if (auto exit = d.parse(argc, argv, own)) return *exit;
    opts.policy = d.common().policy;
    opts.busy_poll = d.common().busy_poll;
    opts.stall_report = d.common().stall_report;
    log::set_program("xnetback");

    if (auto st = d.open(); !st) return d.fatal(st.error());
    auto gt = d.platform().open_gnttab();
    if (!gt) return d.fatal(gt.error());
    netback::Services services{d.loop(), d.platform(), d.xs(), **gt, opts};
    auto monitor = ethtool::Monitor::open(d.loop());
    if (monitor) {
        services.ethtool = monitor->get();
    } else {
        log::warn("ethtool -K on the vifs will not change their policy: {}",
                  monitor.error().message());
    }
    netback::Backend backend(services);
    const std::string control = d.control(backend_control_path(d.platform()));
    auto start = [&]() -> Status {
        XNET_TRY(backend.start());
        log::info(
            "serving vifs ({} platform, up to {} queues, {} worker thread{}, policy {}), control "
            "socket {}",
            platform_name(d.kind()), opts.max_queues, opts.threads, opts.threads == 1 ? "" : "s",
            offload::describe(opts.policy), control);
        return {};
    };
    return d.serve(
        control, [&](std::string_view r) { return backend.control(r); }, start,
        "stopping (TAPs stay for the next run)");
}

}  // namespace

int main(int argc, char** argv) {
    return xnet::cli::guarded_main("xnetback", [&] { return run(argc, argv); });
}
