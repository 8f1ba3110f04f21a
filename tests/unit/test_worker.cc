// A worker thread's loop: what is posted to it runs on its thread, and
// while the control thread holds it, none of its handlers runs.
#include <doctest/doctest.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "runtime/worker.h"

using namespace xnet;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<Worker> new_worker() {
    auto w = Worker::start("xnet-test-w", 0ms);
    REQUIRE(w);
    return std::move(*w);
}

// Until PRED holds, or 5 s (a hang fails the test rather than blocking it).
template <class Pred>
bool eventually(Pred pred) {
    auto end = std::chrono::steady_clock::now() + 5s;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

}  // namespace

TEST_CASE("worker: work deferred under a hold runs on the worker's thread") {
    auto w = new_worker();
    std::atomic<bool> ran{false};
    std::thread::id where;
    {
        auto h = w->hold();
        w->reactor().defer([&] {
            where = std::this_thread::get_id();
            ran = true;
        });
    }  // released: the worker wakes to run it
    REQUIRE(eventually([&] { return ran.load(); }));
    CHECK(where != std::this_thread::get_id());
}

TEST_CASE("worker: no handler runs while the worker is held") {
    auto w = new_worker();
    UniqueFd ev(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    REQUIRE(ev);
    std::atomic<int> calls{0};
    {
        auto h = w->hold();
        REQUIRE(w->reactor().add(ev.get(), EPOLLIN, [&](uint32_t) {
            uint64_t v;
            (void)!read(ev.get(), &v, sizeof v);
            ++calls;
        }));
    }
    {
        auto h = w->hold();
        uint64_t one = 1;
        REQUIRE(write(ev.get(), &one, sizeof one) == sizeof one);
        std::this_thread::sleep_for(50ms);  // time enough for an unheld loop to run it
        CHECK(calls.load() == 0);
    }
    CHECK(eventually([&] { return calls.load() == 1; }));
    auto h = w->hold();
    w->reactor().remove(ev.get());
}

TEST_CASE("worker: post() from another thread, and a clean stop with work pending") {
    auto w = new_worker();
    std::atomic<int> n{0};
    std::thread t([&] {
        for (int i = 0; i < 100; ++i)
            w->reactor().post([&] { ++n; });
    });
    t.join();
    CHECK(eventually([&] { return n.load() == 100; }));
    w.reset();  // joins: returns rather than hangs
    CHECK(n.load() == 100);
}
