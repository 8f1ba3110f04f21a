// The ring fuzz harnesses (tests/fuzz/ring_harness.cc) replayed over
// generated inputs, so every run of the unit tests (and the sanitizer
// build in CI) puts the two ends' ring parsers through a few thousand
// hostile peers; `make fuzz` explores further with libFuzzer. Inputs are
// the programs that move real frames (ring_programs.cc), each with bytes
// changed at random, and pure noise. A broken property aborts the test
// binary with the property's line.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "tests/fuzz/ring_harness.h"
#include "tests/fuzz/ring_programs.h"

namespace {

// xorshift64*: the same inputs on every run.
struct Rng {
    uint64_t s;
    uint64_t next() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545f4914f6cdd1dull;
    }
};

template <class F>
void replay(F harness, bool backend, uint64_t seed, int n) {
    Rng rng{seed};
    auto programs = xt::ring_programs(backend);
    std::vector<uint8_t> in;
    for (const auto& [name, p] : programs) {
        CAPTURE(name);
        in.assign(p.str().begin(), p.str().end());
        CHECK(harness(in.data(), in.size()) == 0);
    }
    for (int i = 0; i < n; ++i) {
        CAPTURE(i);
        if (i % 4 == 3) {  // noise
            in.resize(rng.next() % 4096);
            for (auto& b : in)
                b = uint8_t(rng.next());
        } else {  // a working program, a few bytes changed, maybe cut or doubled
            const auto& s = programs[rng.next() % programs.size()].second.str();
            in.assign(s.begin(), s.end());
            if (rng.next() % 4 == 0) in.insert(in.end(), s.begin() + 1, s.end());
            for (int k = 1 + int(rng.next() % 4); k > 0; --k)
                in[1 + rng.next() % (in.size() - 1)] = uint8_t(rng.next());
            if (rng.next() % 8 == 0) in.resize(1 + rng.next() % in.size());
        }
        CHECK(harness(in.data(), in.size()) == 0);
    }
}

}  // namespace

TEST_CASE("ring fuzz replay: the backend against 3000 hostile frontends") {
    replay(xt::fuzz_backend_rings, true, 0x9e3779b97f4a7c15ull, 3000);
}

TEST_CASE("ring fuzz replay: the frontend against 3000 hostile backends") {
    replay(xt::fuzz_frontend_rings, false, 0xd1b54a32d192ed03ull, 3000);
}
