// xnetctl's command line: what to do, to which interface, at which end.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

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

enum class Verb { list, show, set, stats, profile };
enum class EndChoice { automatic, backend, frontend };

struct Command {
    Verb verb = Verb::list;
    std::string ifname;
    EndChoice end = EndChoice::automatic;
    bool json = false;
    bool peer = false;                                          // -k: the other end's keys too
    std::vector<std::pair<std::string, std::string>> settings;  // -K: offload key, on/off
    std::string profile;                                        // profile IF NAME
    std::string control;                                        // --control: the socket to ask
};

struct Parsed {
    std::optional<Command> command;  // none: help or version was printed
    int exit = kOk;
    std::string error;  // set when exit != kOk
};

// Parses ARGV (without the program name). Feature names are checked here
// (tx, rx, tx-data-validated, sg, tso, and the key names themselves) and
// mapped to the offload key names; values must be on or off.
Parsed parse(const std::vector<std::string>& args);

extern const char* const kHelp;

}  // namespace xnet::ctl
