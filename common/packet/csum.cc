// Public checksum entry points: dispatch to an implementation, pseudo headers
// and incremental updates.
#include <bit>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "packet/csum.h"
#include "packet/csum_impl.h"

namespace xnet::csum {
namespace {

// cppcheck 2.10 does not see members called through the reference ops_of
// returns: its unusedStructMember findings here are false.
struct Ops {
    // cppcheck-suppress unusedStructMember
    std::uint64_t (*sum)(const std::uint8_t*, std::size_t) noexcept;
    // cppcheck-suppress unusedStructMember
    std::uint64_t (*copy_sum)(std::uint8_t*, const std::uint8_t*, std::size_t) noexcept;
};

constexpr Ops kScalar{detail::sum_scalar, detail::copy_sum_scalar};
constexpr Ops kAvx2{detail::sum_avx2, detail::copy_sum_avx2};

const Ops& ops_of(Impl impl) noexcept {
    return impl == Impl::avx2 ? kAvx2 : kScalar;
}

Impl choose() noexcept {
    Impl best = available(Impl::avx2) ? Impl::avx2 : Impl::scalar;
    if (const char* want = std::getenv("XNET_CSUM_IMPL")) {
        for (Impl impl : {Impl::scalar, Impl::avx2})
            if (name(impl) == want && available(impl)) return impl;
    }
    return best;
}

const Ops& active() noexcept {
    static const Ops& ops = ops_of(selected());
    return ops;
}

std::uint16_t swap16(std::uint16_t v) noexcept {
    return static_cast<std::uint16_t>(v << 8 | v >> 8);
}

Partial word_at(const std::uint8_t* p) noexcept {
    std::uint16_t w;
    std::memcpy(&w, p, 2);
    return w;
}

}  // namespace

bool available(Impl impl) noexcept {
    switch (impl) {
        case Impl::scalar:
            return true;
        case Impl::avx2:
#if defined(__x86_64__) || defined(__i386__)
            return __builtin_cpu_supports("avx2");
#else
            return false;
#endif
    }
    return false;
}

Impl selected() noexcept {
    static const Impl impl = choose();
    return impl;
}

std::string_view name(Impl impl) noexcept {
    switch (impl) {
        case Impl::scalar:
            return "scalar";
        case Impl::avx2:
            return "avx2";
    }
    return "?";
}

Partial partial(const void* data, std::size_t len, Partial seed) noexcept {
    return add(seed, detail::fold64(active().sum(static_cast<const std::uint8_t*>(data), len)));
}

Partial copy_and_partial(void* dst, const void* src, std::size_t len, Partial seed) noexcept {
    auto sum = active().copy_sum(static_cast<std::uint8_t*>(dst),
                                 static_cast<const std::uint8_t*>(src), len);
    return add(seed, detail::fold64(sum));
}

Partial partial_using(Impl impl, const void* data, std::size_t len, Partial seed) noexcept {
    auto sum = ops_of(impl).sum(static_cast<const std::uint8_t*>(data), len);
    return add(seed, detail::fold64(sum));
}

Partial copy_and_partial_using(Impl impl, void* dst, const void* src, std::size_t len,
                               Partial seed) noexcept {
    auto sum = ops_of(impl).copy_sum(static_cast<std::uint8_t*>(dst),
                                     static_cast<const std::uint8_t*>(src), len);
    return add(seed, detail::fold64(sum));
}

Partial add_at(Partial sum, Partial block, std::size_t offset) noexcept {
    if (offset & 1) block = swap16(fold(block));
    return add(sum, block);
}

std::uint16_t host_word(std::uint16_t v) noexcept {
    if constexpr (std::endian::native == std::endian::little) return swap16(v);
    return v;
}

Partial pseudo_v4(const std::uint8_t* src, const std::uint8_t* dst, std::uint8_t proto,
                  std::uint32_t l4_len) noexcept {
    Partial s = word_at(src) + word_at(src + 2) + word_at(dst) + word_at(dst + 2);
    s += host_word(proto);
    s += host_word(static_cast<std::uint16_t>(l4_len));
    return s;
}

Partial pseudo_v6(const std::uint8_t* src, const std::uint8_t* dst, std::uint8_t proto,
                  std::uint32_t l4_len) noexcept {
    // The IPv6 pseudo header carries a 32-bit upper-layer length and a
    // 32-bit next-header field (three zero bytes, then the protocol).
    Partial s = 0;
    for (int i = 0; i < 16; i += 2)
        s += word_at(src + i) + word_at(dst + i);
    s += host_word(static_cast<std::uint16_t>(l4_len >> 16));
    s += host_word(static_cast<std::uint16_t>(l4_len));
    s += host_word(proto);
    return s;
}

std::uint16_t update16(std::uint16_t check, std::uint16_t old, std::uint16_t now) noexcept {
    Partial s = static_cast<std::uint16_t>(~check);
    s += static_cast<std::uint16_t>(~old);
    s += now;
    return finish(s);
}

std::uint16_t update32(std::uint16_t check, std::uint32_t old, std::uint32_t now) noexcept {
    Partial s = static_cast<std::uint16_t>(~check);
    s += static_cast<std::uint16_t>(~old) + static_cast<std::uint16_t>(~old >> 16);
    s += (now & 0xffffu) + (now >> 16);
    return finish(s);
}

}  // namespace xnet::csum
