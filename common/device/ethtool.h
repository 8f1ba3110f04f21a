// The kernel's ethtool interface for the daemons' TAPs, over generic
// netlink (the "ethtool" family, Linux 5.6 and later): the features a
// device's user asked for (what `ethtool -K` wrote), and the monitor
// group's notifications that say a device's features changed, whoever
// changed them. The daemons use both so that `ethtool -K` on a TAP
// becomes xnet policy (device/tap_features.h says how).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "device/tap.h"
#include "runtime/error.h"
#include "runtime/genetlink.h"
#include "runtime/reactor.h"

namespace xnet::ethtool {

// The kernel's names (ethtool -k's lower lines) of what a TAP can turn
// on and off; TapOffload's fields, one each.
inline constexpr std::string_view kCsum = "tx-checksum-ip-generic";
inline constexpr std::string_view kSg = "tx-scatter-gather";
// Goes with kSg, as ethtool -K sg sets both.
inline constexpr std::string_view kSgFraglist = "tx-scatter-gather-fraglist";
inline constexpr std::string_view kTso4 = "tx-tcp-segmentation";
inline constexpr std::string_view kTso6 = "tx-tcp6-segmentation";

// The features a device's user asked for (ethtool -K's "requested"), as
// the kernel names them.
struct Features {
    std::vector<std::string> wanted;
    bool wants(std::string_view name) const;
    // The TapOffload fields as asked for.
    TapOffload wanted_offload() const;
};

// The wanted features of the device IFINDEX (ETHTOOL_MSG_FEATURES_GET).
Result<Features> features(unsigned ifindex);

// Asks for each feature NAME of IFINDEX on or off, as `ethtool -K` does.
struct Wanted {
    std::string_view name;
    bool on;
};
Status set_features(unsigned ifindex, std::span<const Wanted> features);

class Monitor;

// A watch on one device's features, for as long as this lives. Move-only.
class Watch {
  public:
    Watch() = default;
    Watch(Watch&& o) noexcept { *this = std::move(o); }
    Watch& operator=(Watch&& o) noexcept;
    ~Watch() { reset(); }
    void reset();
    explicit operator bool() const { return m_ != nullptr; }

  private:
    friend class Monitor;
    Watch(Monitor* m, unsigned ifindex, unsigned id) : m_(m), ifindex_(ifindex), id_(id) {}
    Monitor* m_ = nullptr;
    unsigned ifindex_ = 0, id_ = 0;
};

// The daemon's one listener to the ethtool monitor group, on its loop.
// Outlives every Watch it hands out.
class Monitor {
  public:
    static Result<std::unique_ptr<Monitor>> open(Reactor& r);
    Monitor(const Monitor&) = delete;
    Monitor& operator=(const Monitor&) = delete;
    ~Monitor();

    // Calls CHANGED, on the loop, whenever the features of the device
    // named IFNAME may have changed (also after notifications were lost).
    Result<Watch> watch(const std::string& ifname, std::function<void()> changed);

  private:
    friend class Watch;
    explicit Monitor(genl::Socket s) : sock_(std::move(s)) {}
    void on_readable();
    void notify(unsigned ifindex);
    void unwatch(unsigned ifindex, unsigned id);

    genl::Socket sock_;
    Registration reg_;
    unsigned next_id_ = 1;
    std::multimap<unsigned, std::pair<unsigned, std::function<void()>>> watches_;
};

}  // namespace xnet::ethtool
