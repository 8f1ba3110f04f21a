// The frontend's half of the xenbus handshake for one vif (device/vif/N),
// its TAP in the guest, and its queues. Reconnects when the backend goes
// away and comes back (a restarted xnetback asks with Closing).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "device/ethtool.h"
#include "device/link.h"
#include "device/tap_features.h"
#include "netif/netif.h"
#include "netif/offload.h"
#include "netif/policy_keys.h"
#include "platform/platform.h"
#include "queue.h"
#include "runtime/reactor.h"

namespace xnet::netfront {

struct Options {
    unsigned devid = 0;
    std::string ifname = "eth0";
    unsigned queues = 1;  // wanted; the backend's maximum bounds it
    offload::Policy policy = offload::safe();
    std::chrono::microseconds busy_poll{0};
    LinkOpener open_link = open_tap_link;  // the guest's TAP; the unit tests' fake
    ethtool::Monitor* ethtool = nullptr;   // ethtool -K on it; none: not followed
};

class Frontend {
  public:
    Frontend(Reactor& r, const Platform& p, const XenStore& xs, GrantShare& gs, Options o);
    ~Frontend();
    Frontend(const Frontend&) = delete;
    Frontend& operator=(const Frontend&) = delete;
    // Reads our directory, sets up the link and watches; then Initialising.
    Status start();
    // Looks at xenstore and takes the next step of the handshake; called
    // on every watch event. Level-triggered, as the backend's.
    void reconcile();
    std::string json() const;
    const std::string& name() const { return shared_.name; }
    netif::State state() const { return state_; }

  private:
    struct BackendKeys;
    void apply_policy();
    Status derive_rules();
    Status sync_tap();
    void on_tap_features();
    void on_store();
    Result<BackendKeys> read_backend();
    Status connect();
    Status write_keys(const BackendKeys& b);
    Status run_queues();
    void disconnect();
    void switch_state(netif::State s);
    void report(const Error& e);
    void on_fault(const Error& e);
    std::string fe(std::string_view key) const { return dir_ + "/" + std::string(key); }
    std::string be(std::string_view key) const { return be_dir_ + "/" + std::string(key); }

    Reactor& r_;
    const Platform& p_;
    const XenStore& xs_;
    GrantShare& gs_;
    Options o_;
    std::string dir_;     // /local/domain/D/device/vif/N
    std::string be_dir_;  // /local/domain/B/backend/vif/D/N
    netif::State state_ = netif::State::unknown;
    std::unique_ptr<Link> link_;
    std::vector<std::unique_ptr<FrontQueue>> queues_;
    bool running_ = false;
    bool fault_pending_ = false;
    DeviceShared shared_;
    offload::PolicyFollower policy_;        // the keys over the daemon's default
    offload::TapSync tap_;                  // the TAP shows it; ethtool -K writes it
    std::unique_ptr<BackendKeys> be_keys_;  // what the backend offered at connect
    Registration store_watch_;
    DeferredWork work_;
};

}  // namespace xnet::netfront
