// What the benchmarks share: failing fast, named after the program. Header
// only, as each benchmark is one translation unit (Makefile).
#pragma once

#include <cerrno>  // program_invocation_short_name (glibc)
#include <cstdlib>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "runtime/error.h"

namespace bench {

[[noreturn]] inline void die(const std::string& what) {
    fmt::print(stderr, "{}: {}\n", program_invocation_short_name, what);
    std::exit(1);
}

template <class T>
T must(xnet::Result<T> r) {
    if (!r) die(r.error().message());
    return std::move(*r);
}

inline void must(const xnet::Status& s) {
    if (!s) die(s.error().message());
}

}  // namespace bench
