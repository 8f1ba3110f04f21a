// xnetfront: the guest half of one vif (device/vif/N); see docs/datapath.md.
#include <fmt/format.h>

#include "device/daemon.h"
#include "device/ethtool.h"
#include "runtime/control.h"
#include "runtime/log.h"
#include "xenbus.h"

using namespace xnet;

namespace {

const char* const kUsage =
    "usage: xnetfront --devid N [options]\n"
    "Gives this guest the network of vif N (device/vif/N in xenstore) through a TAP.\n";

constexpr cli::OptionHelp kOptions[] = {
    {"--devid N", "the vif's device id (required)"},
    {"--ifname NAME", "the TAP's name (default: eth0)"},
    {"--queues N", "queues to ask for (default: 1; the backend bounds it)"},
};

int run(int argc, char** argv) {
    Daemon d("xnetfront", kUsage, kOptions, "xnetfront-N.sock");
    netfront::Options opts;
    bool have_devid = false;
    auto own = [&](std::string_view key, cli::Args& a) -> Result<bool> {
        if (key != "--devid" && key != "--ifname" && key != "--queues") return false;
        XNET_TRY_ASSIGN(auto v, a.value(key));
        if (key == "--devid") {
            auto n = netif::parse_number(v, 0xffff);
            if (!n) return fail(0, "--devid: '" + v + "' is not a device id");
            opts.devid = unsigned(*n);
            have_devid = true;
        } else if (key == "--ifname") {
            if (v.empty() || v.size() > 15) return fail(0, "--ifname: bad interface name");
            opts.ifname = v;
        } else {
            auto n = netif::parse_number(v, 64);
            if (!n || *n == 0) return fail(0, "--queues: '" + v + "' is not in 1..64");
            opts.queues = unsigned(*n);
        }
        return true;
    };
    if (auto exit = d.parse(argc, argv, own)) return *exit;
    if (!have_devid) return d.usage_error("--devid is required");
    opts.policy = d.common().policy;
    opts.busy_poll = d.common().busy_poll;
    log::set_program(fmt::format("xnetfront[{}]", opts.ifname));

    if (auto st = d.open(); !st) return d.fatal(st.error());
    auto gs = d.platform().open_gntshr();
    if (!gs) return d.fatal(gs.error());
    auto monitor = ethtool::Monitor::open(d.loop());
    if (monitor) {
        opts.ethtool = monitor->get();
    } else {
        log::warn("ethtool -K on {} will not change its policy: {}", opts.ifname,
                  monitor.error().message());
    }
    netfront::Frontend front(d.loop(), d.platform(), d.xs(), **gs, opts);
    const std::string control = d.control(frontend_control_path(d.platform(), opts.devid));
    auto handler = [&](std::string_view r) -> std::string {
        if (r == "list" || r == "stats" || r == "stats " + front.name()) {
            return r == "list" ? control_list({front.json()}) : front.json();
        }
        return control_error(fmt::format("unknown request: {}", r.substr(0, 32)));
    };
    return d.serve(
        control, handler, [&] { return front.start(); }, "stopping");
}

}  // namespace

int main(int argc, char** argv) {
    return xnet::cli::guarded_main("xnetfront", [&] { return run(argc, argv); });
}
