// What the queues of one device share, at either end: its name, the peer
// domain across the rings, the offload rules the negotiation derived for
// both directions, the counters, and how a queue reports that the peer
// broke the protocol. The device (netback's Vif, netfront's Frontend) owns
// it and its queues hold a reference. The queues run on one thread (the
// device's loop, or in xnetback a worker's, see netback/host.h); the device
// changes a field only where the queues cannot run meanwhile (on their loop,
// or holding their worker), so no field needs a lock of its own.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "netif/counters.h"
#include "netif/credit.h"
#include "netif/netif.h"
#include "netif/offload.h"
#include "runtime/error.h"

namespace xnet {

struct DeviceShared {
    std::string name;     // vif3.0 in dom0, eth0 in the guest
    DomId peer = 0;       // the domain at the other end of the rings
    offload::TxRules tx;  // frames this end puts on a ring
    offload::RxRules rx;  // frames this end takes from a ring
    bool gso_accepted_v4 = false, gso_accepted_v6 = false;  // what this end advertised
    std::chrono::microseconds busy_poll{0};                 // see BusyPoll
    netif::Credit tx_credit;  // backend: what the guest may transmit (its rate); unlimited
    VifCounters counters;
    // Called once per fault, on the queues' thread; the device disconnects
    // (later, on its own thread, not from inside the queue). QUIET: the peer domain went away,
    // nothing to blame (only the backend can tell: a frontend passes false).
    std::function<void(const Error&, bool quiet)> fault;
};

}  // namespace xnet
