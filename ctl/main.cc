// xnetctl: the control CLI. This first cut reads what the daemons report
// over their control sockets (`list`, `-S`); the offload settings (-k, -K,
// profile) come with the policy keys.
#include <fmt/format.h>

#include <string>

#include "xnet/control.h"
#include "xnet/netif.h"
#include "xnet/platform/platform.h"

using namespace xnet;

namespace {
const char* const kUsage =
    "usage: xnetctl [--frontend DEVID] list | -S IF [--json]\n"
    "  list          vifs of the daemon with their state\n"
    "  -S IF         counters of IF (vifD.N in dom0, the guest's interface in a guest)\n"
    "  --frontend N  talk to this guest's xnetfront for device N instead of xnetback\n"
    "  --control P   the daemon's control socket\n";
}

int main(int argc, char** argv) {
    std::string control, cmd, ifname;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            fmt::print("{}", kUsage);
            return 0;
        } else if (a == "--version") {
            fmt::print("xnetctl {}\n", XNET_VERSION);
            return 0;
        } else if (a == "--json") {
            // JSON is the only output of this first cut.
        } else if (a == "--frontend" && i + 1 < argc) {
            auto devid = netif::parse_number(argv[++i], 0xffff);
            if (!devid) {
                fmt::print(stderr, "xnetctl: --frontend: '{}' is not a device id\n", argv[i]);
                return 2;
            }
            control = frontend_control_path(default_platform(), unsigned(*devid));
        } else if (a == "--control" && i + 1 < argc) {
            control = argv[++i];
        } else if (a == "list") {
            cmd = "list";
        } else if (a == "-S" && i + 1 < argc) {
            cmd = "stats";
            ifname = argv[++i];
        } else {
            fmt::print(stderr, "xnetctl: unknown argument '{}'\n{}", a, kUsage);
            return 2;
        }
    }
    if (cmd.empty()) {
        fmt::print(stderr, "{}", kUsage);
        return 2;
    }
    if (control.empty()) control = backend_control_path(default_platform());
    auto r = control_request(control, ifname.empty() ? cmd : cmd + " " + ifname);
    if (!r) {
        fmt::print(stderr, "xnetctl: {} (is the daemon running?)\n", r.error().message());
        return 3;
    }
    fmt::print("{}\n", *r);
    return r->rfind("{\"error\"", 0) == 0 ? 1 : 0;
}
