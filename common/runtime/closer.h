// Closing some descriptors takes the kernel a while. The last descriptor
// of a TAP unregisters its device, and detaching one queue of a
// multi-queue TAP waits for the readers of the old queue set: both wait
// for an RCU grace period or more (tens of milliseconds on a busy host). A
// daemon's loop that closed them inline would hold up every other vif for
// that long whenever one vif is torn down, so they are handed to one
// background thread, which closes them in the order given.
#pragma once

#include <string>
#include <string_view>

#include "runtime/fd.h"

namespace xnet::closer {

// Closes FD soon, off the calling thread. TAG names what it belongs to (a
// TAP's name) for wait_for(); empty: nothing waits for it.
void close_later(UniqueFd fd, std::string tag = {});
// Returns once nothing tagged TAG waits to be closed: a TAP opened again
// under the name of one being removed must not attach to the old device.
void wait_for(std::string_view tag);
// Returns once everything handed over so far is closed.
void drain();

}  // namespace xnet::closer
