// Choosing and opening a platform.
#include "platform/platform.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

#include "platform/sim/sim_platform.h"
#include "platform/xen/xen_platform.h"

namespace xnet {
namespace {

class XenPlatform final : public Platform {
  public:
    explicit XenPlatform(DomId self) : self_(self) {}
    PlatformKind kind() const override { return PlatformKind::xen; }
    DomId self() const override { return self_; }
    std::string run_dir() const override { return "/run/xnet"; }
    Result<XenStore> open_store() const override { return XenStore::open(); }
    Result<std::unique_ptr<EventChannels>> open_evtchn() const override {
        return xen::open_evtchn();
    }
    Result<std::unique_ptr<GrantTable>> open_gnttab() const override { return xen::open_gnttab(); }
    Result<std::unique_ptr<GrantShare>> open_gntshr() const override { return xen::open_gntshr(); }

  private:
    DomId self_;
};

class SimPlatform final : public Platform {
  public:
    SimPlatform(std::string dir, DomId self) : dir_(std::move(dir)), self_(self) {}
    PlatformKind kind() const override { return PlatformKind::sim; }
    DomId self() const override { return self_; }
    std::string run_dir() const override { return simproto::domain_dir(dir_, self_); }
    Result<XenStore> open_store() const override {
        return XenStore::open(simproto::xenstore_socket(dir_, self_));
    }
    Result<std::unique_ptr<EventChannels>> open_evtchn() const override {
        return sim_client::open_evtchn(dir_, self_);
    }
    Result<std::unique_ptr<GrantTable>> open_gnttab() const override {
        return sim_client::open_gnttab(dir_, self_);
    }
    Result<std::unique_ptr<GrantShare>> open_gntshr() const override {
        return sim_client::open_gntshr(dir_, self_);
    }

  private:
    std::string dir_;
    DomId self_;
};

}  // namespace

Result<PlatformKind> parse_platform(std::string_view name) {
    if (name == "xen") return PlatformKind::xen;
    if (name == "sim") return PlatformKind::sim;
    return fail(EINVAL, fmt::format("unknown platform '{}' (expected xen or sim)", name));
}

PlatformKind default_platform() {
    return access("/dev/xen/evtchn", F_OK) == 0 ? PlatformKind::xen : PlatformKind::sim;
}

const char* platform_name(PlatformKind k) {
    return k == PlatformKind::xen ? "xen" : "sim";
}

Result<std::unique_ptr<Platform>> open_sim_platform(const std::string& dir, DomId dom) {
    if (access(simproto::platform_socket(dir, dom).c_str(), F_OK) != 0) {
        return fail(errno, fmt::format("finding domain {} of xnet-sim in {} (is the sim running, "
                                       "and the domain created?)",
                                       dom, dir));
    }
    return std::unique_ptr<Platform>(new SimPlatform(dir, dom));
}

Result<std::unique_ptr<Platform>> open_platform(PlatformKind kind) {
    if (kind == PlatformKind::sim) {
        const char* dom = std::getenv("XNET_SIM_DOMID");
        DomId d = 0;
        if (dom) {
            std::string_view s(dom);
            auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
            if (ec != std::errc{} || end != s.data() + s.size()) {
                return fail(EINVAL, fmt::format("reading XNET_SIM_DOMID '{}'", s));
            }
        }
        return open_sim_platform(simproto::dir_from_env(), d);
    }
    // On Xen the domain learns its id from its own xenstore directory.
    XNET_TRY_ASSIGN(auto store, XenStore::open());
    XNET_TRY_ASSIGN(auto id, store.try_read("domid"));
    DomId self = 0;
    if (id) {
        const std::string& s = *id;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), self);
        if (ec != std::errc{} || end != s.data() + s.size() || s.empty() || self >= 0x7ff0) {
            return fail(EINVAL, fmt::format("reading domid '{}'", s));
        }
    }
    return std::unique_ptr<Platform>(new XenPlatform(self));
}

}  // namespace xnet
