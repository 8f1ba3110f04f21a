// Portable checksum: 64-bit loads summed into 128-bit accumulators, so the
// compiler emits an add/adc pair per word and the carry chain never has to be
// folded inside the loop (2^64 is 1 modulo 0xffff, so a carry out of the low
// half counts exactly like a 16-bit end-around carry).
#include <cstring>

#include "packet/csum_impl.h"

namespace xnet::csum::detail {
namespace {

using u128 = unsigned __int128;

inline void copy_tail(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) noexcept {
    std::size_t i = 0;
    if (n & 4) {
        std::memcpy(dst, src, 4);
        i = 4;
    }
    if (n & 2) {
        std::memcpy(dst + i, src + i, 2);
        i += 2;
    }
    if (n & 1) dst[i] = src[i];
}

inline std::uint64_t load64(const std::uint8_t* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// The last 0-7 bytes as a zero-padded word, moved in fixed-size pieces (a
// variable-length memcpy would become a byte loop or a call). The tail starts
// at a multiple of 8 bytes into the buffer, so byte k of it keeps the parity
// it has in memory.
inline std::uint64_t load_tail(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint8_t b[8] = {};
    copy_tail(b, p, n);
    std::uint64_t v;
    std::memcpy(&v, b, sizeof v);
    return v;
}

inline std::uint64_t fold128(u128 s) noexcept {
    std::uint64_t lo = static_cast<std::uint64_t>(s);
    std::uint64_t hi = static_cast<std::uint64_t>(s >> 64);
    std::uint64_t r = lo + hi;
    return r + (r < lo);  // end-around carry
}

}  // namespace

std::uint64_t sum_scalar(const std::uint8_t* p, std::size_t n) noexcept {
    // Two accumulators so that the two adc chains run side by side.
    u128 a = 0, b = 0;
    for (; n >= 32; p += 32, n -= 32) {
        a += load64(p);
        b += load64(p + 8);
        a += load64(p + 16);
        b += load64(p + 24);
    }
    for (; n >= 8; p += 8, n -= 8)
        a += load64(p);
    a += load_tail(p, n);
    return fold128(a + b);
}

std::uint64_t copy_sum_scalar(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) noexcept {
    u128 a = 0, b = 0;
    for (; n >= 32; src += 32, dst += 32, n -= 32) {
        std::uint64_t w0 = load64(src), w1 = load64(src + 8);
        std::uint64_t w2 = load64(src + 16), w3 = load64(src + 24);
        std::memcpy(dst, &w0, 8);
        std::memcpy(dst + 8, &w1, 8);
        std::memcpy(dst + 16, &w2, 8);
        std::memcpy(dst + 24, &w3, 8);
        a += w0;
        b += w1;
        a += w2;
        b += w3;
    }
    for (; n >= 8; src += 8, dst += 8, n -= 8) {
        std::uint64_t w = load64(src);
        std::memcpy(dst, &w, 8);
        a += w;
    }
    copy_tail(dst, src, n);
    a += load_tail(src, n);
    return fold128(a + b);
}

}  // namespace xnet::csum::detail
