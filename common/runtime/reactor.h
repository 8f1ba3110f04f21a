// The event loop daemons run on. Components never own it: they are handed
// a Reactor& and register their descriptors and timers with it, so a test
// or another program can drive them from its own loop (as QEMU's
// libvhost-user leaves the loop to its user).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "runtime/blocking.h"
#include "runtime/error.h"
#include "runtime/fd.h"

namespace xnet {

class Reactor;

// A one-shot timer; cancelled when destroyed. Move-only.
class Timer {
  public:
    Timer() = default;
    Timer(Timer&& o) noexcept { *this = std::move(o); }
    Timer& operator=(Timer&& o) noexcept;
    ~Timer() { cancel(); }
    void cancel();
    explicit operator bool() const { return reactor_ != nullptr; }

  private:
    friend class Reactor;
    Timer(Reactor* r, UniqueFd fd) : reactor_(r), fd_(std::move(fd)) {}
    Reactor* reactor_ = nullptr;
    UniqueFd fd_;
};

class Reactor {
  public:
    using Handler = std::function<void(uint32_t events)>;
    virtual ~Reactor() = default;

    // Calls H with the epoll events whenever FD has any of EVENTS.
    virtual Status add(int fd, uint32_t events, Handler h) = 0;
    virtual Status modify(int fd, uint32_t events) = 0;
    // Safe from inside any handler, the removed one's included.
    virtual void remove(int fd) = 0;

    // Runs F once, after the handler now running returns.
    virtual void defer(std::function<void()> f) = 0;
    // Runs F once on the loop's own thread, soon. The one call that is
    // safe from any thread (a worker telling the control loop of a fault).
    virtual void post(std::function<void()> f) = 0;

    // Runs F once after DELAY, unless the returned Timer is gone by then.
    Result<Timer> after(std::chrono::milliseconds delay, std::function<void()> f);
};

// A descriptor watched by a reactor, for as long as this lives: removed
// when destroyed or reset. Move-only; the owner keeps the descriptor open
// at least as long.
class Registration {
  public:
    Registration() = default;
    // Calls H with the epoll events whenever FD has any of EVENTS, from now
    // until this is reset (what it watched before is let go first).
    Status watch(Reactor& r, int fd, uint32_t events, std::function<void(uint32_t)> h);
    Registration(Registration&& o) noexcept { *this = std::move(o); }
    Registration& operator=(Registration&& o) noexcept;
    ~Registration() { reset(); }
    // Stops watching now (safe from inside the handler itself).
    void reset();
    // Watches for EVENTS instead (0: none for now, still registered).
    Status modify(uint32_t events);
    explicit operator bool() const { return r_ != nullptr; }

  private:
    Reactor* r_ = nullptr;
    int fd_ = -1;
};

// Work deferred on an object's behalf (Reactor::defer): it runs once after
// the handler now running returns, unless its owner is destroyed or calls
// cancel() first. An owner holds one as a member instead of handing the
// loop a raw `this` that may be gone by the time the work runs.
class DeferredWork {
  public:
    DeferredWork() = default;
    DeferredWork(const DeferredWork&) = delete;
    DeferredWork& operator=(const DeferredWork&) = delete;
    ~DeferredWork() { cancel(); }
    void defer(Reactor& r, std::function<void()> f);
    // Drops everything deferred so far; later defer() calls run as usual.
    void cancel();

  private:
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// What the daemons call a stall (EpollReactor::report_stalls): far longer
// than any handler of theirs should run, since one vif's handler holds up
// all the others, yet not so short that a loaded machine or a sanitizer
// build would log it all the time.
inline constexpr std::chrono::milliseconds kStallReport{200};

// Reactor on epoll(7).
class EpollReactor final : public Reactor {
  public:
    static Result<std::unique_ptr<EpollReactor>> create();

    Status add(int fd, uint32_t events, Handler h) override;
    Status modify(int fd, uint32_t events) override;
    void remove(int fd) override;
    void defer(std::function<void()> f) override;
    void post(std::function<void()> f) override;
    // Wakes the loop from its wait (from any thread): it looks at its
    // descriptors and deferred work again.
    void wake();
    // Runs each round's handlers holding ROUND, and waits without it: a
    // thread that takes it may then add, remove and defer from outside
    // the loop (Worker::Hold). Set before run().
    void lock_rounds(std::mutex* round) { round_ = round; }

    // Dispatches events until stop(); waits at most TIMEOUT per round.
    Status run();
    // One round: waits up to TIMEOUT (-1: forever) and dispatches.
    Status run_once(int timeout_ms);
    void stop() { stopping_ = true; }
    // A handler that runs longer than OVER holds up every other descriptor
    // (each vif of a daemon): such a stall is logged as a warning, with its
    // length and the calls it waited on (blocking.h), and counted. Off
    // (zero) by default.
    void report_stalls(std::chrono::milliseconds over) { stall_over_ = over; }
    struct Stalls {
        uint64_t count = 0;                    // handlers that ran past the threshold
        std::chrono::milliseconds longest{0};  // the longest of those
        // The longest handler of all, stall or not (while reported): what a
        // fault's teardown costs every other vif (the bench's fault.stall_ms).
        std::chrono::microseconds longest_any{0};
    };
    const Stalls& stalls() const { return stalls_; }
    // Starts the tally again (the control socket's "loop reset").
    void reset_stalls() { stalls_ = {}; }
    // A daemon's ending: SIGTERM and SIGINT stop run() (they are blocked
    // and read from a signalfd), SIGPIPE is ignored (a peer closing a
    // socket is an error return, not a reason to die).
    Status stop_on_signals();

  private:
    explicit EpollReactor(UniqueFd ep, UniqueFd wake)
        : ep_(std::move(ep)), wake_(std::move(wake)) {}
    void run_posted();
    using Clock = std::chrono::steady_clock;
    // When a handler started and what had been waited on by then; empty
    // (and timed() does nothing) while stalls are not reported.
    struct Started {
        Clock::time_point at;
        blocking::Tallies tallies;
    };
    Started start() const;
    void timed(const Started& s, int fd);
    struct Entry {
        uint32_t gen;
        std::shared_ptr<Handler> h;
    };
    UniqueFd ep_;
    UniqueFd wake_;  // an eventfd: post() and wake()
    std::mutex posted_m_;
    std::vector<std::function<void()>> posted_;
    std::mutex* round_ = nullptr;
    UniqueFd signals_;
    std::map<int, Entry> handlers_;
    std::vector<std::function<void()>> deferred_;
    uint32_t next_gen_ = 1;
    bool stopping_ = false;
    std::chrono::milliseconds stall_over_{0};
    Stalls stalls_;
};

}  // namespace xnet
