#include "runtime/log.h"

#include <unistd.h>

#include <string>

namespace xnet::log {
namespace {
std::string program = "xnet";
bool verbose = false;
}  // namespace

void set_program(std::string_view name) {
    program = name;
}
void set_verbose(bool on) {
    verbose = on;
}

void write(Level l, std::string_view msg) {
    if (l == Level::debug && !verbose) return;
    const char* tag = l == Level::warn ? "warning: " : l == Level::error ? "error: " : "";
    // One write per line, so lines of concurrent processes do not interleave.
    std::string line = fmt::format("{}: {}{}\n", program, tag, msg);
    ssize_t rc = ::write(STDERR_FILENO, line.data(), line.size());
    (void)rc;
}

}  // namespace xnet::log
