// The event loop's own behaviour: timers, deferred work, and the stall
// report that names a handler holding up all the others.
#include <doctest/doctest.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <thread>

#include "runtime/reactor.h"

using namespace xnet;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<EpollReactor> new_loop() {
    auto r = EpollReactor::create();
    REQUIRE(r);
    return std::move(*r);
}

// An eventfd that is readable at once, and a handler that drains it.
struct Ready {
    UniqueFd fd{eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC)};
    void drain() const {
        uint64_t v;
        (void)!read(fd.get(), &v, sizeof v);
    }
};

}  // namespace

TEST_CASE("reactor: a timer fires once, and not at all once cancelled") {
    auto loop = new_loop();
    int fired = 0, cancelled = 0;
    auto t = loop->after(1ms, [&] { ++fired; });
    REQUIRE(t);
    auto c = loop->after(1ms, [&] { ++cancelled; });
    REQUIRE(c);
    c->cancel();
    for (int i = 0; i < 3; ++i)
        REQUIRE(loop->run_once(20));
    CHECK(fired == 1);
    CHECK(cancelled == 0);
}

TEST_CASE("reactor: work deferred by a handler runs after it, in the same round") {
    auto loop = new_loop();
    Ready r;
    std::vector<int> order;
    REQUIRE(loop->add(r.fd.get(), EPOLLIN, [&](uint32_t) {
        r.drain();
        loop->defer([&] { order.push_back(2); });
        order.push_back(1);
    }));
    REQUIRE(loop->run_once(100));
    CHECK(order == std::vector<int>{1, 2});
}

TEST_CASE("reactor: a handler that holds the loop past the threshold is counted") {
    auto loop = new_loop();
    Ready slow, quick;
    REQUIRE(loop->add(slow.fd.get(), EPOLLIN, [&](uint32_t) {
        slow.drain();
        std::this_thread::sleep_for(60ms);
    }));
    REQUIRE(loop->add(quick.fd.get(), EPOLLIN, [&](uint32_t) { quick.drain(); }));

    SUBCASE("off by default") {
        REQUIRE(loop->run_once(100));
        CHECK(loop->stalls().count == 0);
    }
    SUBCASE("reported when on") {
        loop->report_stalls(20ms);
        REQUIRE(loop->run_once(100));
        CHECK(loop->stalls().count == 1);  // the slow one, not the quick one
        CHECK(loop->stalls().longest >= 60ms);
        loop->defer([] { std::this_thread::sleep_for(30ms); });
        REQUIRE(loop->run_once(0));
        CHECK(loop->stalls().count == 2);  // deferred work is timed too
        CHECK(loop->stalls().longest >= 60ms);
        CHECK(loop->stalls().longest_any >= 60ms);
        loop->reset_stalls();
        CHECK(loop->stalls().count == 0);
        CHECK(loop->stalls().longest_any == 0ms);
    }
    SUBCASE("the longest handler is kept below the threshold too") {
        loop->report_stalls(200ms);
        REQUIRE(loop->run_once(100));
        CHECK(loop->stalls().count == 0);
        CHECK(loop->stalls().longest_any >= 60ms);
    }
}

TEST_CASE("blocking: the calls between two snapshots, the costliest first") {
    using namespace xnet::blocking;
    Tallies before = tallies();
    { Scope s(Service::tap); }
    {
        Scope s(Service::xenstore);
        std::this_thread::sleep_for(20ms);
    }
    { Scope s(Service::xenstore); }
    Tallies after = tallies();
    CHECK(after[size_t(Service::xenstore)].calls - before[size_t(Service::xenstore)].calls == 2);
    std::string d = describe(before, after);
    CHECK(d.rfind("xenstore 2 calls ", 0) == 0);
    CHECK(d.find(", TAP 1 call ") != std::string::npos);
    CHECK(d.find("grants") == std::string::npos);  // not called: not named
    CHECK(describe(after, after).empty());
}

TEST_CASE("reactor: deferred work does not outlive its owner, and cancel drops it") {
    auto loop = new_loop();
    int ran = 0;
    {
        DeferredWork owner;
        owner.defer(*loop, [&] { ++ran; });
    }  // gone before the loop got to it
    REQUIRE(loop->run_once(0));
    CHECK(ran == 0);

    DeferredWork owner;
    owner.defer(*loop, [&] { ran += 10; });
    owner.cancel();
    owner.defer(*loop, [&] { ran += 100; });  // after the cancel: runs
    REQUIRE(loop->run_once(0));
    CHECK(ran == 100);
}

TEST_CASE("reactor: a registration watches until it is reset, moved or destroyed") {
    auto loop = new_loop();
    Ready r;
    int calls = 0;
    Registration watched;
    REQUIRE(watched.watch(*loop, r.fd.get(), EPOLLIN, [&](uint32_t) { ++calls; }));
    auto* reg = &watched;
    REQUIRE(loop->run_once(0));
    CHECK(calls == 1);  // readable and not drained: it would fire every round

    REQUIRE(reg->modify(0));  // registered, watching nothing
    REQUIRE(loop->run_once(0));
    CHECK(calls == 1);
    REQUIRE(reg->modify(EPOLLIN));
    Registration moved = std::move(*reg);
    CHECK_FALSE(*reg);
    REQUIRE(loop->run_once(0));
    CHECK(calls == 2);

    moved.reset();
    CHECK_FALSE(moved);
    CHECK_FALSE(moved.modify(EPOLLIN));
    REQUIRE(loop->run_once(0));
    CHECK(calls == 2);
    // The descriptor is free for another registration.
    Registration again;
    REQUIRE(again.watch(*loop, r.fd.get(), EPOLLIN, [&](uint32_t) { calls += 10; }));
    { Registration gone = std::move(again); }
    REQUIRE(loop->run_once(0));
    CHECK(calls == 2);
}
