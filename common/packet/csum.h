// The Internet checksum (RFC 1071), its incremental update (RFC 1624), the
// pseudo-header sums of TCP/UDP over IPv4 and IPv6, and the fused
// copy-and-checksum that the backend uses for the copy it makes anyway.
//
// Byte order. Every sum here is taken over memory as the CPU loads it, and
// every 16-bit result is "in memory order": stored with memcpy (or
// `store16`), it puts the right bytes on the wire. This is the trick Linux's
// csum_partial relies on: the ones'-complement sum commutes with byte
// swapping, so nothing is swapped in the hot loop. Values that are host
// integers (a length, a protocol number) are converted with `host_word`
// before they join a sum.
//
// Partial sums are 32-bit and unfolded (Linux's __wsum). They can be added
// with `add`, and a block that starts at an odd offset of the region being
// summed is joined with `add_at` (which swaps its bytes). `fold` reduces a
// partial to 16 bits; `finish` complements it into the value for a
// checksum field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace xnet::csum {

using Partial = std::uint32_t;

// Ones'-complement sum of `len` bytes at `data` (any alignment, any length),
// added to `seed`. An odd trailing byte counts as the high-order byte of a
// zero-padded 16-bit word, as RFC 1071 says.
Partial partial(const void* data, std::size_t len, Partial seed = 0) noexcept;

// Copies `len` bytes from `src` to `dst` (which must not overlap) and returns
// the sum of the copied bytes plus `seed`, touching each byte once.
Partial copy_and_partial(void* dst, const void* src, std::size_t len, Partial seed = 0) noexcept;

// Ones'-complement addition of two partial sums.
constexpr Partial add(Partial a, Partial b) noexcept {
    std::uint64_t s = std::uint64_t{a} + b;
    return static_cast<Partial>((s & 0xffffffffu) + (s >> 32));
}

// Adds `block`, the sum of a block that starts `offset` bytes into the region
// `sum` covers. A block at an odd offset has its bytes paired the other way
// round, which a byte swap of its (folded) sum puts right.
Partial add_at(Partial sum, Partial block, std::size_t offset) noexcept;

// Folds a partial sum to 16 bits with end-around carry. 0 only for a sum of
// nothing but zero bytes.
constexpr std::uint16_t fold(Partial s) noexcept {
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    return static_cast<std::uint16_t>(s);
}

// The value to store in a checksum field that covers `s`.
constexpr std::uint16_t finish(Partial s) noexcept {
    return static_cast<std::uint16_t>(~fold(s));
}

// A host-order 16-bit value as a memory-order word (htons on little-endian).
std::uint16_t host_word(std::uint16_t v) noexcept;

// Pseudo-header sums (RFC 793/768 for IPv4, RFC 8200 section 8.1 for IPv6).
// Addresses point at the bytes as they sit in the IP header; `l4_len` is the
// length of the TCP/UDP header plus payload in host order.
Partial pseudo_v4(const std::uint8_t* src, const std::uint8_t* dst, std::uint8_t proto,
                  std::uint32_t l4_len) noexcept;
Partial pseudo_v6(const std::uint8_t* src, const std::uint8_t* dst, std::uint8_t proto,
                  std::uint32_t l4_len) noexcept;

// RFC 1624, equation 3: the new checksum field HC' = ~(~HC + ~m + m') after a
// 16-bit word (or two adjacent words) covered by it changed from `old` to
// `now`. All values in memory order, as loaded from the packet. Unlike the
// older RFC 1141 formula this never produces a -0 (0xffff) from a +0.
std::uint16_t update16(std::uint16_t check, std::uint16_t old, std::uint16_t now) noexcept;
std::uint16_t update32(std::uint16_t check, std::uint32_t old, std::uint32_t now) noexcept;

// ---------------------------------------------------------------------------
// Implementations. `partial` and `copy_and_partial` use the fastest one the
// CPU supports, picked once at first use (cpuid), unless the environment
// variable XNET_CSUM_IMPL names another ("scalar", "avx2"). Tests and the
// benchmark call each one directly.
enum class Impl : std::uint8_t { scalar, avx2 };

bool available(Impl impl) noexcept;
Impl selected() noexcept;
std::string_view name(Impl impl) noexcept;

// Precondition: available(impl).
Partial partial_using(Impl impl, const void* data, std::size_t len, Partial seed = 0) noexcept;
Partial copy_and_partial_using(Impl impl, void* dst, const void* src, std::size_t len,
                               Partial seed = 0) noexcept;

}  // namespace xnet::csum
