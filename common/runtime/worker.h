// A thread with an event loop of its own, for a daemon's datapath: the
// daemon's control thread (xenstore, the control socket) hands it queues
// and keeps their state. The worker runs its handlers in rounds under its
// lock, and the control thread touches what the worker's queues use only
// while it holds that lock (Worker::Hold), between two rounds: the worker
// is then waiting in epoll or blocked on the lock, never in a handler.
// Linux's netback has a kernel thread per queue for the same reason: each
// is a task the scheduler gives a share of the CPU, where one loop for all
// vifs gets one task's share however many guests it serves.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/reactor.h"

namespace xnet {

class Worker {
  public:
    // Starts the thread NAME (as top and perf show it; at most 15
    // characters), its loop reporting stalls over STALL_REPORT.
    static Result<std::unique_ptr<Worker>> start(std::string name,
                                                 std::chrono::milliseconds stall_report);
    // Stops the loop after its round and joins the thread.
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    const std::string& name() const { return name_; }
    // The worker's loop: add, remove, defer and after() only under a
    // Hold, or from the worker's own handlers.
    Reactor& reactor() { return *loop_; }

    // While it lives, the worker runs no handler. Released, it wakes the
    // worker to look at what the holder registered or deferred. A default
    // one holds nothing (a queue that runs on the holder's own loop).
    class Hold {
      public:
        Hold() = default;
        Hold(Hold&&) = default;
        Hold& operator=(Hold&&) = default;
        ~Hold();

      private:
        friend class Worker;
        explicit Hold(Worker& w) : w_(&w), lock_(w.round_) {}
        Worker* w_ = nullptr;
        std::unique_lock<std::mutex> lock_;
    };
    [[nodiscard]] Hold hold() { return Hold(*this); }

    // The loop's tally (EpollReactor::Stalls), read between two rounds.
    EpollReactor::Stalls stalls();
    void reset_stalls();

  private:
    Worker(std::string name, std::unique_ptr<EpollReactor> loop)
        : name_(std::move(name)), loop_(std::move(loop)) {}
    std::string name_;
    std::unique_ptr<EpollReactor> loop_;
    std::mutex round_;  // held by the worker for each round of handlers
    std::thread thread_;
};

}  // namespace xnet
