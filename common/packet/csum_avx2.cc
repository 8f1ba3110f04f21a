// AVX2 checksum. The functions carry target("avx2") attributes rather than
// the file being built with -mavx2, so no inline function of a shared header
// is ever emitted here with AVX2 instructions for the linker to pick up and run
// on a CPU without them. They are only called after cpuid said yes.
//
// The kernel of the loop, per 32-byte vector, is three instructions:
//   x = v ^ 0x8000 (every 16-bit word)  turns the unsigned word u into the
//                                        signed word u - 32768, exactly;
//   m = vpmaddwd(x, 1)                  adds adjacent signed words into
//                                        32-bit lanes, exactly;
//   acc += m                            32-bit lanes, exact while bounded.
// The bias is paid back once per chunk: 32768 for every word loaded. Each
// lane gains at most 2^16 in magnitude per vector, so a chunk of at most 2^12
// steps keeps even the sum of the four accumulators below 2^31: exact.
//
// Fixed costs matter as much as the loop at packet sizes: the last 2-30
// bytes are one vector loaded so that it ends at the end of the data, with
// the bytes already summed masked off (the fused copy stores it whole: those
// bytes are rewritten with the same values), and an odd last byte is added
// on its own so that every vector starts at an even offset. In the fused
// loop the next block is loaded before the current one is stored, so a
// destination a little above the source in address bits (4K aliasing) does
// not stall each load behind the store before it.
#include <immintrin.h>

#include <algorithm>

#include "packet/csum_impl.h"

#define XNET_AVX2 __attribute__((target("avx2")))

namespace xnet::csum::detail {
namespace {

constexpr std::size_t kVec = 32;
constexpr std::size_t kStep = kVec * 4;       // four accumulators
constexpr std::size_t kChunk = kStep * 4096;  // 512 KiB; see the bound above

// 32 zero bytes then 32 0xff bytes: 32 bytes loaded from kMask + r keep the
// last r bytes of a vector.
alignas(64) constexpr std::uint8_t kMask[64] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

inline std::uint64_t add_ones(std::uint64_t a, std::uint64_t b) noexcept {
    std::uint64_t r = a + b;
    return r + (r < a);
}

XNET_AVX2 inline __m256i load(const std::uint8_t* p) noexcept {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

XNET_AVX2 inline void store(std::uint8_t* p, __m256i v) noexcept {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}

XNET_AVX2 inline __m256i word_pairs(__m256i v) noexcept {
    const __m256i bias = _mm256_set1_epi16(static_cast<short>(0x8000));
    const __m256i one = _mm256_set1_epi16(1);
    return _mm256_madd_epi16(_mm256_xor_si256(v, bias), one);
}

XNET_AVX2 inline __m256i add32(__m256i acc, __m256i v) noexcept {
    return _mm256_add_epi32(acc, word_pairs(v));
}

// The exact sum of the eight signed 32-bit lanes.
XNET_AVX2 inline std::int64_t hsum(__m256i acc) noexcept {
    __m256i w = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(acc)),
                                 _mm256_cvtepi32_epi64(_mm256_extracti128_si256(acc, 1)));
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
    return _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
}

// Sums (and copies, when Copy) `len` bytes: len even, at least kVec, at most
// kChunk. Returns the exact sum of the 16-bit words.
template <bool Copy>
XNET_AVX2 std::uint64_t chunk_sum(std::uint8_t* dst, const std::uint8_t* src,
                                  std::size_t len) noexcept {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    std::size_t vectors = 0;
    if constexpr (!Copy) {
        for (; len >= kStep; src += kStep, len -= kStep, vectors += 4) {
            a0 = add32(a0, load(src));
            a1 = add32(a1, load(src + 32));
            a2 = add32(a2, load(src + 64));
            a3 = add32(a3, load(src + 96));
        }
    } else if (len >= kStep) {
        // Software-pipelined: block i + 1 is loaded before block i is stored.
        const std::size_t steps = len / kStep;
        vectors += steps * 4;
        __m256i v0 = load(src), v1 = load(src + 32), v2 = load(src + 64), v3 = load(src + 96);
        for (std::size_t i = 1; i < steps; ++i) {
            src += kStep;
            __m256i w0 = load(src), w1 = load(src + 32), w2 = load(src + 64), w3 = load(src + 96);
            store(dst, v0);
            store(dst + 32, v1);
            store(dst + 64, v2);
            store(dst + 96, v3);
            dst += kStep;
            a0 = add32(a0, v0);
            a1 = add32(a1, v1);
            a2 = add32(a2, v2);
            a3 = add32(a3, v3);
            v0 = w0, v1 = w1, v2 = w2, v3 = w3;
        }
        store(dst, v0);
        store(dst + 32, v1);
        store(dst + 64, v2);
        store(dst + 96, v3);
        dst += kStep;
        a0 = add32(a0, v0);
        a1 = add32(a1, v1);
        a2 = add32(a2, v2);
        a3 = add32(a3, v3);
        src += kStep;
        len -= steps * kStep;
    }
    for (; len >= kVec; src += kVec, len -= kVec, ++vectors) {
        __m256i v = load(src);
        if constexpr (Copy) {
            store(dst, v);
            dst += kVec;
        }
        a1 = add32(a1, v);
    }
    if (len > 0) {
        // The last vector ends where the data ends; the 32 - len bytes it
        // shares with the previous ones are masked off. (A chunk is at least
        // one vector, so those bytes exist.)
        __m256i v = load(src + len - kVec);
        if constexpr (Copy) store(dst + len - kVec, v);
        a2 = add32(a2, _mm256_and_si256(v, load(kMask + len)));
        ++vectors;
    }
    const __m256i acc = _mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3));
    // Pay back the bias: 32768 for each of the 16 words of every vector.
    const std::int64_t bias = static_cast<std::int64_t>(vectors) * 16 * 32768;
    return static_cast<std::uint64_t>(hsum(acc) + bias);
}

template <bool Copy>
XNET_AVX2 std::uint64_t sum_any(std::uint8_t* dst, const std::uint8_t* src,
                                std::size_t n) noexcept {
    if (n < kVec) return Copy ? copy_sum_scalar(dst, src, n) : sum_scalar(src, n);
    std::uint64_t total = 0;
    std::size_t even = n & ~std::size_t{1};
    if (n & 1) {
        // A lone last byte at an even offset: the first byte of a word.
        if constexpr (Copy) dst[n - 1] = src[n - 1];
        total = sum_scalar(src + n - 1, 1);
    }
    while (even > 0) {
        // Whole chunks, and a last one of at least a vector.
        std::size_t len = even <= kChunk ? even : even - kChunk < kVec ? kChunk - kStep : kChunk;
        total = add_ones(total, chunk_sum<Copy>(dst, src, len));
        src += len;
        even -= len;
        if constexpr (Copy) dst += len;
    }
    return total;
}

}  // namespace

std::uint64_t sum_avx2(const std::uint8_t* p, std::size_t n) noexcept {
    return sum_any<false>(nullptr, p, n);
}

std::uint64_t copy_sum_avx2(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) noexcept {
    return sum_any<true>(dst, src, n);
}

}  // namespace xnet::csum::detail
