#include "runtime/blocking.h"

#include <algorithm>

#include <fmt/format.h>

namespace xnet::blocking {
namespace {

thread_local Tallies mine;

const char* name(size_t s) {
    switch (Service(s)) {
        case Service::xenstore:
            return "xenstore";
        case Service::grants:
            return "grants";
        case Service::events:
            return "event channels";
        case Service::tap:
            return "TAP";
    }
    return "?";
}

}  // namespace

const Tallies& tallies() {
    return mine;
}

Scope::~Scope() {
    auto& t = mine[size_t(s_)];
    ++t.calls;
    t.time += std::chrono::steady_clock::now() - t0_;
}

std::string describe(const Tallies& before, const Tallies& after) {
    std::array<size_t, kServices> order{};
    for (size_t i = 0; i < kServices; ++i)
        order[i] = i;
    auto spent = [&](size_t i) { return after[i].time - before[i].time; };
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return spent(a) > spent(b); });
    std::string out;
    for (size_t i : order) {
        uint64_t calls = after[i].calls - before[i].calls;
        if (!calls) continue;
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(spent(i)).count();
        out += fmt::format("{}{} {} call{} {} ms", out.empty() ? "" : ", ", name(i), calls,
                           calls == 1 ? "" : "s", ms);
    }
    return out;
}

}  // namespace xnet::blocking
