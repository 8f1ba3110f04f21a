// The backend daemon's core: finds every vif under <home>/backend/vif by
// watching it, keeps one Vif per device, and answers the control socket.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xenbus.h"

namespace xnet::netback {

class Backend {
  public:
    explicit Backend(Services& s) : s_(s) {}
    ~Backend();
    // Watches the vifs, serves those present, removes TAPs left by a
    // previous run for vifs that no longer exist.
    Status start();
    // A control-socket request: "list", "stats", "stats vif3.0".
    std::string control(std::string_view request);

  private:
    Status start_hosts();
    QueueHost* place();
    void on_store();
    void rescan();
    void reconcile(DomId dom, unsigned devid);
    void remove_stale_taps();
    void check_peers();
    Vif* find(std::string_view name);

    Services& s_;
    std::string root_;                               // /local/domain/<self>/backend/vif
    std::vector<std::unique_ptr<QueueHost>> hosts_;  // before the vifs: they go first
    std::map<std::pair<DomId, unsigned>, std::unique_ptr<Vif>> vifs_;
    Timer peer_check_;
    Registration store_watch_;
};

}  // namespace xnet::netback
