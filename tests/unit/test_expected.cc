// Expected and its propagation macros (runtime/expected.h): XNET_TRY passes
// an error up and lets success through; XNET_TRY_ASSIGN binds the value.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "runtime/error.h"

using namespace xnet;

namespace {

Result<int> number(bool ok, int v = 7) {
    if (!ok) return fail(EINVAL, "making a number");
    return v;
}

Status step(bool ok) {
    if (!ok) return fail(EIO, "taking a step");
    return {};
}

// Runs the steps in order; counts the ones reached.
Result<int> sum(bool a, bool b, bool c, int& reached) {
    reached = 0;
    XNET_TRY_ASSIGN(int x, number(a, 1));
    ++reached;
    XNET_TRY(step(b));
    ++reached;
    XNET_TRY_ASSIGN(auto y, number(c, 10));
    ++reached;
    return x + y;
}

Result<std::unique_ptr<int>> boxed(bool ok) {
    if (!ok) return fail(ENOMEM, "boxing");
    return std::make_unique<int>(3);
}

// A move-only value is moved out; an existing lvalue can be assigned.
Status unbox(bool ok, std::unique_ptr<int>& into) {
    XNET_TRY_ASSIGN(into, boxed(ok));
    return {};
}

// An error of another value type passes through (Result<int> into Status).
Status discard(bool ok) {
    XNET_TRY(number(ok));
    return {};
}

}  // namespace

TEST_CASE("XNET_TRY / XNET_TRY_ASSIGN: the value on success") {
    int reached = -1;
    auto r = sum(true, true, true, reached);
    REQUIRE(r);
    CHECK(*r == 11);
    CHECK(reached == 3);
}

TEST_CASE("XNET_TRY / XNET_TRY_ASSIGN: the first error, and nothing after it runs") {
    int reached = -1;
    auto r = sum(false, true, true, reached);
    REQUIRE(!r);
    CHECK(r.error().what == "making a number");
    CHECK(reached == 0);

    r = sum(true, false, true, reached);
    REQUIRE(!r);
    CHECK(r.error().code == EIO);
    CHECK(reached == 1);

    r = sum(true, true, false, reached);
    REQUIRE(!r);
    CHECK(r.error().code == EINVAL);
    CHECK(reached == 2);
}

TEST_CASE("XNET_TRY_ASSIGN: move-only values, assigned to an lvalue") {
    std::unique_ptr<int> p;
    REQUIRE(unbox(true, p));
    REQUIRE(p);
    CHECK(*p == 3);
    p.reset();
    auto st = unbox(false, p);
    REQUIRE(!st);
    CHECK(st.error().code == ENOMEM);
    CHECK(!p);
}

TEST_CASE("XNET_TRY: a Result's error returned from a Status function") {
    CHECK(discard(true));
    auto st = discard(false);
    REQUIRE(!st);
    CHECK(st.error().what == "making a number");
}
