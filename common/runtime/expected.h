// A value or an error, for C++20 (std::expected arrives with C++23). Small on
// purpose: construction from either side, a test, access that asserts, and
// two macros that pass an error up (XNET_TRY, XNET_TRY_ASSIGN, at the end).
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace xnet {

template <class E>
struct Unexpected {
    E error;
};

template <class E>
Unexpected(E) -> Unexpected<E>;

template <class T, class E>
class [[nodiscard]] Expected {
  public:
    Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    template <class G>
    Expected(Unexpected<G> e) : v_(std::in_place_index<1>, std::move(e.error)) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & {
        assert(has_value());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(has_value());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(has_value());
        return std::get<0>(std::move(v_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const E& error() const {
        assert(!has_value());
        return std::get<1>(v_);
    }

  private:
    std::variant<T, E> v_;
};

// Success without a value, or an error.
template <class E>
class [[nodiscard]] Expected<void, E> {
  public:
    Expected() = default;
    template <class G>
    Expected(Unexpected<G> e) : e_(std::move(e.error)), failed_(true) {}

    bool has_value() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return has_value(); }

    const E& error() const {
        assert(failed_);
        return e_;
    }

  private:
    E e_{};
    bool failed_ = false;
};

}  // namespace xnet

// Error propagation, as Rust's `?` or absl's RETURN_IF_ERROR: a failed
// Expected's error, returned from the enclosing function (whose error type
// is the same or converts from it); else the value goes on.
//
//   XNET_TRY(xs.write(path, "4"));                  // a Status, or any Result
//   XNET_TRY_ASSIGN(auto fd, open_tap(name));       // declares fd, the value
//   XNET_TRY_ASSIGN(keys_, read_queue_keys(...));   // or assigns to an lvalue
//
// Macros, not functions: only a macro can return from its caller.
#define XNET_TRY(...)                                                   \
    do {                                                                \
        if (auto&& xnet_try_result_ = (__VA_ARGS__); !xnet_try_result_) \
            return ::xnet::Unexpected{xnet_try_result_.error()};        \
    } while (0)

#define XNET_TRY_ASSIGN(lhs, ...) \
    XNET_TRY_ASSIGN_IMPL_(XNET_TRY_CAT_(xnet_try_value_, __LINE__), lhs, __VA_ARGS__)
#define XNET_TRY_CAT_(a, b) XNET_TRY_CAT2_(a, b)
#define XNET_TRY_CAT2_(a, b) a##b
#define XNET_TRY_ASSIGN_IMPL_(tmp, lhs, ...)          \
    auto tmp = (__VA_ARGS__);                         \
    if (!tmp) return ::xnet::Unexpected{tmp.error()}; \
    lhs = std::move(*tmp)
