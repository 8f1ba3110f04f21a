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
#include <vector>

#include "xnet/error.h"
#include "xnet/fd.h"

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

    // Runs F once after DELAY, unless the returned Timer is gone by then.
    Result<Timer> after(std::chrono::milliseconds delay, std::function<void()> f);
};

// Reactor on epoll(7).
class EpollReactor final : public Reactor {
  public:
    static Result<std::unique_ptr<EpollReactor>> create();

    Status add(int fd, uint32_t events, Handler h) override;
    Status modify(int fd, uint32_t events) override;
    void remove(int fd) override;
    void defer(std::function<void()> f) override;

    // Dispatches events until stop(); waits at most TIMEOUT per round.
    Status run();
    // One round: waits up to TIMEOUT (-1: forever) and dispatches.
    Status run_once(int timeout_ms);
    void stop() { stopping_ = true; }
    // A daemon's ending: SIGTERM and SIGINT stop run() (they are blocked
    // and read from a signalfd), SIGPIPE is ignored (a peer closing a
    // socket is an error return, not a reason to die).
    Status stop_on_signals();

  private:
    explicit EpollReactor(UniqueFd ep) : ep_(std::move(ep)) {}
    struct Entry {
        uint32_t gen;
        std::shared_ptr<Handler> h;
    };
    UniqueFd ep_;
    UniqueFd signals_;
    std::map<int, Entry> handlers_;
    std::vector<std::function<void()>> deferred_;
    uint32_t next_gen_ = 1;
    bool stopping_ = false;
};

}  // namespace xnet
