// Event channels, with libxenevtchn's semantics: a handle owns the ports it
// bound; fd() becomes readable when one of them fires; pending() returns a
// fired port, which stays masked until unmask(); closing the handle unbinds
// everything it holds.
#pragma once

#include <cstdint>
#include <optional>

#include "runtime/error.h"

namespace xnet {

using DomId = uint32_t;
using Port = uint32_t;

class EventChannels {
  public:
    virtual ~EventChannels() = default;
    EventChannels() = default;
    EventChannels(const EventChannels&) = delete;
    EventChannels& operator=(const EventChannels&) = delete;

    // Readable while a port has fired; for the caller's event loop.
    virtual int fd() const = 0;

    // A fresh port that domain REMOTE may bind to (the frontend's half).
    virtual Result<Port> alloc_unbound(DomId remote) = 0;
    // Connects to REMOTE's unbound port (the backend's half).
    virtual Result<Port> bind_interdomain(DomId remote, Port remote_port) = 0;
    virtual Status unbind(Port port) = 0;

    // Signals the other end of PORT. An unbound port swallows it, as on Xen.
    virtual Status notify(Port port) = 0;
    // The next fired port, now masked; nullopt when none has fired.
    virtual Result<std::optional<Port>> pending() = 0;
    virtual Status unmask(Port port) = 0;

    // Whether PORT is still connected to a peer (EVTCHNOP_status says
    // interdomain). A peer that closes its end, or whose process or domain
    // dies, leaves ours unbound without a notification: this is how a
    // backend finds out that a frontend process was killed.
    virtual Result<bool> peer_bound(Port port) = 0;
};

}  // namespace xnet
