#include "runtime/reactor.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/blocking.h"
#include "runtime/log.h"

namespace xnet {

Timer& Timer::operator=(Timer&& o) noexcept {
    if (this != &o) {
        cancel();
        reactor_ = std::exchange(o.reactor_, nullptr);
        fd_ = std::move(o.fd_);
    }
    return *this;
}

void Timer::cancel() {
    if (reactor_ && fd_) reactor_->remove(fd_.get());
    reactor_ = nullptr;
    fd_.reset();
}

Status Registration::watch(Reactor& r, int fd, uint32_t events, std::function<void(uint32_t)> h) {
    reset();
    XNET_TRY(r.add(fd, events, std::move(h)));
    r_ = &r;
    fd_ = fd;
    return {};
}

Registration& Registration::operator=(Registration&& o) noexcept {
    if (this != &o) {
        reset();
        r_ = std::exchange(o.r_, nullptr);
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

void Registration::reset() {
    if (r_) r_->remove(fd_);
    r_ = nullptr;
    fd_ = -1;
}

Status Registration::modify(uint32_t events) {
    if (!r_) return fail(EBADF, "modifying a descriptor no longer watched");
    return r_->modify(fd_, events);
}

void DeferredWork::defer(Reactor& r, std::function<void()> f) {
    r.defer([alive = alive_, f = std::move(f)] {
        if (*alive) f();
    });
}

void DeferredWork::cancel() {
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);
}

Result<Timer> Reactor::after(std::chrono::milliseconds delay, std::function<void()> f) {
    UniqueFd fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!fd) return fail(errno, "creating a timer");
    auto ms = std::max<long long>(delay.count(), 1);
    itimerspec its{};
    its.it_value.tv_sec = ms / 1000;
    its.it_value.tv_nsec = (ms % 1000) * 1000000;
    if (timerfd_settime(fd.get(), 0, &its, nullptr) < 0) return fail(errno, "arming a timer");
    int raw = fd.get();
    auto st = add(raw, EPOLLIN, [this, raw, f = std::move(f)](uint32_t) {
        // One shot: stop watching before running, so F may re-arm.
        remove(raw);
        f();
    });
    if (!st) return Unexpected{st.error()};
    return Timer(this, std::move(fd));
}

Result<std::unique_ptr<EpollReactor>> EpollReactor::create() {
    UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
    if (!ep) return fail(errno, "creating the event loop");
    UniqueFd wakeup(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!wakeup) return fail(errno, "creating the event loop's wakeup");
    std::unique_ptr<EpollReactor> r(new EpollReactor(std::move(ep), std::move(wakeup)));
    XNET_TRY(r->add(r->wake_.get(), EPOLLIN, [p = r.get()](uint32_t) { p->run_posted(); }));
    return r;
}

void EpollReactor::post(std::function<void()> f) {
    {
        std::lock_guard lock(posted_m_);
        posted_.push_back(std::move(f));
    }
    wake();
}

void EpollReactor::wake() {
    uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
}

void EpollReactor::run_posted() {
    uint64_t n;
    (void)!::read(wake_.get(), &n, sizeof n);
    std::vector<std::function<void()>> now;
    {
        std::lock_guard lock(posted_m_);
        now.swap(posted_);
    }
    for (const auto& f : now)
        f();
}

Status EpollReactor::add(int fd, uint32_t events, Handler h) {
    uint32_t gen = next_gen_++;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = (uint64_t(gen) << 32) | uint32_t(fd);
    if (epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
        return fail(errno, "watching descriptor " + std::to_string(fd));
    }
    handlers_[fd] = Entry{gen, std::make_shared<Handler>(std::move(h))};
    return {};
}

Status EpollReactor::modify(int fd, uint32_t events) {
    auto it = handlers_.find(fd);
    if (it == handlers_.end()) return fail(ENOENT, "re-arming descriptor " + std::to_string(fd));
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = (uint64_t(it->second.gen) << 32) | uint32_t(fd);
    if (epoll_ctl(ep_.get(), EPOLL_CTL_MOD, fd, &ev) < 0) {
        return fail(errno, "re-arming descriptor " + std::to_string(fd));
    }
    return {};
}

void EpollReactor::remove(int fd) {
    if (handlers_.erase(fd)) epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void EpollReactor::defer(std::function<void()> f) {
    deferred_.push_back(std::move(f));
}

Status EpollReactor::run_once(int timeout_ms) {
    std::unique_lock<std::mutex> round;
    if (round_) round = std::unique_lock(*round_);
    if (!deferred_.empty()) timeout_ms = 0;
    epoll_event evs[64];
    if (round_) round.unlock();  // a holder may come in while we wait
    int n = epoll_wait(ep_.get(), evs, 64, timeout_ms);
    if (round_) round.lock();
    if (n < 0 && errno != EINTR) return fail(errno, "waiting for events");
    for (int i = 0; i < n; ++i) {
        int fd = int(uint32_t(evs[i].data.u64));
        uint32_t gen = uint32_t(evs[i].data.u64 >> 32);
        auto it = handlers_.find(fd);
        // Removed (or removed and replaced) by an earlier handler this round.
        if (it == handlers_.end() || it->second.gen != gen) continue;
        auto h = it->second.h;  // keeps it alive if it removes itself
        Started s = start();
        (*h)(evs[i].events);
        timed(s, fd);
    }
    // What was deferred until now; what these defer runs next round, after
    // a look at the descriptors, so a queue that keeps rescheduling itself
    // (busy polling, a long backlog) does not starve the others.
    auto now = std::move(deferred_);
    deferred_.clear();
    for (const auto& f : now) {
        Started s = start();
        f();
        timed(s, -1);
    }
    return {};
}

EpollReactor::Started EpollReactor::start() const {
    if (!stall_over_.count()) return {};
    return {Clock::now(), blocking::tallies()};
}

void EpollReactor::timed(const Started& s, int fd) {
    if (s.at == Clock::time_point{}) return;  // not reporting when it started
    auto took = Clock::now() - s.at;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(took);
    stalls_.longest_any = std::max(stalls_.longest_any, us);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took);
    if (ms < stall_over_) return;
    ++stalls_.count;
    stalls_.longest = std::max(stalls_.longest, ms);
    auto waited = blocking::describe(s.tallies, blocking::tallies());
    std::string in = waited.empty() ? "" : "; waiting on " + waited;
    if (fd < 0) {
        log::warn("event loop held {} ms by deferred work{}", ms.count(), in);
    } else {
        log::warn("event loop held {} ms by descriptor {}'s handler{}", ms.count(), fd, in);
    }
}

Status EpollReactor::stop_on_signals() {
    signal(SIGPIPE, SIG_IGN);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigprocmask(SIG_BLOCK, &sigs, nullptr);
    signals_.reset(signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals_) return fail(errno, "creating the signal descriptor");
    return add(signals_.get(), EPOLLIN, [this](uint32_t) { stop(); });
}

Status EpollReactor::run() {
    stopping_ = false;
    while (!stopping_) {
        auto st = run_once(-1);
        if (!st) return st;
    }
    return {};
}

}  // namespace xnet
