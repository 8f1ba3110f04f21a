// xnetctl's command line: what to do, to which interface, at which end.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "netif/credit.h"

namespace xnet::ctl {

// Exit statuses a script can rely on (also in docs/xnetctl.1).
enum Exit : int {
    kOk = 0,
    kDaemonError = 1,  // the daemon answered with an error
    kUsage = 2,        // bad syntax, unknown feature, bad value, unknown profile
    kNotRunning = 3,   // no daemon answers on the control socket
    kNoInterface = 4,  // no such interface
    kPermission = 5,   // xenstore refused (a guest writing what is not its own)
    kFailure = 6,      // anything else (xenstore unreachable, ...)
};

enum class Verb { list, show, set, stats, profile, rate, keys };
enum class EndChoice { automatic, backend, frontend };

struct Command {
    Verb verb = Verb::list;
    std::string ifname;
    EndChoice end = EndChoice::automatic;
    bool json = false;
    bool peer = false;                                          // -k: the other end's keys too
    std::vector<std::pair<std::string, std::string>> settings;  // -K: offload key, on/off;
                                                                // policy-keys --check: pairs
    std::string profile;                                        // profile IF NAME
    netif::Rate rate;                                           // rate IF RATE (unlimited: off)
    std::string control;                                        // --control: the socket to ask
};

struct Parsed {
    std::optional<Command> command;  // none: help or version was printed
    int exit = kOk;
    std::string error;  // set when exit != kOk
};

// Parses ARGV (without the program name). Feature names are checked here
// (each setting's key or alias, netif/policy.h) and mapped to the offload
// key names; values must be on or off.
Parsed parse(const std::vector<std::string>& args);

// The offload key a feature name (key or alias) stands for.
std::optional<std::string> feature_key(std::string_view name);
// Why VALUE is not one KEY of <dir>/offload/ takes (profile or a
// setting), as the daemons would say it; nullopt if it is.
std::optional<std::string> check_key(std::string_view key, std::string_view value);

std::string help();

}  // namespace xnet::ctl
