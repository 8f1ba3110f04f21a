// The extra-info slots that may follow a packet's first slot, on either
// ring (io/netif.h, "Extra Info"): each is a netif_extra_info laid over a
// request or response, chained by XEN_NETIF_EXTRA_FLAG_MORE. Both ends
// take them through one ExtraChain, so a hostile peer meets the same
// checks whichever end it attacks.
#pragma once

#include <cstring>

#include "netif/netif.h"
#include "runtime/error.h"

namespace xnet::netif {

// The GSO types this end advertised, and so accepts from its peer.
struct GsoAccepted {
    bool v4 = false, v6 = false;
};

// A ring slot read as the extra info it carries.
template <class Slot>
ExtraInfo as_extra(const Slot& slot) {
    static_assert(sizeof(Slot) >= sizeof(ExtraInfo));
    ExtraInfo e;
    std::memcpy(&e, &slot, sizeof e);
    return e;
}

class ExtraChain {
  public:
    explicit ExtraChain(GsoAccepted accepted) : accepted_(accepted) {}
    // Takes the next extra of the packet into META: a GSO one (a type this
    // end accepted, a non-zero MSS) sets its gso and gso_size; multicast
    // and hash extras are ignored (neither is negotiated by xnet); any other
    // type, or more extras than there are types, is a protocol error.
    // True if another extra follows.
    Result<bool> take(const ExtraInfo& e, Meta& meta);
    unsigned slots() const { return slots_; }

  private:
    GsoAccepted accepted_;
    unsigned slots_ = 0;
};

}  // namespace xnet::netif
