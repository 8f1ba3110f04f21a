// Internal to libxnet: the per-CPU implementations behind packet/csum.h.
//
// Each returns the ones'-complement sum of the buffer as a 64-bit value that
// is congruent to the 16-bit sum modulo 0xffff and is 0 only when every byte
// is 0, so folding it keeps the +0/-0 distinction RFC 1071 cares about.
#pragma once

#include <cstddef>
#include <cstdint>

#include "packet/csum.h"

namespace xnet::csum::detail {

std::uint64_t sum_scalar(const std::uint8_t* p, std::size_t n) noexcept;
std::uint64_t copy_sum_scalar(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) noexcept;

// Only to be called when the CPU has AVX2 (see available()).
std::uint64_t sum_avx2(const std::uint8_t* p, std::size_t n) noexcept;
std::uint64_t copy_sum_avx2(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) noexcept;

// 64-bit ones'-complement value folded to a 32-bit partial sum.
constexpr Partial fold64(std::uint64_t s) noexcept {
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    return static_cast<Partial>(s);
}

}  // namespace xnet::csum::detail
