// The background closer: descriptors handed to it get closed, in order,
// and a caller can wait for those of one tag (a TAP's name) to be gone.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "runtime/closer.h"

using namespace xnet;

namespace {

// A pipe: its write end is what gets closed; its read end sees the EOF.
struct Pipe {
    UniqueFd r, w;
    Pipe() {
        int p[2];
        REQUIRE(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
        r = UniqueFd(p[0]);
        w = UniqueFd(p[1]);
    }
    // Whether the write end is closed: EOF on the read end, not EAGAIN.
    bool closed() const {
        char c;
        return ::read(r.get(), &c, 1) == 0;
    }
};

}  // namespace

TEST_CASE("closer: a descriptor handed over is taken and closed") {
    Pipe p;
    closer::close_later(std::move(p.w), "vif9.0");
    CHECK(!p.w);  // taken from the caller
    closer::wait_for("vif9.0");
    CHECK(p.closed());
}

TEST_CASE("closer: waiting for one tag: closed, and those handed over before it") {
    Pipe a, b;
    closer::close_later(std::move(a.w), "vif1.0");
    closer::close_later(std::move(b.w), "vif2.0");
    closer::wait_for("vif2.0");
    CHECK(b.closed());
    CHECK(a.closed());  // handed over first, closed first
}

TEST_CASE("closer: drain closes everything handed over so far") {
    Pipe p[3];
    for (auto& x : p)
        closer::close_later(std::move(x.w));
    closer::drain();
    for (auto& x : p)
        CHECK(x.closed());
}
