// The local network device of one end of a vif, as its state machine uses
// it: queues to read and write frames, the offloads the reader takes, and
// the link settings a handshake makes (carrier, MTU, MAC, up, GSO size).
// On a host it is a TAP (open_tap_link); the unit tests drive both state
// machines with a fake one, without root and without touching the host.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "device/tap.h"
#include "runtime/error.h"

namespace xnet {

class Link {
  public:
    virtual ~Link() = default;
    virtual const std::string& name() const = 0;
    // Queue I, 0 being there from the start; the others made on first use
    // and kept until drop_queues().
    virtual Result<LocalPort*> queue(unsigned i) = 0;
    virtual void drop_queues() = 0;
    virtual bool has_extra_queues() const = 0;

    // Sets the offloads (ethtool -k shows them so); wanted_offload() is
    // what its user last asked for, by set_offload or ethtool -K.
    virtual Status set_offload(TapOffload o) = 0;
    virtual Result<TapOffload> wanted_offload() = 0;
    virtual Status set_carrier(bool up) = 0;
    virtual Status set_up(bool up) = 0;
    virtual Status set_mtu(unsigned mtu) = 0;
    virtual Status set_mac(const std::array<uint8_t, 6>& mac) = 0;
    virtual Status set_gso_max_size(unsigned bytes) = 0;
    // The device goes with its last descriptor (a persistent one too).
    virtual void remove() = 0;
};

// What a handshake sets on its link before the peer connects: the link is
// up, its carrier down until the rings are there. (Its offloads are the
// end's policy's: offload::TapSync sets them.)
struct LinkSetup {
    std::optional<std::array<uint8_t, 6>> mac;  // none: the kernel's own
    unsigned mtu = 0;                           // 0: the kernel's default
    unsigned gso_max_size = 0;
};
Status prepare_link(Link& l, const LinkSetup& s);

// Opens the link NAME, or attaches to it if it exists; PERSISTENT: it
// survives the daemon (kill -9, restart) with its bridge membership.
using LinkOpener =
    std::function<Result<std::unique_ptr<Link>>(const std::string& name, bool persistent)>;

// The TAP of that name, in this process's network namespace.
Result<std::unique_ptr<Link>> open_tap_link(const std::string& name, bool persistent);

}  // namespace xnet
