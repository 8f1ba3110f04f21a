// start, stop, domain create/destroy/list, env, exec: the daemon's life and
// the toolstack's domain management (libxl__domain_make's xenstore layout).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "commands.h"
#include "daemon.h"
#include "platform/sim/sim_conn.h"
#include "platform/sim/sim_proto.h"

namespace xnet::sim::cli {
namespace {

namespace fs = std::filesystem;
using simproto::Op;
using simproto::Request;

std::string pid_file(const std::string& dir) {
    return dir + "/xnet-sim.pid";
}

// The daemon's pid if it is alive.
std::optional<pid_t> daemon_pid(const std::string& dir) {
    std::ifstream f(pid_file(dir));
    long pid = 0;
    if (!(f >> pid) || pid <= 0) return std::nullopt;
    if (kill(pid_t(pid), 0) != 0 && errno == ESRCH) return std::nullopt;
    return pid_t(pid);
}

Result<simproto::Reply> toolstack_call(const std::string& dir, const Request& req,
                                       const char* what) {
    XNET_TRY_ASSIGN(auto conn, sim_client::SimConn::open(dir, 0));
    return conn.call(req, nullptr, what);
}

// Kills whatever runs in the namespace, then removes it.
void remove_netns(uint32_t dom) {
    std::string ns = netns_name(dom);
    if (!fs::exists("/run/netns/" + ns)) return;
    for (int round = 0; round < 3; ++round)
        (void)run({"sh", "-c", fmt::format("ip netns pids {} | xargs -r kill -9", ns)}, {}, true);
    (void)run({"ip", "netns", "delete", ns}, {}, true);
}

Status make_netns(uint32_t dom) {
    std::string ns = netns_name(dom);
    remove_netns(dom);  // a stale one from a crashed run
    auto r = run({"ip", "netns", "add", ns});
    if (!r || *r != 0) return fail(0, "creating network namespace " + ns);
    (void)run({"ip", "-n", ns, "link", "set", "lo", "up"});
    return {};
}

std::string new_uuid() {
    std::ifstream f("/proc/sys/kernel/random/uuid");
    std::string u;
    f >> u;
    return u;
}

// libxl__domain_make(): the domain's directory readable by it, its
// writable corners, and the toolstack's private /libxl/D.
Status write_domain_entries(const XenStore& xs, uint32_t dom, const std::string& name) {
    std::string dp = fmt::format("/local/domain/{}", dom);
    std::string vm = "/vm/" + new_uuid();
    std::vector<XsPerm> ro{{0, XsPerm::none}, {dom, XsPerm::read}};
    std::vector<XsPerm> rw{{dom, XsPerm::none}};
    std::vector<XsPerm> no{{0, XsPerm::none}};
    return xs.transact([&](XenStore::Tx t) -> Status {
        auto mknod = [&](const std::string& p, const std::vector<XsPerm>& perms) -> Status {
            XNET_TRY(xs.write(p, "", t));
            return xs.set_perms(p, perms, t);
        };
        for (const auto& p : {dp, vm}) {
            if (auto r = xs.rm(p, t); !r && r.error().code != ENOENT) return r;
            XNET_TRY(mknod(p, ro));
        }
        XNET_TRY(mknod(fmt::format("/libxl/{}", dom), no));
        XNET_TRY(mknod(fmt::format("/libxl/{}/device", dom), no));
        for (const char* sub : {"cpu", "memory", "device", "control"}) {
            XNET_TRY(mknod(dp + "/" + sub, ro));
        }
        for (const char* sub : {"control/shutdown", "control/feature-poweroff",
                                "control/feature-reboot", "control/feature-suspend",
                                "control/sysrq", "data", "drivers", "feature", "attr", "error"}) {
            XNET_TRY(mknod(dp + "/" + sub, rw));
        }
        const std::pair<std::string, std::string> keys[] = {
            {dp + "/vm", vm},
            {dp + "/name", name},
            {dp + "/domid", std::to_string(dom)},
            {dp + "/memory/static-max", "65536"},
            {dp + "/memory/target", "65536"},
            {dp + "/control/platform-feature-xs_reset_watches", "1"},
            {vm + "/name", name},
            {vm + "/uuid", vm.substr(4)},
            {fmt::format("/libxl/{}/type", dom), "pv"},
        };
        for (const auto& [k, v] : keys) {
            XNET_TRY(xs.write(k, v, t));
        }
        return {};
    });
}

int domain_create(const std::string& dir, const Args& args) {
    if (args.empty()) return error("usage: xnet-sim domain create DOMID [--name NAME]");
    auto dom = parse_domid(args[0]);
    if (!dom) return error(dom.error().message());
    std::string name = fmt::format("dom{}", *dom);
    for (size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "--name" && i + 1 < args.size()) {
            name = args[++i];
        } else {
            return error(fmt::format("domain create: unexpected '{}'", args[i]));
        }
    }
    if (auto r = require_running(dir); !r) return error(r.error().message());
    if (*dom == 0) return error("domain 0 exists from the start");
    auto rep = toolstack_call(dir, Request{Op::domain_create, *dom}, "creating a domain");
    if (!rep) return error(rep.error().message());
    if (rep->status == -EEXIST) return error(fmt::format("domain {} exists", *dom));
    if (rep->status != 0)
        return error(fmt::format("creating domain {}: {}", *dom, strerror(-rep->status)));
    auto undo = [&](const std::string& msg) {
        (void)toolstack_call(dir, Request{Op::domain_destroy, *dom}, "destroying a domain");
        return error(msg);
    };
    auto xs = toolstack_store(dir);
    if (!xs) return undo(xs.error().message());
    if (auto r = write_domain_entries(*xs, *dom, name); !r) return undo(r.error().message());
    if (auto r = xs->introduce(*dom); !r) return undo(r.error().message());
    if (auto r = make_netns(*dom); !r) return undo(r.error().message());
    fmt::print("domain {} ({}) created; network namespace {}\n", *dom, name, netns_name(*dom));
    return 0;
}

// Removes the toolstack's entries for DOM, including backend directories
// other domains serve for it.
void remove_domain_entries(const XenStore& xs, uint32_t dom) {
    std::string dp = fmt::format("/local/domain/{}", dom);
    auto vm = xs.try_read(dp + "/vm");
    if (vm && *vm && (*vm)->starts_with("/vm/")) (void)xs.rm(**vm);
    (void)xs.rm(dp);
    (void)xs.rm(fmt::format("/libxl/{}", dom));
    auto doms = xs.directory("/local/domain");
    if (!doms) return;
    for (const auto& b : *doms) {
        auto types = xs.directory(fmt::format("/local/domain/{}/backend", b));
        if (!types) continue;
        for (const auto& t : *types)
            (void)xs.rm(fmt::format("/local/domain/{}/backend/{}/{}", b, t, dom));
    }
}

int destroy(const std::string& dir, uint32_t dom) {
    if (dom == 0) return error("domain 0 cannot be destroyed (use 'xnet-sim stop')");
    if (!domain_exists(dir, dom)) return error(fmt::format("unknown domain {}", dom));
    remove_netns(dom);
    auto rep = toolstack_call(dir, Request{Op::domain_destroy, dom}, "destroying a domain");
    if (!rep) return error(rep.error().message());
    if (rep->status != 0)
        return error(fmt::format("destroying domain {}: {}", dom, strerror(-rep->status)));
    if (auto xs = toolstack_store(dir)) remove_domain_entries(*xs, dom);
    return 0;
}

// Every domain, a reply of at most kMaxBatch at a time.
Result<std::vector<uint32_t>> list_domains(const std::string& dir) {
    std::vector<uint32_t> all;
    for (uint32_t from = 0;;) {
        XNET_TRY_ASSIGN(auto rep,
                        toolstack_call(dir, Request{Op::domain_list, from}, "listing domains"));
        all.insert(all.end(), rep.refs, rep.refs + std::min(rep.count, simproto::kMaxBatch));
        if (!rep.b || rep.count == 0) return all;
        from = all.back() + 1;
    }
}

}  // namespace

