// One vif in the backend: the xenbus handshake with its frontend (as
// Linux netback does it, with libxl's hotplug-status step), the TAP
// vif<domid>.<devid>, and its queues once connected.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "device/ethtool.h"
#include "device/link.h"
#include "device/tap.h"
#include "device/tap_features.h"
#include "host.h"
#include "netif/netif.h"
#include "netif/offload.h"
#include "netif/policy_keys.h"
#include "platform/platform.h"
#include "queue.h"
#include "runtime/json.h"
#include "runtime/reactor.h"

namespace xnet::netback {

struct Options {
    offload::Policy policy = offload::safe();
    unsigned max_queues = 1;
    unsigned gso_max_size = link::kNetifGsoMaxSize;  // what the TAP may hand us
    std::chrono::microseconds busy_poll{0};
    // Worker threads for the queues (0: they run on the daemon's own loop).
    unsigned threads = 0;
    std::chrono::milliseconds stall_report{0};  // the workers' loops' (EpollReactor)
};

// What every vif uses, owned by the daemon.
struct Services {
    Reactor& reactor;
    const Platform& platform;
    const XenStore& xs;
    GrantTable& gnttab;
    Options options;
    LinkOpener open_link = open_tap_link;  // a TAP per vif; the unit tests' fake
    ethtool::Monitor* ethtool = nullptr;   // ethtool -K on the TAPs; none: not followed
};

class Vif {
  public:
    // Its queues run on HOST (none: the daemon's loop, s.reactor).
    Vif(Services& s, DomId dom, unsigned devid, QueueHost* host = nullptr);
    ~Vif();
    Vif(const Vif&) = delete;
    Vif& operator=(const Vif&) = delete;

    // Looks at xenstore and takes the next step of the handshake; called
    // on every watch event that concerns this vif. Level-triggered: it
    // reads the current values, so lost or repeated events do no harm.
    void reconcile();
    // The backend directory is gone and everything is torn down.
    bool gone() const { return gone_; }

    const std::string& name() const { return shared_.name; }
    DomId dom() const { return shared_.peer; }
    unsigned devid() const { return devid_; }
    netif::State state() const { return state_; }
    const std::string& frontend_dir() const { return fe_dir_; }
    QueueHost& host() { return *host_; }
    std::string json() const;
    // While connected: disconnects the vif if the frontend let go of its
    // event channels (its process was killed: nobody tells xenstore).
    void check_peer();

  private:
    struct FrontendKeys;
    void apply_policy();
    void apply_rate();  // rate.cc
    void rate_json(JsonWriter& w) const;
    Status write_advertised(XenStore::Tx tx);
    Status derive_rules();
    Status sync_tap();
    void on_tap_features();
    Status setup();
    Result<FrontendKeys> read_frontend();
    Status connect();
    bool frontend_moved(netif::State seen) const;
    void disconnect();
    void teardown();
    void switch_state(netif::State s);
    void write_own(std::string_view key, std::string_view value);
    Status write_in_dir(const std::function<Status(XenStore::Tx)>& writes);
    void report(const Error& e);
    void blame(const Error& e);
    void on_fault(const Error& e, bool quiet);
    std::string be(std::string_view key) const { return dir_ + "/" + std::string(key); }
    std::string fe(std::string_view key) const { return fe_dir_ + "/" + std::string(key); }

    Services& s_;
    std::unique_ptr<QueueHost> own_host_;  // when given none
    QueueHost* host_;
    unsigned devid_;
    std::string dir_;     // /local/domain/0/backend/vif/D/N
    std::string fe_dir_;  // /local/domain/D/device/vif/N
    std::string fe_token_;
    netif::State state_ = netif::State::unknown;
    std::unique_ptr<Link> link_;  // vifD.N
    std::vector<std::unique_ptr<BackQueue>> queues_;
    DeviceShared shared_;
    offload::PolicyFollower policy_;         // the keys over the daemon's default
    offload::TapSync tap_;                   // the TAP shows it; ethtool -K writes it
    std::optional<std::string> rate_key_;    // the rate key's text last applied ("": none)
    std::unique_ptr<FrontendKeys> fe_keys_;  // what the connected frontend wrote
    bool broken_ = false;  // the frontend broke the protocol; wait for it to re-initialise
    bool gone_ = false;
    bool fault_pending_ = false;
    DeferredWork work_;
    // Whether this Vif still exists, for a fault its queue reported from
    // the worker's thread (QueueHost::to_control); read on the control thread.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace xnet::netback
