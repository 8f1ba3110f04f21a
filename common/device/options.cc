#include "device/options.h"

#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include "netif/netif.h"

namespace xnet::cli {

Args::Args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        auto eq = s.find('=');
        if (s.rfind("--", 0) == 0 && eq != std::string::npos) {
            v_.push_back(s.substr(0, eq));
            v_.push_back(s.substr(eq + 1));
        } else {
            v_.push_back(std::move(s));
        }
    }
}

Result<std::string> Args::value(std::string_view key) {
    if (done()) return fail(EINVAL, std::string(key) + " needs a value");
    return std::string(next());
}

std::string help_line(const OptionHelp& o) {
    constexpr size_t kColumn = 27;
    const std::string indent(kColumn + 3, ' ');
    std::string text;
    for (char c : o.help)
        text += c == '\n' ? "\n" + indent : std::string(1, c);
    if (o.option.size() >= kColumn) return fmt::format("  {}\n{}{}\n", o.option, indent, text);
    return fmt::format("  {:<{}} {}\n", o.option, kColumn, text);
}

std::string common_help() {
    const std::string profile = "--profile " + offload::profile_choices();
    const std::string preset =
        fmt::format("checksum preset (default: {})", offload::kProfiles[0].name);
    std::string out = help_line({profile, preset});
    for (const auto& s : offload::kSettings) {
        const std::string option = fmt::format("{} on|off", s.option);
        out += help_line({option, s.help});
    }
    static constexpr OptionHelp kRest[] = {
        {"--platform xen|sim", "hypervisor services (default: xen if /dev/xen/evtchn)"},
        {"--busy-poll-us N",
         "after work, poll a ring this long before sleeping\n"
         "(default 50; 0: sleep at once)"},
        {"--stall-ms N",
         "log each event-loop handler that runs longer\n"
         "(default 200; 1..60000)"},
        {"--verbose", "log more"},
    };
    for (const auto& o : kRest)
        out += help_line(o);
    return out;
}

Result<bool> common_option(std::string_view key, Args& a, Common& c) {
    if (key == "--verbose") {
        c.verbose = true;
        return true;
    }
    if (key == "--profile") {
        XNET_TRY_ASSIGN(auto v, a.value(key));
        XNET_TRY_ASSIGN(c.policy, offload::profile(v));
        return true;
    }
    if (key == "--busy-poll-us") {
        XNET_TRY_ASSIGN(auto v, a.value(key));
        auto us = netif::parse_number(v, 1000000);
        if (!us)
            return fail(EINVAL, fmt::format("--busy-poll-us: '{}' is not a number of "
                                            "microseconds up to 1000000",
                                            v));
        c.busy_poll = std::chrono::microseconds(*us);
        return true;
    }
    if (key == "--stall-ms") {
        XNET_TRY_ASSIGN(auto v, a.value(key));
        auto ms = netif::parse_number(v, 60000);
        if (!ms || *ms == 0)
            return fail(EINVAL, fmt::format("--stall-ms: '{}' is not a number of "
                                            "milliseconds in 1..60000",
                                            v));
        c.stall_report = std::chrono::milliseconds(*ms);
        return true;
    }
    if (key == "--platform") {
        XNET_TRY_ASSIGN(auto v, a.value(key));
        XNET_TRY_ASSIGN(c.platform, parse_platform(v));
        return true;
    }
    for (const auto& s : offload::kSettings) {
        if (key != s.option) continue;
        XNET_TRY_ASSIGN(auto v, a.value(key));
        XNET_TRY(offload::set(c.policy, s.key, v));
        return true;
    }
    return false;
}

int guarded_main(std::string_view program, const std::function<int()>& body, int failed) {
    try {
        return body();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%.*s: unexpected error: %s\n", int(program.size()), program.data(),
                     e.what());
    } catch (...) {
        std::fprintf(stderr, "%.*s: unexpected error\n", int(program.size()), program.data());
    }
    return failed;
}

}  // namespace xnet::cli