int cmd_start(const Args& args) {
    bool foreground = false;
    for (const auto& a : args) {
        if (a == "--foreground") {
            foreground = true;
        } else {
            return error(fmt::format("start: unexpected '{}'", a));
        }
    }
    std::string dir = sim_dir("");
    if (auto pid = daemon_pid(dir))
        return error(fmt::format("already running in {} (pid {})", dir, *pid));
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return error(fmt::format("creating {}: {}", dir, ec.message()));
    if (auto r = make_netns(0); !r) return error(r.error().message());

    int ready[2] = {-1, -1};
    if (!foreground && pipe2(ready, O_CLOEXEC) != 0) return error("creating a pipe");
    pid_t pid = foreground ? 0 : fork();
    if (pid < 0) return error("forking the daemon");
    if (pid == 0) {
        if (!foreground) {
            close(ready[0]);
            setsid();
            std::string log = dir + "/xnet-sim.log";
            if (!std::freopen("/dev/null", "r", stdin) || !std::freopen(log.c_str(), "a", stdout) ||
                !std::freopen(log.c_str(), "a", stderr)) {
                _exit(1);
            }
        }
        std::ofstream(pid_file(dir)) << getpid() << "\n";
        auto r = run_daemon(DaemonOptions{dir, foreground ? -1 : ready[1]});
        unlink(pid_file(dir).c_str());
        if (!r) fmt::print(stderr, "xnet-sim: {}\n", r.error().message());
        if (foreground) return r ? 0 : 1;
        _exit(r ? 0 : 1);
    }
    close(ready[1]);
    char ok = 0;
    ssize_t n = read(ready[0], &ok, 1);
    close(ready[0]);
    if (n != 1) return error(fmt::format("the daemon failed to start; see {}/xnet-sim.log", dir));
    fmt::print("xnet-sim running in {} (pid {})\n", dir, pid);
    return 0;
}

