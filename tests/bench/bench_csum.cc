// Checksum throughput next to memcpy, measured in the same run so that the
// ratios mean something on any machine.
//
// For each size (64, 1500, 9000, 65536 bytes) and two cache states:
//   hot  - one buffer, used again and again (stays in L1/L2);
//   cold - a 256 MiB pool of buffers visited in a random order (DRAM).
// it times memcpy, the scalar and AVX2 checksums, the fused copy+checksum,
// and (hot only) a naive 16-bit loop, the red flag to beat. Each figure is the
// best of several interleaved trials. Besides the table it prints one line per
// figure, "name value unit", which `make bench` collects.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "packet/csum.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace csum = xnet::csum;

volatile std::uint32_t g_sink;

constexpr std::size_t kPool = 256u << 20;  // cold working set per pool
constexpr int kTrials = 5;
constexpr double kTrialSeconds = 0.06;

// The slow, obvious loop: one 16-bit word at a time, carry folded each step.
std::uint32_t naive_sum(const std::uint8_t* p, std::size_t n) {
    std::uint32_t acc = 0;
    for (std::size_t i = 0; i + 1 < n; i += 2) {
        acc += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
        acc = (acc & 0xffff) + (acc >> 16);
    }
    if (n & 1) acc += static_cast<std::uint32_t>(p[n - 1]) << 8;
    return acc;
}

enum class Kernel { memcpy_, scalar, avx2, fused, naive };

const char* kernel_name(Kernel k) {
    switch (k) {
        case Kernel::memcpy_:
            return "memcpy";
        case Kernel::scalar:
            return "scalar";
        case Kernel::avx2:
            return "avx2";
        case Kernel::fused:
            return "fused";
        case Kernel::naive:
            return "naive";
    }
    return "?";
}

std::uint32_t run_once(Kernel k, std::uint8_t* dst, const std::uint8_t* src, std::size_t n) {
    switch (k) {
        case Kernel::memcpy_:
            std::memcpy(dst, src, n);
            return dst[n - 1];
        case Kernel::scalar:
            return csum::partial_using(csum::Impl::scalar, src, n);
        case Kernel::avx2:
            return csum::partial_using(csum::Impl::avx2, src, n);
        case Kernel::fused:
            return csum::copy_and_partial(dst, src, n);
        case Kernel::naive:
            return naive_sum(src, n);
    }
    return 0;
}

struct Buffers {
    std::vector<std::uint8_t> src, dst;
    std::vector<std::size_t> order;  // slot offsets, visited in this order
};

// GB/s of one trial: repeat whole passes over `order` until the time is up.
double trial(Kernel k, Buffers& b, std::size_t n) {
    std::uint32_t sink = 0;
    std::size_t bytes = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
        for (std::size_t off : b.order)
            sink += run_once(k, b.dst.data() + off, b.src.data() + off, n);
        bytes += n * b.order.size();
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < kTrialSeconds);
    g_sink = sink;
    return static_cast<double>(bytes) / elapsed / 1e9;
}

Buffers make_buffers(std::size_t n, bool cold) {
    Buffers b;
    std::mt19937_64 rng(n);
    if (!cold) {
        b.src.resize(n);
        b.dst.resize(n);
        // Many repetitions per pass keep the clock reads out of the figure.
        b.order.assign(std::max<std::size_t>(1, (1u << 20) / n), 0);
    } else {
        // Slots rounded to 64 bytes; every slot of both pools is visited once
        // per pass, in a random order, so nothing is left in the caches.
        const std::size_t slot = (n + 63) & ~std::size_t{63};
        const std::size_t slots = kPool / slot;
        b.src.resize(slots * slot);
        b.dst.resize(slots * slot);
        b.order.resize(slots);
        for (std::size_t i = 0; i < slots; ++i)
            b.order[i] = i * slot;
        std::shuffle(b.order.begin(), b.order.end(), rng);
    }
    for (auto& x : b.src)
        x = static_cast<std::uint8_t>(rng());
    std::memset(b.dst.data(), 0, b.dst.size());
    return b;
}

struct Figure {
    std::string name;
    double value;
    const char* unit;
};

}  // namespace

int main() {
    if (!csum::available(csum::Impl::avx2)) {
        fmt::print(stderr, "bench_csum: this CPU has no AVX2; avx2 figures are not measured\n");
    }
    std::vector<Kernel> kernels = {Kernel::memcpy_, Kernel::scalar, Kernel::fused, Kernel::naive};
    if (csum::available(csum::Impl::avx2)) kernels.insert(kernels.begin() + 2, Kernel::avx2);

    std::vector<Figure> figures;
    fmt::print("checksum throughput (GB/s, best of {} trials); ratios to memcpy of the same run\n",
               kTrials);
    fmt::print("dispatch picks: {}\n\n", csum::name(csum::selected()));
    fmt::print("{:>6} {:>5} | {:>7} {:>7} {:>7} {:>7} {:>7} | {:>6} {:>6} {:>6}\n", "bytes",
               "cache", "memcpy", "scalar", "avx2", "fused", "naive", "avx2/m", "fused/m",
               "scal/m");
    for (bool cold : {false, true}) {
        for (std::size_t n : {64u, 1500u, 9000u, 65536u}) {
            Buffers b = make_buffers(n, cold);
            std::map<Kernel, double> best;
            for (int t = 0; t < kTrials; ++t)
                for (Kernel k : kernels) {
                    if (cold && k == Kernel::naive) continue;
                    best[k] = std::max(best[k], trial(k, b, n));
                }
            const char* temp = cold ? "cold" : "hot";
            const double m = best[Kernel::memcpy_];
            auto cell = [&](Kernel k) {
                return best.count(k) ? fmt::format("{:7.2f}", best[k]) : std::string("      -");
            };
            auto ratio = [&](Kernel k) {
                return best.count(k) ? fmt::format("{:6.2f}", best[k] / m) : std::string("     -");
            };
            fmt::print("{:>6} {:>5} | {} {} {} {} {} | {} {:>7} {}\n", n, temp,
                       cell(Kernel::memcpy_), cell(Kernel::scalar), cell(Kernel::avx2),
                       cell(Kernel::fused), cell(Kernel::naive), ratio(Kernel::avx2),
                       ratio(Kernel::fused), ratio(Kernel::scalar));
            figures.push_back({fmt::format("memcpy.{}.{}.gbps", n, temp), m, "GB/s"});
            for (Kernel k : {Kernel::scalar, Kernel::avx2, Kernel::fused}) {
                if (!best.count(k)) continue;
                const std::string base = fmt::format("csum.{}.{}.{}", kernel_name(k), n, temp);
                figures.push_back({base + ".gbps", best[k], "GB/s"});
                figures.push_back({base + ".ratio_to_memcpy", best[k] / m, "x"});
            }
            if (best.count(Kernel::naive)) {
                figures.push_back(
                    {fmt::format("csum.naive.{}.{}.gbps", n, temp), best[Kernel::naive], "GB/s"});
                const Kernel fast = best.count(Kernel::avx2) ? Kernel::avx2 : Kernel::scalar;
                figures.push_back(
                    {fmt::format("csum.{}.{}.{}.ratio_to_naive", kernel_name(fast), n, temp),
                     best[fast] / best[Kernel::naive], "x"});
            }
        }
    }
    fmt::print("\n");
    for (const Figure& f : figures)
        fmt::print("{} {:.3f} {}\n", f.name, f.value, f.unit);
    return 0;
}
