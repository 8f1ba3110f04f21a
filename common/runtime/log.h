// One log line per event, to stderr (journald or the test's log file):
// "xnetback: vif3.0: connected, 2 queues". The program name is set once.
#pragma once

#include <string_view>

#include <fmt/format.h>

namespace xnet::log {

enum class Level { debug, info, warn, error };

void set_program(std::string_view name);
void set_verbose(bool on);
void write(Level l, std::string_view msg);

template <class... A>
void info(fmt::format_string<A...> f, A&&... a) {
    write(Level::info, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void warn(fmt::format_string<A...> f, A&&... a) {
    write(Level::warn, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void error(fmt::format_string<A...> f, A&&... a) {
    write(Level::error, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void debug(fmt::format_string<A...> f, A&&... a) {
    write(Level::debug, fmt::format(f, std::forward<A>(a)...));
}

}  // namespace xnet::log
