#include "end.h"

#include <fmt/format.h>

#include <charconv>
#include <optional>

#include "device/daemon.h"
#include "flat_json.h"
#include "runtime/control.h"

namespace xnet::ctl {

namespace {

struct VifId {
    // cppcheck-suppress unusedStructMember ; read through the optional parse_vif returns
    unsigned dom, devid;
};

std::optional<unsigned> number(std::string_view s) {
    unsigned v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

// "vif3.0" -> {3, 0}
std::optional<VifId> parse_vif(std::string_view name) {
    if (name.substr(0, 3) != "vif") return std::nullopt;
    auto dot = name.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    auto d = number(name.substr(3, dot - 3));
    auto n = number(name.substr(dot + 1));
    if (!d || !n) return std::nullopt;
    return VifId{*d, *n};
}

std::string shown(std::string_view s) {
    std::string out;
    for (unsigned char c : s.substr(0, 64))
        out += c >= 0x20 && c < 0x7f ? char(c) : '?';
    return out;
}

}  // namespace

Failure store_failure(const Error& e) {
    return {e.code == EACCES || e.code == EPERM ? kPermission : kFailure, e.message()};
}

Expected<std::string, Failure> ask(const std::string& path, const std::string& request) {
    auto r = control_request(path, request);
    if (!r) {
        return Unexpected{
            Failure{kNotRunning, fmt::format("{} (is the daemon running?)", r.error().message())}};
    }
    return *r;
}

Expected<End, Failure> resolve(const Command& c, const Platform& p, const XenStore& xs) {
    auto exists = [&](const std::string& dir) -> Expected<bool, Failure> {
        auto v = xs.try_read(dir);
        if (!v) return Unexpected{store_failure(v.error())};
        return v->has_value();
    };
    auto key = [&](const std::string& path) {
        auto v = xs.try_read(path);
        return v && *v ? **v : std::string();
    };
    End e;
    e.name = c.ifname;

    if (auto vif = parse_vif(c.ifname)) {
        std::string be =
            fmt::format("/local/domain/{}/backend/vif/{}/{}", p.self(), vif->dom, vif->devid);
        XNET_TRY_ASSIGN(auto ok, exists(be));
        if (!ok) {
            return Unexpected{
                Failure{kNoInterface, fmt::format("no such interface: {} (no {})", c.ifname, be)}};
        }
        std::string fe = key(be + "/frontend");
        if (fe.empty()) fe = fmt::format("/local/domain/{}/device/vif/{}", vif->dom, vif->devid);
        if (c.end == EndChoice::frontend) {
            e.backend = false;
            e.dir = fe;
            e.peer_dir = be;  // the guest's daemon is not reachable from here
            return e;
        }
        e.dir = be;
        e.peer_dir = fe;
        e.control = c.control.empty() ? backend_control_path(p) : c.control;
        e.request = "stats " + c.ifname;
        return e;
    }
    // A guest's interface: the xnetfront that serves it says its devid.
    std::string base = fmt::format("/local/domain/{}/device/vif", p.self());
    std::vector<std::pair<std::string, unsigned>> candidates;  // socket, devid
    if (!c.control.empty()) {
        candidates.emplace_back(c.control, ~0u);
    } else if (auto kids = xs.directory(base)) {
        for (const auto& k : *kids) {
            if (auto n = number(k)) candidates.emplace_back(frontend_control_path(p, *n), *n);
        }
    }
    bool any_answered = false;
    for (auto& [sock, devid] : candidates) {
        auto r = control_request(sock, "stats");
        if (!r) continue;
        any_answered = true;
        auto f = flatten(*r);
        if (!f || lookup(*f, "name") != c.ifname) continue;
        auto n = number(lookup(*f, "devid"));
        if (!n) continue;
        e.backend = false;
        e.dir = fmt::format("{}/{}", base, *n);
        e.peer_dir = key(e.dir + "/backend");
        e.control = sock;
        e.request = "stats";
        if (c.end == EndChoice::backend) {
            // The backend's end of our interface: readable from here,
            // writable only by its own domain (xenstore says so, not us).
            std::swap(e.dir, e.peer_dir);
            e.backend = true;
            e.control.clear();
            e.request.clear();
        }
        return e;
    }
    if (!any_answered) {
        return Unexpected{Failure{kNotRunning, fmt::format("no xnetfront answers for {} (is the "
                                                           "daemon running?)",
                                                           shown(c.ifname))}};
    }
    return Unexpected{Failure{kNoInterface, fmt::format("no such interface: {}", shown(c.ifname))}};
}

}  // namespace xnet::ctl
