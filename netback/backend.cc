#include "backend.h"

#include <dirent.h>
#include <sys/epoll.h>

#include <algorithm>

#include <fmt/format.h>

#include "runtime/control.h"
#include "runtime/log.h"

namespace xnet::netback {
namespace {
constexpr const char* kVifsToken = "vifs";
constexpr std::chrono::milliseconds kPeerCheck{1000};

// "3/0/state" -> (3, 0); "3" -> (3, nullopt).
struct Parsed {
    std::optional<DomId> dom;
    std::optional<unsigned> devid;
};
Parsed parse_rel(std::string_view rel) {
    Parsed p;
    auto slash = rel.find('/');
    if (auto d = netif::parse_number(rel.substr(0, slash), 0x7fef)) p.dom = DomId(*d);
    if (slash == std::string_view::npos || !p.dom) return p;
    rel.remove_prefix(slash + 1);
    if (auto n = netif::parse_number(rel.substr(0, rel.find('/')), 0xffff)) {
        p.devid = unsigned(*n);
    }
    return p;
}
// "vif3.0" -> (3, 0), the names Vif gives its TAPs; nullopt for others.
std::optional<std::pair<DomId, unsigned>> parse_vif_name(std::string_view name) {
    if (!name.starts_with("vif")) return std::nullopt;
    name.remove_prefix(3);
    auto dot = name.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    auto dom = netif::parse_number(name.substr(0, dot), 0x7fef);
    auto devid = netif::parse_number(name.substr(dot + 1), 0xffff);
    if (!dom || !devid) return std::nullopt;
    return std::pair{DomId(*dom), unsigned(*devid)};
}

}  // namespace

Backend::~Backend() = default;

Status Backend::start() {
    XNET_TRY(start_hosts());
    root_ = fmt::format("/local/domain/{}/backend/vif", s_.platform.self());
    auto st = s_.xs.watch(root_, kVifsToken);
    if (!st) return st;
    st = store_watch_.watch(s_.reactor, s_.xs.fd(), EPOLLIN, [this](uint32_t) { on_store(); });
    if (!st) return st;
    rescan();
    remove_stale_taps();
    check_peers();
    return {};
}

// Once a second: a frontend process killed (kill -9, a crash) writes
// nothing to xenstore, but its event channels close with it.
void Backend::check_peers() {
    for (auto& [k, v] : vifs_)
        v->check_peer();
    auto t = s_.reactor.after(kPeerCheck, [this] { check_peers(); });
    if (!t) return log::error("arming the peer check: {}", t.error().message());
    peer_check_ = std::move(*t);
}

void Backend::reconcile(DomId dom, unsigned devid) {
    auto key = std::pair{dom, devid};
    auto it = vifs_.find(key);
    if (it == vifs_.end()) {
        QueueHost* host = place();
        it = vifs_.emplace(key, std::make_unique<Vif>(s_, dom, devid, host)).first;
        ++host->vifs;
    }
    it->second->reconcile();
    if (it->second->gone()) {
        --it->second->host().vifs;
        vifs_.erase(it);
    }
}

// The queues' hosts: the daemon's loop, or --threads workers.
Status Backend::start_hosts() {
    if (s_.options.threads == 0) {
        hosts_.push_back(std::make_unique<InlineHost>(s_.reactor, s_.gnttab));
        return {};
    }
    for (unsigned i = 0; i < s_.options.threads; ++i) {
        XNET_TRY_ASSIGN(auto w,
                        WorkerHost::start(i, s_.platform, s_.reactor, s_.options.stall_report));
        hosts_.push_back(std::move(w));
    }
    return {};
}

// A new vif goes to the host with the fewest: each worker then serves
// about as many guests as the next, whatever order they come and go in.
QueueHost* Backend::place() {
    auto fewest = std::min_element(hosts_.begin(), hosts_.end(),
                                   [](const auto& a, const auto& b) { return a->vifs < b->vifs; });
    return fewest->get();
}

void Backend::rescan() {
    auto doms = s_.xs.directory(root_);
    std::vector<std::pair<DomId, unsigned>> seen;
    if (doms) {
        for (const auto& d : *doms) {
            auto dom = netif::parse_number(d, 0x7fef);
            if (!dom) continue;
            auto devs = s_.xs.directory(root_ + "/" + d);
            if (!devs) continue;
            for (const auto& n : *devs) {
                if (auto devid = netif::parse_number(n, 0xffff)) {
                    seen.emplace_back(DomId(*dom), unsigned(*devid));
                }
            }
        }
    }
    for (auto& [dom, devid] : seen)
        reconcile(dom, devid);
    // Those no longer listed find out that they are gone.
    std::vector<std::pair<DomId, unsigned>> known;
    for (auto& [k, v] : vifs_) {
        if (std::find(seen.begin(), seen.end(), k) == seen.end()) known.push_back(k);
    }
    for (const auto& k : known)
        reconcile(k.first, k.second);
}

// Every key written under a vif's directory, ours included, is a watch
// event, and a handshake writes dozens; each reconcile reads about ten
// keys, each a round trip to xenstored, while every other vif waits. So
// the events drained in one go make one reconcile per vif: it reads the
// keys as they are now, which is all the state machine looks at.
void Backend::on_store() {
    bool full_scan = false;
    std::vector<std::pair<DomId, unsigned>> touched;
    auto touch = [&](DomId dom, unsigned devid) {
        auto k = std::pair{dom, devid};
        if (std::find(touched.begin(), touched.end(), k) == touched.end()) touched.push_back(k);
    };
    while (auto ev = s_.xs.next_event()) {
        if (ev->token == kVifsToken) {
            std::string_view path = ev->path;
            if (path.size() <= root_.size() + 1 || path.substr(0, root_.size()) != root_) {
                full_scan = true;
                continue;
            }
            auto p = parse_rel(path.substr(root_.size() + 1));
            if (p.dom && p.devid) {
                touch(*p.dom, *p.devid);
            } else {
                full_scan = true;  // a whole domain's directory came or went
            }
        } else if (ev->token.rfind("fe/", 0) == 0) {
            auto p = parse_rel(std::string_view(ev->token).substr(3));
            if (p.dom && p.devid && vifs_.count({*p.dom, *p.devid})) touch(*p.dom, *p.devid);
        }
    }
    if (full_scan) return rescan();  // which reconciles every vif, listed or known
    for (const auto& [dom, devid] : touched)
        reconcile(dom, devid);
}

void Backend::remove_stale_taps() {
    DIR* d = opendir("/sys/class/net");
    if (!d) return;
    std::vector<std::string> stale;
    while (dirent* e = readdir(d)) {
        auto vif = parse_vif_name(e->d_name);
        if (vif && !vifs_.count(*vif)) stale.emplace_back(e->d_name);
    }
    closedir(d);
    for (auto& name : stale) {
        // A persistent TAP of a vif that went while we were not running.
        if (auto t = Tap::open(name)) {
            t->remove();
            log::info("{}: removed, left from a previous run", name);
        }
    }
}

Vif* Backend::find(std::string_view name) {
    for (auto& [k, v] : vifs_) {
        if (v->name() == name) return v.get();
    }
    return nullptr;
}

std::string Backend::control(std::string_view req) {
    auto sp = req.find(' ');
    std::string_view cmd = req.substr(0, sp);
    std::string_view arg = sp == std::string_view::npos ? "" : req.substr(sp + 1);
    if (cmd == "list" || (cmd == "stats" && arg.empty())) {
        std::vector<std::string> all;
        for (auto& [k, v] : vifs_)
            all.push_back(v->json());
        return control_list(all);
    }
    if (cmd == "stats") {
        if (Vif* v = find(arg)) return v->json();
        return control_error(fmt::format("no such interface: {}", arg.substr(0, 32)));
    }
    return control_error(fmt::format("unknown request: {}", cmd.substr(0, 32)));
}

}  // namespace xnet::netback
