// Command-line handling both daemons share: the offload options, the
// platform choice, and "--key value" / "--key=value" splitting.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netif/offload.h"
#include "platform/platform.h"
#include "runtime/error.h"
#include "runtime/reactor.h"

namespace xnet::cli {

class Args {
  public:
    // The words of ARGV after the program's name, "--key=value" split in two.
    Args(int argc, char** argv);
    bool done() const { return i_ >= v_.size(); }
    std::string_view peek() const { return v_[i_]; }
    // The word after option KEY, its value; an error naming KEY at the end.
    Result<std::string> value(std::string_view key);
    std::string_view next() { return v_[i_++]; }

  private:
    std::vector<std::string> v_;
    size_t i_ = 0;
};

// The settings of the options every daemon takes.
struct Common {
    offload::Policy policy = offload::safe();
    std::optional<PlatformKind> platform;
    bool verbose = false;
    std::chrono::microseconds busy_poll{50};                // see BusyPoll
    std::chrono::milliseconds stall_report = kStallReport;  // EpollReactor::report_stalls
};
// Handles those options (--profile, one per setting of the policy table,
// --platform, --busy-poll-us, --stall-ms, --verbose). True if KEY was one of them.
Result<bool> common_option(std::string_view key, Args& a, Common& c);
// One option in a --help: "  --queues N   what it does", the text in a
// column of its own; a '\n' in HELP goes on in that column.
struct OptionHelp {
    std::string_view option;
    std::string_view help;
};
std::string help_line(const OptionHelp& o);

// The lines of the options every daemon takes, for its --help.
std::string common_help();

// A program's main: BODY's exit status, or FAILED with a message naming
// PROGRAM if it throws (out of memory, a library's exception): never an
// abort.
int guarded_main(std::string_view program, const std::function<int()>& body, int failed = 1);

}  // namespace xnet::cli
