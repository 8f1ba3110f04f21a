// vif add / vif remove: what libxl does for a network device
// (libxl__device_generic_add, libxl__initiate_device_generic_remove and
// the hotplug calls of libxl_linux.c), against the sim's xenstore.
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "commands.h"
#include "netif/credit.h"
#include "netif/netif_keys.h"

namespace xnet::sim::cli {
namespace {

constexpr int kInitWaitSeconds = 10;  // LIBXL_INIT_TIMEOUT
constexpr int kDestroySeconds = 10;   // LIBXL_DESTROY_TIMEOUT
constexpr int kHotplugSeconds = 40;   // LIBXL_HOTPLUG_TIMEOUT

struct Vif {
    uint32_t dom = 0, devid = 0, backend = 0;
    bool devid_given = false;
    std::string mac, bridge, script, ip;
    std::string checksum;  // the toolstack's profile override for the hotplug script
    netif::Rate rate;      // xl's rate=
    std::string fe() const { return fmt::format("/local/domain/{}/device/vif/{}", dom, devid); }
    std::string be() const {
        return fmt::format("/local/domain/{}/backend/vif/{}/{}", backend, dom, devid);
    }
    std::string libxl() const { return fmt::format("/libxl/{}/device/vif/{}", dom, devid); }
    std::string name() const { return fmt::format("vif{}.{}", dom, devid); }
};

// Waits until PATH reads one of WANT (or, with WANT empty, is gone).
bool wait_for(const XenStore& xs, const std::string& path, std::initializer_list<const char*> want,
              int seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    std::string token = "xnet-sim-wait";
    if (!xs.watch(path, token)) return false;
    bool reached = false;
    while (!reached && std::chrono::steady_clock::now() < deadline) {
        auto v = xs.try_read(path);
        if (!v) break;
        if (want.size() == 0) {
            reached = !*v;
        } else if (*v) {
            for (const char* w : want)
                reached = reached || **v == w;
        }
        if (reached) break;
        pollfd p{xs.fd(), POLLIN, 0};
        poll(&p, 1, 100);
        while (xs.next_event()) {
        }
    }
    (void)xs.unwatch(path, token);
    return reached;
}

// The script runs in the backend domain, acting as it, with libxl's
// environment; XENBUS_PATH is relative to the backend's home directory.
Result<int> run_script(const std::string& dir, const Vif& v, const char* action) {
    Args env = domain_env(dir, v.backend);
    env.push_back("script=" + v.script);
    env.push_back("XENBUS_TYPE=vif");
    env.push_back(fmt::format("XENBUS_PATH=backend/vif/{}/{}", v.dom, v.devid));
    env.push_back("XENBUS_BASE_PATH=backend");
    env.push_back("netdev=");
    env.push_back("vif=" + v.name());
    return run({"ip", "netns", "exec", netns_name(v.backend), v.script, action, "type_if=vif"}, env,
               false, kHotplugSeconds);
}

Status write_device(const XenStore& xs, const Vif& v) {
    std::vector<XsPerm> fe_perms{{v.dom, XsPerm::none}, {v.backend, XsPerm::read}};
    std::vector<XsPerm> be_perms{{v.backend, XsPerm::none}, {v.dom, XsPerm::read}};
    return xs.transact([&](XenStore::Tx t) -> Status {
        if (auto cur = xs.try_read(v.be() + "/state", t); cur && *cur) {
            return fail(EEXIST, fmt::format("adding {}: the device exists", v.name()));
        }
        for (const auto& [path, perms] :
             {std::pair{v.fe(), fe_perms}, std::pair{v.be(), be_perms}}) {
            if (auto r = xs.rm(path, t); !r && r.error().code != ENOENT) return r;
            XNET_TRY(xs.mkdir(path, t));
            XNET_TRY(xs.set_perms(path, perms, t));
        }
        std::vector<std::pair<std::string, std::string>> fe{
            {"backend", v.be()}, {"backend-id", std::to_string(v.backend)},
            {"state", "1"},      {"handle", std::to_string(v.devid)},
            {"mac", v.mac},      {"trusted", "1"},
        };
        std::vector<std::pair<std::string, std::string>> be{
            {"frontend", v.fe()}, {"frontend-id", std::to_string(v.dom)},
            {"online", "1"},      {"state", "1"},
            {"mac", v.mac},       {"handle", std::to_string(v.devid)},
            {"type", "vif"},      {"hotplug-status", ""},
        };
        if (!v.script.empty()) be.emplace_back("script", v.script);
        if (!v.bridge.empty()) be.emplace_back("bridge", v.bridge);
        if (!v.ip.empty()) be.emplace_back("ip", v.ip);
        if (!v.checksum.empty()) be.emplace_back("checksum", v.checksum);
        // libxl writes the key only for a limit: BYTES,USECS.
        if (v.rate.limited()) be.emplace_back(netif::key::rate, netif::rate_key(v.rate));
        for (const auto& [k, val] : fe) {
            XNET_TRY(xs.write(v.fe() + "/" + k, val, t));
        }
        for (const auto& [k, val] : be) {
            XNET_TRY(xs.write(v.be() + "/" + k, val, t));
            XNET_TRY(xs.write(v.libxl() + "/" + k, val, t));
        }
        XNET_TRY(xs.write(v.libxl() + "/frontend", v.fe(), t));
        return xs.write(v.libxl() + "/backend", v.be(), t);
    });
}

// libxl__xs_path_cleanup: removes PATH, then each parent left empty.
void path_cleanup(const XenStore& xs, std::string path) {
    (void)xs.rm(path);
    for (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0;
         slash = path.rfind('/')) {
        path.resize(slash);
        auto children = xs.directory(path);
        if (!children || !children->empty() || !xs.rm(path)) break;
    }
}

void remove_device(const XenStore& xs, const Vif& v) {
    path_cleanup(xs, v.fe());
    path_cleanup(xs, v.be());
    path_cleanup(xs, v.libxl());
}

int vif_add(const std::string& dir, const Args& args) {
    if (args.empty()) return error("usage: xnet-sim vif add DOMID [--devid N] [--mac MAC] ...");
    Vif v;
    auto dom = parse_domid(args[0]);
    if (!dom) return error(dom.error().message());
    v.dom = *dom;
    for (size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (i + 1 >= args.size()) return error(fmt::format("vif add: '{}' needs a value", a));
        const std::string& val = args[++i];
        // The options that are the toolstack's words, kept as given.
        static const std::pair<const char*, std::string Vif::*> kText[] = {
            {"--mac", &Vif::mac},
            {"--bridge", &Vif::bridge},
            {"--script", &Vif::script},
            {"--ip", &Vif::ip},
            {"--checksum", &Vif::checksum}};
        auto text = std::find_if(std::begin(kText), std::end(kText),
                                 [&](const auto& t) { return a == t.first; });
        if (text != std::end(kText)) {
            v.*(text->second) = val;
        } else if (a == "--devid") {
            auto n = parse_domid(val);
            if (!n) return error(fmt::format("vif add: bad --devid '{}'", val));
            v.devid = *n;
            v.devid_given = true;
        } else if (a == "--rate") {
            auto r = netif::parse_xl_rate(val);  // as xl parses rate= in a vif line
            if (!r) return error(fmt::format("vif add: {}", r.error().message()));
            v.rate = *r;
        } else if (a == "--backend") {
            auto b = parse_domid(val);
            if (!b) return error(b.error().message());
            v.backend = *b;
        } else {
            return error(fmt::format("vif add: unknown option '{}'", a));
        }
    }
    if (auto r = require_running(dir); !r) return error(r.error().message());
    if (!domain_exists(dir, v.dom)) return error(fmt::format("unknown domain {}", v.dom));
    if (!domain_exists(dir, v.backend))
        return error(fmt::format("unknown backend domain {}", v.backend));
    auto xs = toolstack_store(dir);
    if (!xs) return error(xs.error().message());
    if (!v.devid_given) {
        auto existing = xs->directory(fmt::format("/local/domain/{}/device/vif", v.dom));
        while (existing && std::find(existing->begin(), existing->end(), std::to_string(v.devid)) !=
                               existing->end()) {
            ++v.devid;
        }
    }
    if (v.mac.empty()) {
        v.mac = fmt::format("00:16:3e:{:02x}:{:02x}:{:02x}", (v.dom >> 8) & 0x7f, v.dom & 0xff,
                            v.devid & 0xff);
    }
    if (auto r = write_device(*xs, v); !r) return error(r.error().message());
    if (!wait_for(*xs, v.be() + "/state", {"2", "4"}, kInitWaitSeconds)) {
        remove_device(*xs, v);
        return error(
            fmt::format("adding {}: the backend did not reach InitWait in {} s (is xnetback "
                        "running in domain {}?)",
                        v.name(), kInitWaitSeconds, v.backend));
    }
    if (v.script.empty()) {
        // No script: nothing to set up; say so as a script would.
        (void)xs->write(v.be() + "/hotplug-status", "connected");
    } else {
        auto rc = run_script(dir, v, "online");
        if (!rc || *rc != 0) {
            auto err = xs->try_read(v.be() + "/hotplug-error");
            std::string why = !rc ? rc.error().message() : fmt::format("exit status {}", *rc);
            if (err && *err) why += ": " + **err;
            remove_device(*xs, v);
            return error(
                fmt::format("adding {}: hotplug script {} failed ({})", v.name(), v.script, why));
        }
    }
    fmt::print("{} added (frontend {}, backend {})\n", v.name(), v.fe(), v.be());
    return 0;
}

int vif_remove(const std::string& dir, const Args& args) {
    if (args.size() != 2) return error("usage: xnet-sim vif remove DOMID DEVID");
    auto dom = parse_domid(args[0]);
    auto devid = parse_domid(args[1]);
    if (!dom) return error(dom.error().message());
    if (!devid) return error(fmt::format("vif remove: bad devid '{}'", args[1]));
    if (auto r = require_running(dir); !r) return error(r.error().message());
    auto xs = toolstack_store(dir);
    if (!xs) return error(xs.error().message());
    Vif v;
    v.dom = *dom;
    v.devid = *devid;
    auto be = xs->try_read(v.fe() + "/backend");
    if (!be || !*be) return error(fmt::format("vif{}.{} does not exist", v.dom, v.devid));
    auto bid = xs->try_read(v.fe() + "/backend-id");
    if (bid && *bid) {
        if (auto b = parse_domid(**bid)) v.backend = *b;
    }
    if (auto s = xs->try_read(v.be() + "/script"); s && *s) v.script = **s;
    auto closing = xs->transact([&](XenStore::Tx t) -> Status {
        XNET_TRY_ASSIGN(auto state, xs->try_read(v.be() + "/state", t));
        if (!state) return {};  // the backend is gone already
        XNET_TRY(xs->write(v.be() + "/online", "0", t));
        if (*state != "6") return xs->write(v.be() + "/state", "5", t);
        return {};
    });
    if (!closing) return error(closing.error().message());
    bool closed = wait_for(*xs, v.be() + "/state", {"6"}, kDestroySeconds);
    if (!closed)
        fmt::print(stderr, "xnet-sim: {}: backend did not close in {} s; forcing\n", v.name(),
                   kDestroySeconds);
    if (!v.script.empty()) {
        auto rc = run_script(dir, v, "offline");
        if (!rc || *rc != 0)
            fmt::print(stderr, "xnet-sim: {}: hotplug script offline failed\n", v.name());
    }
    remove_device(*xs, v);
    fmt::print("{} removed\n", v.name());
    return 0;
}

}  // namespace

int cmd_vif(const Args& args) {
    std::string dir = sim_dir("");
    if (args.empty()) return error("usage: xnet-sim vif add|remove ...");
    Args rest(args.begin() + 1, args.end());
    if (args[0] == "add") return vif_add(dir, rest);
    if (args[0] == "remove") return vif_remove(dir, rest);
    return error(fmt::format("vif: unknown subcommand '{}'", args[0]));
}

}  // namespace xnet::sim::cli
