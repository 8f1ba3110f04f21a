// Notices that the connection to xenstore is gone. libxenstore reports a
// dead xenstored (or a dead xnet-sim) only as failing calls, and a daemon
// whose watches went quiet would otherwise serve nothing for ever. So once
// a second it reads a node, and when the read fails for the connection
// (not for the node) it calls LOST: the daemons log it and exit, to be
// restarted by their supervisor once the store is back (a daemon cannot
// carry its grants and channels over to a new xenstored or sim).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "platform/xenstore.h"
#include "runtime/error.h"
#include "runtime/reactor.h"

namespace xnet {

class StoreWatchdog {
  public:
    static constexpr std::chrono::milliseconds kInterval{1000};
    // Reads PROBE (any path; a missing node is an answer) every kInterval.
    StoreWatchdog(Reactor& r, const XenStore& xs, std::string probe,
                  std::function<void(const Error&)> lost);
    Status start();

    // Whether an error from a xenstore call means the connection is gone.
    static bool connection_lost(int code);

  private:
    void tick();
    Reactor& r_;
    const XenStore& xs_;
    std::string probe_;
    std::function<void(const Error&)> lost_;
    Timer timer_;
};

}  // namespace xnet