int cmd_stop(const Args& args) {
    if (!args.empty()) return error(fmt::format("stop: unexpected '{}'", args[0]));
    std::string dir = sim_dir("");
    auto pid = daemon_pid(dir);
    if (pid && require_running(dir)) {
        if (auto doms = list_domains(dir)) {
            for (uint32_t d : *doms) {
                if (d != 0) destroy(dir, d);
            }
        }
    }
    remove_netns(0);
    if (!pid) {
        fmt::print("xnet-sim is not running in {}\n", dir);
    } else {
        kill(*pid, SIGTERM);
        for (int i = 0; i < 100 && kill(*pid, 0) == 0; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (kill(*pid, 0) == 0) kill(*pid, SIGKILL);
        fmt::print("xnet-sim stopped\n");
    }
    // Nothing of the sim's stays behind.
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        std::string name = e.path().filename();
        if (name.starts_with("dom") || name.starts_with("xnet-sim.")) fs::remove_all(e.path(), ec);
    }
    fs::remove(dir, ec);  // only if empty
    return 0;
}

int cmd_domain(const Args& args) {
    std::string dir = sim_dir("");
    if (args.empty()) return error("usage: xnet-sim domain create|destroy|list ...");
    Args rest(args.begin() + 1, args.end());
    if (args[0] == "create") return domain_create(dir, rest);
    if (args[0] == "destroy") {
        if (rest.size() != 1) return error("usage: xnet-sim domain destroy DOMID");
        auto dom = parse_domid(rest[0]);
        if (!dom) return error(dom.error().message());
        if (auto r = require_running(dir); !r) return error(r.error().message());
        return destroy(dir, *dom);
    }
    if (args[0] == "list") {
        if (auto r = require_running(dir); !r) return error(r.error().message());
        auto doms = list_domains(dir);
        if (!doms) return error(doms.error().message());
        auto xs = toolstack_store(dir);
        fmt::print("{:<6} {}\n", "ID", "Name");
        for (uint32_t d : *doms) {
            std::string name = "-";
            if (xs) {
                if (auto n = xs->try_read(fmt::format("/local/domain/{}/name", d)); n && *n)
                    name = **n;
            }
            fmt::print("{:<6} {}\n", d, name);
        }
        return 0;
    }
    return error(fmt::format("domain: unknown subcommand '{}'", args[0]));
}

int cmd_env(const Args& args) {
    if (args.size() != 1) return error("usage: xnet-sim env DOMID");
    auto dom = parse_domid(args[0]);
    if (!dom) return error(dom.error().message());
    std::string dir = sim_dir("");
    if (auto r = require_running(dir); !r) return error(r.error().message());
    if (!domain_exists(dir, *dom)) return error(fmt::format("unknown domain {}", *dom));
    for (const auto& kv : domain_env(dir, *dom)) {
        auto eq = kv.find('=');
        fmt::print("export {}='{}'\n", kv.substr(0, eq), kv.substr(eq + 1));
    }
    return 0;
}

int cmd_exec(const Args& args) {
    if (args.size() < 2) return error("usage: xnet-sim exec DOMID -- CMD...");
    auto dom = parse_domid(args[0]);
    if (!dom) return error(dom.error().message());
    size_t first = args[1] == "--" ? 2 : 1;
    if (first >= args.size()) return error("exec: no command given");
    std::string dir = sim_dir("");
    if (auto r = require_running(dir); !r) return error(r.error().message());
    if (!domain_exists(dir, *dom)) return error(fmt::format("unknown domain {}", *dom));
    for (const auto& kv : domain_env(dir, *dom))
        putenv(strdup(kv.c_str()));
    std::vector<std::string> argv{"ip", "netns", "exec", netns_name(*dom)};
    argv.insert(argv.end(), args.begin() + long(first), args.end());
    std::vector<char*> a;
    a.reserve(argv.size() + 1);
    for (auto& s : argv)
        a.push_back(s.data());
    a.push_back(nullptr);
    execvp("ip", a.data());
    return error(fmt::format("running ip netns exec: {}", strerror(errno)));
}

}  // namespace xnet::sim::cli
