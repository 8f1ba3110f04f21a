// Busy polling after work, as vhost-net's busyloop_timeout does: a ring
// that just had work is likely to get more within microseconds, while
// asking for a notification, sleeping and being woken costs tens of
// microseconds (an event channel upcall on Xen, an eventfd wakeup on a
// virtualised host). So an end that finds its ring empty soon after it
// found work looks again, from the reactor's deferred queue so that every
// other descriptor and queue keeps its turn, until the window has passed;
// only then does it set the ring's event index and sleep.
//
// The window restarts at every piece of work, so a busy ring is polled for
// as long as it stays busy, and an idle one costs nothing. A window of 0
// turns polling off.
#pragma once

#include <sched.h>

#include <chrono>

namespace xnet {

class BusyPoll {
  public:
    using Clock = std::chrono::steady_clock;

    explicit BusyPoll(std::chrono::microseconds window = std::chrono::microseconds{0})
        : window_(window) {}

    // Work was found: polling may go on for another window from now.
    void worked() {
        if (window_.count()) last_work_ = Clock::now();
    }

    // The ring was empty: true to look again later (the caller defers
    // itself), false to arm the notification and sleep.
    bool again() {
        if (!window_.count() || Clock::now() - last_work_ > window_) return false;
        // Whatever else wants this CPU runs first: polling only spends
        // time nobody else asked for.
        sched_yield();
        return true;
    }

  private:
    std::chrono::microseconds window_;
    Clock::time_point last_work_{};
};

}  // namespace xnet
