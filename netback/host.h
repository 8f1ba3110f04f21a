// Where a vif's queues run. On the daemon's own loop (InlineHost: one
// thread for everything, as the unit tests drive it), or on a worker
// thread of their own (WorkerHost, `xnetback --threads N`), each worker
// with its own loop and grant-table handle, the vifs spread over them.
// The vif lives on the control thread (xenstore, the control socket): it
// touches what its queues share (their rules, counters, the queues
// themselves) only inside hold(), and a queue tells its vif of a fault
// through to_control().
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "platform/gnttab.h"
#include "platform/platform.h"
#include "runtime/reactor.h"
#include "runtime/worker.h"

namespace xnet::netback {

class QueueHost {
  public:
    virtual ~QueueHost() = default;
    virtual Reactor& reactor() = 0;
    virtual GrantTable& gnttab() = 0;
    // While it lives, none of this host's queues runs.
    virtual Worker::Hold hold() = 0;
    // Runs F on the control thread: at once when that is this one, else
    // posted to the control loop. F must check that what it names lives.
    virtual void to_control(std::function<void()> f) = 0;
    // The vifs placed here, for spreading them (Backend).
    unsigned vifs = 0;
};

// The queues on the control loop itself: nothing to hold.
class InlineHost final : public QueueHost {
  public:
    InlineHost(Reactor& r, GrantTable& gt) : r_(r), gt_(gt) {}
    Reactor& reactor() override { return r_; }
    GrantTable& gnttab() override { return gt_; }
    Worker::Hold hold() override { return {}; }
    void to_control(std::function<void()> f) override { f(); }

  private:
    Reactor& r_;
    GrantTable& gt_;
};

// The queues on a worker thread, with a grant-table handle of its own
// (the sim's client keeps per-handle state; Xen's handles are cheap).
class WorkerHost final : public QueueHost {
  public:
    static Result<std::unique_ptr<WorkerHost>> start(unsigned index, const Platform& p,
                                                     Reactor& control,
                                                     std::chrono::milliseconds stall_report);
    Reactor& reactor() override { return worker_->reactor(); }
    GrantTable& gnttab() override { return *gt_; }
    Worker::Hold hold() override { return worker_->hold(); }
    void to_control(std::function<void()> f) override { control_.post(std::move(f)); }
    Worker& worker() { return *worker_; }

  private:
    WorkerHost(Reactor& control, std::unique_ptr<GrantTable> gt, std::unique_ptr<Worker> w)
        : control_(control), gt_(std::move(gt)), worker_(std::move(w)) {}
    Reactor& control_;
    std::unique_ptr<GrantTable> gt_;
    std::unique_ptr<Worker> worker_;  // last: stopped before the table goes
};

}  // namespace xnet::netback
