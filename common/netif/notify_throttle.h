// A bound on what a peer's pointless notifications cost us. A peer that
// follows ring.h notifies only when it published work we asked to hear of;
// one that fires its event channel in a loop (an "event storm") would have
// us wake, find nothing and unmask for ever, taking the thread every other
// vif shares. So wakeups that find no work are counted per window, and
// past the budget the port stays masked for a pause before we look again:
// a storm then costs a few thousand wakeups a second, while a peer whose
// notifications bring work is never held back.
#pragma once

#include <chrono>
#include <cstdint>

namespace xnet {

class NotifyThrottle {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::milliseconds kWindow{10};
    static constexpr unsigned kBudget = 20;  // idle wakeups per window: 2000/s
    static constexpr std::chrono::milliseconds kPause{1};

    // A wakeup found no work: true if the port should stay masked for
    // kPause (the caller re-arms it and looks at its rings then).
    bool idle_wakeup(Clock::time_point now = Clock::now()) {
        if (now - window_start_ >= kWindow) {
            window_start_ = now;
            idle_ = 0;
        }
        return ++idle_ > kBudget;
    }

  private:
    Clock::time_point window_start_{};
    unsigned idle_ = 0;
};

}  // namespace xnet
