// The checksum primitives (packet/csum.h) against known answers and against the
// independent reference in frames.h, on every implementation the CPU has.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <vector>

#include "frames.h"
#include "packet/csum.h"

namespace csum = xnet::csum;
using xt::Bytes;

namespace {

// A memory-order 16-bit value as the host-order number its bytes spell.
std::uint16_t host(std::uint16_t mem) {
    std::uint8_t b[2];
    std::memcpy(b, &mem, 2);
    return static_cast<std::uint16_t>(b[0] << 8 | b[1]);
}

std::uint16_t mem(std::uint16_t host_value) {
    std::uint8_t b[2] = {static_cast<std::uint8_t>(host_value >> 8),
                         static_cast<std::uint8_t>(host_value)};
    std::uint16_t v;
    std::memcpy(&v, b, 2);
    return v;
}

std::vector<csum::Impl> impls() {
    std::vector<csum::Impl> v{csum::Impl::scalar};
    if (csum::available(csum::Impl::avx2)) v.push_back(csum::Impl::avx2);
    return v;
}

std::uint16_t sum_of(csum::Impl impl, const void* p, std::size_t n) {
    return host(csum::fold(csum::partial_using(impl, p, n)));
}

}  // namespace

TEST_CASE("RFC 1071 section 3 example and an IPv4 header") {
    const Bytes rfc = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    // IPv4 header with its checksum 0xb861 in place (a well-known example).
    const Bytes ip = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                      0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    for (auto impl : impls()) {
        CAPTURE(csum::name(impl));
        CHECK(sum_of(impl, rfc.data(), rfc.size()) == 0xddf2);
        CHECK(sum_of(impl, ip.data(), ip.size()) == 0xffff);  // verifies
        Bytes zeroed = ip;
        zeroed[10] = zeroed[11] = 0;
        CHECK(host(csum::finish(csum::partial_using(impl, zeroed.data(), zeroed.size()))) ==
              0xb861);
    }
    CHECK(xt::ref_sum(rfc) == 0xddf2);  // the reference agrees with the RFC too
}

TEST_CASE("edge values: empty, zeros, 0xff, odd bytes, seeds") {
    const Bytes ones(4096, 0xff), zeros(4096, 0);
    for (auto impl : impls()) {
        CAPTURE(csum::name(impl));
        CHECK(csum::partial_using(impl, nullptr, 0) == 0);
        CHECK(csum::partial_using(impl, zeros.data(), 0, 0x1234) == 0x1234);
        CHECK(csum::fold(csum::partial_using(impl, zeros.data(), zeros.size())) == 0);     // +0
        CHECK(csum::fold(csum::partial_using(impl, ones.data(), ones.size())) == 0xffff);  // -0
        const std::uint8_t odd[3] = {0x12, 0x34, 0xab};
        CHECK(sum_of(impl, odd, 1) == 0x1200);  // a lone byte is the high-order byte
        CHECK(sum_of(impl, odd, 3) == 0xbd34);  // 0x1234 + 0xab00
    }
    CHECK(csum::fold(0xffff0001u) == 0x0001);  // 0xffff + 0x0001 + carries
    CHECK(csum::fold(0x0001fffeu) == 0xffff);
    CHECK(csum::finish(0) == 0xffff);
    CHECK(csum::add(0xffffffffu, 1) == 1);  // end-around carry
}

TEST_CASE("every alignment 0-63 and every length 0-9000 match the reference") {
    constexpr std::size_t kMax = 9000;
    const Bytes src = xt::random_bytes(kMax + 64, 42);
    Bytes dst(kMax + 128);
    for (auto impl : impls()) {
        CAPTURE(csum::name(impl));
        std::size_t mismatches = 0, copy_errors = 0;
        for (std::size_t align = 0; align < 64; ++align) {
            const std::uint8_t* p = src.data() + align;
            std::uint8_t* d = dst.data() + 1 + (align * 7) % 64;  // a different alignment
            std::fill(dst.begin(), dst.end(), 0xa5);
            std::uint32_t ref = 0;  // reference sum of p[0..len), grown a byte at a time
            for (std::size_t len = 0; len <= kMax; ++len) {
                if (len > 0) {
                    const std::size_t i = len - 1;
                    ref += i % 2 == 0 ? std::uint32_t{p[i]} << 8 : p[i];
                    ref = (ref & 0xffff) + (ref >> 16);
                }
                mismatches += sum_of(impl, p, len) != ref;
                std::uint16_t fused =
                    host(csum::fold(csum::copy_and_partial_using(impl, d, p, len)));
                mismatches += fused != ref;
                copy_errors += std::memcmp(d, p, len) != 0 || d[len] != 0xa5 || d[-1] != 0xa5;
            }
        }
        CHECK(mismatches == 0);
        CHECK(copy_errors == 0);
    }
}

