// The credit scheduler of a vif's transmit (netif/credit.h), against a fake
// clock: a time point handed in, not read.
#include <doctest/doctest.h>

#include <vector>

#include "netif/credit.h"

using namespace xnet;
using namespace xnet::netif;
using namespace std::chrono_literals;
using Clock = Credit::Clock;

namespace {

const Clock::time_point t0{};

// A sender that always has a SIZE-byte packet ready, for DURATION from t0:
// each packet goes when the credit allows it, else at retry_at() plus
// LATE (a timer that fires late). The bytes sent in each interval of the
// rate's grid.
std::vector<uint64_t> saturate(Credit& c, uint64_t size, Clock::duration duration,
                               Clock::duration late = 0us) {
    std::chrono::microseconds interval(c.rate().usec);
    std::vector<uint64_t> per_interval(size_t(duration / interval) + 1);
    auto t = t0;
    // Far more packets than the credit lets through: a credit that never
    // makes the sender wait fails here rather than hanging the test.
    const uint64_t most = 2 * (size_t(duration / interval) + 2) * max_burst(c.rate()) / size + 16;
    for (uint64_t sent = 0; t < t0 + duration;) {
        if (c.allows(size, t)) {
            if (++sent >= most) FAIL("the credit let " << sent << " packets through");
            c.charge(size);
            per_interval[size_t((t - t0) / interval)] += size;
        } else {
            REQUIRE(c.retry_at() > t);  // a wait always ends later
            t = c.retry_at() + late;
        }
    }
    return per_interval;
}

}  // namespace

TEST_CASE("credit: unlimited lets everything go and keeps no count") {
    Credit c;
    c.set(Rate{}, t0);
    for (int i = 0; i < 1000; ++i) {
        CHECK(c.allows(65536, t0));
        c.charge(65536);
    }
    CHECK(c.remaining() == 0);
}

TEST_CASE("credit: bytes per interval never above the credit, and the rate is reached") {
    const Rate r{62500, 50000};  // 10 Mbit/s, xl's default interval
    for (uint64_t size : {60, 1514, 9000, 65536}) {
        CAPTURE(size);
        Credit c;
        c.set(r, t0);
        auto got = saturate(c, size, 2s);
        uint64_t sum = 0;
        for (size_t k = 0; k < got.size(); ++k) {
            CAPTURE(k);
            sum += got[k];
            // What was left of the intervals before carries: in all, never
            // more than one interval's credit per interval begun.
            CHECK(sum <= (k + 1) * r.bytes + (size > r.bytes ? max_burst(r) : 0));
        }
        // 40 intervals in 2 s: all of their credit used, but for the
        // packet that did not fit at the end.
        uint64_t all = 40 * r.bytes;
        CHECK(sum <= all + r.bytes);
        CHECK(sum + size + r.bytes >= all);
    }
}

TEST_CASE("credit: a timer that fires late does not let more through") {
    const Rate r{10000, 1000};
    Credit c;
    c.set(r, t0);
    auto got = saturate(c, 1500, 1s, 300us);
    uint64_t sum = 0;
    for (size_t k = 0; k < got.size(); ++k) {
        sum += got[k];
        CHECK(sum <= (k + 1) * r.bytes);
    }
}

TEST_CASE("credit: what an interval left over carries to the next") {
    Credit c;
    c.set(Rate{10000, 1000}, t0);
    REQUIRE(c.allows(9900, t0));
    c.charge(9900);
    CHECK(c.remaining() == 100);
    CHECK_FALSE(c.allows(200, t0 + 10us));  // the interval's credit is spent
    CHECK(c.retry_at() == t0 + 1ms);
    CHECK_FALSE(c.allows(200, t0 + 999us));  // still waiting
    REQUIRE(c.allows(200, t0 + 1ms));
    CHECK(c.remaining() == 10100);  // the 100 left, and the new interval's
    c.charge(200);
    CHECK(c.allows(9900, t0 + 1ms));
}

TEST_CASE("credit: the burst is capped, and a 64 KiB packet always goes at last") {
    SUBCASE("a credit above 128 KiB: at most one interval's in hand") {
        Credit c;
        c.set(Rate{100000, 1000}, t0);
        c.charge(90000);
        CHECK_FALSE(c.allows(120000, t0));
        CHECK_FALSE(c.allows(120000, t0 + 1ms));  // 10000 + 100000 still short
        REQUIRE(c.allows(120000, t0 + 2ms));
        CHECK(c.remaining() == 131072);  // capped at 128 KiB
    }
    SUBCASE("a small credit: intervals add up to the packet") {
        Credit c;
        c.set(Rate{1000, 1000}, t0);
        auto t = t0;
        int waits = 0;
        while (!c.allows(65536, t)) {
            t = c.retry_at();
            REQUIRE(++waits < 100);
        }
        CHECK(waits == 65);  // 1000 to start with, then 65 intervals of 1000
        CHECK(t == t0 + 65ms);
    }
}

TEST_CASE("credit: a live change of the rate takes effect at once") {
    Credit c;
    c.set(Rate{1000000, 50000}, t0);
    c.set(Rate{1000, 1000}, t0 + 5ms);
    CHECK(c.remaining() == 1000);  // cut to the new interval's credit
    CHECK_FALSE(c.allows(1500, t0 + 5ms));
    CHECK(c.retry_at() == t0 + 6ms);
    c.set(Rate{}, t0 + 5500us);  // lifted: a waiting packet goes
    CHECK(c.allows(1500, t0 + 5500us));
    c.set(Rate{5000, 1000}, t0 + 7ms);  // from unlimited: a full interval's credit
    CHECK(c.remaining() == 5000);
}

TEST_CASE("rate key: libxl's BYTES,USECS") {
    auto r = parse_rate_key("62500,50000");
    REQUIRE(r);
    CHECK(*r == Rate{62500, 50000});
    CHECK(r->bits_per_second() == 10000000);
    CHECK(rate_key(*r) == "62500,50000");
    CHECK(describe(*r) == "10 Mbit/s (62500 bytes per 50 ms)");
    CHECK(describe(Rate{}) == "unlimited");
    for (const char* bad : {"", "abc", "1,", ",5", "1,2,3", "0,50000", "100,0", "1,4294967296",
                            "-1,5", "1 ,5", "62500;50000", "99999999999999999999,1"}) {
        CAPTURE(bad);
        auto b = parse_rate_key(bad);
        REQUIRE_FALSE(b);
        CHECK(b.error().message().find("rate '") != std::string::npos);
    }
}

TEST_CASE("rate: xl's RATE[@INTERVAL]") {
    struct Case {
        const char* text;
        Rate want;
    };
    for (auto [text, want] :
         {Case{"10Mb/s", {62500, 50000}}, Case{"2000000B/s@50ms", {100000, 50000}},
          Case{"1Gb/s@10ms", {1250000, 10000}}, Case{"5MB/s@20000us", {100000, 20000}},
          Case{"8Kb/s@1s", {1000, 1000000}}, Case{"off", {}}, Case{"unlimited", {}}}) {
        CAPTURE(text);
        auto r = parse_xl_rate(text);
        REQUIRE(r);
        CHECK(*r == want);
    }
    for (const char* bad : {"", "10Mb", "10Xb/s", "10Mb/s@0ms", "10Mb/s@5min", "1b/s", "Mb/s",
                            "10Mb/s@", "10 Mb/s", "99999999999999999999Gb/s", "10Mb/s@4295s"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_xl_rate(bad));
    }
}
