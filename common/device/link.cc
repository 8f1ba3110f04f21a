#include "device/link.h"

#include <net/if.h>

#include <cerrno>

#include "device/ethtool.h"

namespace xnet {
namespace {

class TapLink final : public Link {
  public:
    explicit TapLink(Tap tap) : tap_(std::move(tap)) {}
    const std::string& name() const override { return tap_.name(); }
    Result<LocalPort*> queue(unsigned i) override { return tap_.queue(i); }
    void drop_queues() override { tap_.drop_queues(); }
    bool has_extra_queues() const override { return tap_.has_extra_queues(); }
    Status set_offload(TapOffload o) override { return tap_.set_offload(o); }
    Result<TapOffload> wanted_offload() override {
        unsigned index = if_nametoindex(name().c_str());
        if (!index) return fail(errno, "reading the features of " + name());
        XNET_TRY_ASSIGN(auto f, ethtool::features(index));
        return f.wanted_offload();
    }
    Status set_carrier(bool up) override { return tap_.set_carrier(up); }
    Status set_up(bool up) override { return link::set_up(name(), up); }
    Status set_mtu(unsigned mtu) override { return link::set_mtu(name(), mtu); }
    Status set_mac(const std::array<uint8_t, 6>& mac) override {
        return link::set_mac(name(), mac);
    }
    Status set_gso_max_size(unsigned bytes) override {
        return link::set_gso_max_size(name(), bytes);
    }
    void remove() override { tap_.remove(); }

  private:
    Tap tap_;
};

}  // namespace

Status prepare_link(Link& l, const LinkSetup& s) {
    Status st;
    if (s.mac) st = l.set_mac(*s.mac);
    if (st && s.mtu) st = l.set_mtu(s.mtu);
    if (st) st = l.set_gso_max_size(s.gso_max_size);
    if (st) st = l.set_carrier(false);
    if (st) st = l.set_up(true);
    return st;
}

Result<std::unique_ptr<Link>> open_tap_link(const std::string& name, bool persistent) {
    XNET_TRY_ASSIGN(auto t, Tap::open(name));
    if (persistent) {
        XNET_TRY(t.set_persist(true));
    }
    return std::unique_ptr<Link>(new TapLink(std::move(t)));
}

}  // namespace xnet
