// The xnet-sim daemon: one event loop serving every domain's xenstore socket
// (the xenstore wire protocol, connection = domain) and platform socket
// (grants and event channels, connection = handle).
#pragma once

#include <sys/types.h>
#include <memory>

#include <string>

#include "runtime/error.h"

namespace xnet::sim {

struct DaemonOptions {
    std::string dir;    // sockets live in DIR/dom<N>/
    int ready_fd = -1;  // written once the sockets accept connections
};

// Runs until SIGTERM or SIGINT; returns the error that stopped it, if any.
Status run_daemon(const DaemonOptions& opts);

// Forks a daemon serving DIR and returns its pid once its sockets accept
// connections (for tests and benchmarks; SIGTERM stops it).
Result<pid_t> spawn_daemon(const std::string& dir);

}  // namespace xnet::sim