TEST_CASE("scalar and AVX2 agree on two million random buffers") {
    // On a CPU without AVX2 the dispatcher must not offer it; that is checked
    // instead of the agreement.
    if (!csum::available(csum::Impl::avx2)) {
        CHECK(csum::selected() == csum::Impl::scalar);
        return;
    }
    std::mt19937_64 rng(7);
    Bytes pool = xt::random_bytes(1 << 20, 9);
    Bytes d1(70000), d2(70000);
    std::size_t disagree = 0;
    for (int i = 0; i < 2'000'000; ++i) {
        if (i % 100'000 == 0) pool = xt::random_bytes(pool.size(), rng());
        const std::size_t len = i % 1000 == 0 ? rng() % 65536 : rng() % 700;
        const std::size_t off = rng() % (pool.size() - len);
        const std::uint8_t* p = pool.data() + off;
        const csum::Partial seed = static_cast<csum::Partial>(rng());
        auto s = csum::partial_using(csum::Impl::scalar, p, len, seed);
        auto a = csum::partial_using(csum::Impl::avx2, p, len, seed);
        disagree += csum::fold(s) != csum::fold(a);
        if (i % 16 == 0) {
            auto fs = csum::copy_and_partial_using(csum::Impl::scalar, d1.data(), p, len);
            auto fa = csum::copy_and_partial_using(csum::Impl::avx2, d2.data() + 3, p, len);
            disagree += csum::fold(fs) != csum::fold(fa);
            disagree += std::memcmp(d2.data() + 3, p, len) != 0;
        }
    }
    CHECK(disagree == 0);
}

TEST_CASE("large buffers cross the AVX2 accumulator chunks exactly") {
    // All-0xff words drive every 32-bit lane to its maximum, all-zero words to
    // its minimum (after the bias); 5 MiB spans several 2 MiB chunks.
    for (std::uint8_t fill : {std::uint8_t{0xff}, std::uint8_t{0x00}, std::uint8_t{0x80}}) {
        Bytes big(5 * 1024 * 1024 + 77, fill);
        const std::uint16_t ref = xt::ref_sum(big);
        for (auto impl : impls()) {
            CAPTURE(csum::name(impl));
            CAPTURE(int{fill});
            CHECK(sum_of(impl, big.data() + 1, big.size() - 1) ==
                  xt::ref_sum(big.data() + 1, big.size() - 1));
            CHECK(sum_of(impl, big.data(), big.size()) == ref);
            Bytes out(big.size());
            CHECK(host(csum::fold(csum::copy_and_partial_using(impl, out.data(), big.data(),
                                                               big.size()))) == ref);
            CHECK(out == big);
        }
    }
    Bytes rnd = xt::random_bytes(9 * 1024 * 1024 + 3, 5);
    for (auto impl : impls())
        CHECK(sum_of(impl, rnd.data(), rnd.size()) == xt::ref_sum(rnd));
}

TEST_CASE("the dispatcher picks AVX2 exactly when the CPU has it") {
    if (std::getenv("XNET_CSUM_IMPL") == nullptr) {
        CHECK(csum::selected() ==
              (csum::available(csum::Impl::avx2) ? csum::Impl::avx2 : csum::Impl::scalar));
    }
    const Bytes b = xt::random_bytes(1500, 3);
    CHECK(host(csum::fold(csum::partial(b.data(), b.size()))) == xt::ref_sum(b));
    Bytes out(b.size());
    CHECK(host(csum::fold(csum::copy_and_partial(out.data(), b.data(), b.size()))) ==
          xt::ref_sum(b));
    CHECK(out == b);
    CHECK(csum::name(csum::Impl::scalar) == "scalar");
    CHECK(csum::name(csum::Impl::avx2) == "avx2");
}

TEST_CASE("sums of blocks combine at odd and even offsets") {
    const Bytes b = xt::random_bytes(3001, 11);
    const std::uint16_t whole = xt::ref_sum(b);
    for (std::size_t split : {0u, 1u, 2u, 7u, 64u, 999u, 1500u, 3000u, 3001u}) {
        CAPTURE(split);
        csum::Partial head = csum::partial(b.data(), split);
        csum::Partial tail = csum::partial(b.data() + split, b.size() - split);
        CHECK(host(csum::fold(csum::add_at(head, tail, split))) == whole);
    }
}

TEST_CASE("pseudo headers match the reference built from bytes") {
    const std::uint8_t s4[4] = {10, 1, 2, 3}, d4[4] = {172, 16, 254, 1};
    const Bytes p4 = {10, 1, 2, 3, 172, 16, 254, 1, 0, 17, 0x05, 0xdc};  // UDP, 1500
    CHECK(host(csum::fold(csum::pseudo_v4(s4, d4, 17, 1500))) == xt::ref_sum(p4));

    Bytes s6 = xt::random_bytes(16, 1), d6 = xt::random_bytes(16, 2);
    Bytes p6 = s6;
    p6.insert(p6.end(), d6.begin(), d6.end());
    const Bytes tail = {0x00, 0x01, 0x00, 0x10, 0, 0, 0, 6};  // length 65552, TCP
    p6.insert(p6.end(), tail.begin(), tail.end());
    CHECK(host(csum::fold(csum::pseudo_v6(s6.data(), d6.data(), 6, 65552))) == xt::ref_sum(p6));
    CHECK(csum::host_word(0x1234) == mem(0x1234));
}

TEST_CASE("RFC 1624 incremental update, including its -0 example") {
    // RFC 1624 section 4: the sum of the other header words is 0xcd7a, a word
    // changes from 0x5555 to 0x3285; the right answer is 0x0000, which the
    // RFC 1141 formula gets wrong as 0xffff.
    const std::uint16_t hc =
        static_cast<std::uint16_t>(~xt::ref_sum(Bytes{0xcd, 0x7a, 0x55, 0x55}));
    CHECK(hc == 0xdd2f);
    CHECK(host(csum::update16(mem(hc), mem(0x5555), mem(0x3285))) == 0x0000);

    // Random headers: changing a word or a 32-bit address incrementally gives
    // what recomputing gives (up to the +0/-0 equivalence, which cannot occur
    // here: the headers are not all zero).
    std::mt19937_64 rng(3);
    int wrong = 0;
    for (int i = 0; i < 20000; ++i) {
        Bytes h = xt::random_bytes(20, rng());
        h[10] = h[11] = 0;
        xt::put16(h, 10, static_cast<std::uint16_t>(~xt::ref_sum(h)));
        std::uint16_t check;
        std::memcpy(&check, &h[10], 2);
        const std::size_t at = 2 * (rng() % 4);  // words 0..3, clear of the field
        std::uint32_t old32, new32 = static_cast<std::uint32_t>(rng());
        std::memcpy(&old32, &h[12], 4);
        std::uint16_t old16, new16 = static_cast<std::uint16_t>(rng());
        std::memcpy(&old16, &h[at], 2);

        Bytes a = h;
        std::memcpy(&a[at], &new16, 2);
        std::uint16_t inc = csum::update16(check, old16, new16);
        std::memcpy(&a[10], &inc, 2);
        wrong += xt::ref_sum(a) != 0xffff;

        Bytes b = h;
        std::memcpy(&b[12], &new32, 4);
        inc = csum::update32(check, old32, new32);
        std::memcpy(&b[10], &inc, 2);
        wrong += xt::ref_sum(b) != 0xffff;
    }
    CHECK(wrong == 0);
}
