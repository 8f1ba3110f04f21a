// xnet-sim: hypervisor services (xenstore, grant tables, event channels) for
// xnet on a machine without Xen. See docs/xnet-sim.md.
#include <cstring>

#include <fmt/format.h>

#include "commands.h"

namespace {

constexpr const char* kUsage = R"(usage: xnet-sim [--dir DIR] COMMAND ...
  start [--foreground]           start the daemon (DIR: --dir, $XNET_SIM_DIR, /run/xnet-sim)
  stop                           destroy every domain, stop the daemon, remove DIR's sockets
  domain create DOMID [--name N] create a domain (and its network namespace xnet-dom<DOMID>)
  domain destroy DOMID           destroy it: processes, grants, channels, xenstore entries
  domain list                    list domains
  env DOMID                      print 'export' lines that make a shell act as DOMID
  exec DOMID -- CMD...           run CMD as DOMID, inside its network namespace
  vif add DOMID [--devid N] [--mac MAC] [--bridge BR] [--script S] [--backend BDOMID]
              [--ip ADDRS] [--checksum PROFILE] [--rate RATE[@INTERVAL]] (xl's rate=)
  vif remove DOMID DEVID         add or remove a vif as libxl does, running its hotplug script
)";

}  // namespace

int main(int argc, char** argv) {
    using namespace xnet::sim::cli;
    Args args(argv + 1, argv + argc);
    // --dir may come anywhere before a "--".
    for (size_t i = 0; i < args.size() && args[i] != "--"; ++i) {
        if (args[i] == "--dir") {
            if (i + 1 >= args.size()) return error("--dir needs a directory");
            setenv("XNET_SIM_DIR", args[i + 1].c_str(), 1);
            args.erase(args.begin() + long(i), args.begin() + long(i) + 2);
            --i;
        }
    }
    if (args.empty() || args[0] == "-h" || args[0] == "--help") {
        fmt::print(args.empty() ? stderr : stdout, "{}", kUsage);
        return args.empty() ? 2 : 0;
    }
    std::string cmd = args[0];
    args.erase(args.begin());
    if (cmd == "start") return cmd_start(args);
    if (cmd == "stop") return cmd_stop(args);
    if (cmd == "domain") return cmd_domain(args);
    if (cmd == "env") return cmd_env(args);
    if (cmd == "exec") return cmd_exec(args);
    if (cmd == "vif") return cmd_vif(args);
    error(fmt::format("unknown command '{}'", cmd));
    fmt::print(stderr, "{}", kUsage);
    return 2;
}
