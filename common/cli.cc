#include "xnet/cli.h"

#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include "xnet/netif.h"

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

const char* const kCommonHelp =
    "  --profile safe|offload|suppress  checksum preset (default: safe)\n"
    "  --tx-checksum on|off        put partial checksums on the ring\n"
    "  --rx-checksum on|off        take partial checksums and data-validated from the ring\n"
    "  --tx-data-validated on|off  mark frames known to be good\n"
    "  --sg on|off                 scatter-gather (multi-slot packets)\n"
    "  --tso on|off                TCP segmentation offload (GSO on the ring)\n"
    "  --platform xen|sim          hypervisor services (default: xen if /dev/xen/evtchn)\n"
    "  --busy-poll-us N            after work, poll a ring this long before sleeping\n"
    "                              (default 50; 0: sleep at once)\n"
    "  --verbose                   log more\n";

Result<bool> common_option(std::string_view key, Args& a, Common& c) {
    static const std::pair<const char*, const char*> settings[] = {
        {"--tx-checksum", "tx-checksum"},
        {"--rx-checksum", "rx-checksum"},
        {"--tx-data-validated", "tx-data-validated"},
        {"--sg", "scatter-gather"},
        {"--tso", "tcp-segmentation-offload"},
    };
    if (key == "--verbose") {
        c.verbose = true;
        return true;
    }
    if (key == "--profile") {
        auto v = a.value(key);
        if (!v) return Unexpected{v.error()};
        auto p = offload::profile(*v);
        if (!p) return Unexpected{p.error()};
        c.policy = *p;
        return true;
    }
    if (key == "--busy-poll-us") {
        auto v = a.value(key);
        if (!v) return Unexpected{v.error()};
        auto us = netif::parse_number(*v, 1000000);
        if (!us)
            return fail(EINVAL, fmt::format("--busy-poll-us: '{}' is not a number of "
                                            "microseconds up to 1000000",
                                            *v));
        c.busy_poll = std::chrono::microseconds(*us);
        return true;
    }
    if (key == "--platform") {
        auto v = a.value(key);
        if (!v) return Unexpected{v.error()};
        auto k = parse_platform(*v);
        if (!k) return Unexpected{k.error()};
        c.platform = *k;
        return true;
    }
    for (auto [opt, name] : settings) {
        if (key != opt) continue;
        auto v = a.value(key);
        if (!v) return Unexpected{v.error()};
        auto st = offload::set(c.policy, name, *v);
        if (!st) return Unexpected{st.error()};
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
