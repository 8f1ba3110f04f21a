// Which end of which vif an xnetctl command is about, where its keys live
// and which daemon (if any here) serves it.
//
//   vifD.N          in the backend domain: /local/domain/<self>/backend/vif/D/N,
//                   served by xnetback; with --frontend the guest's end,
//                   /local/domain/D/device/vif/N (its daemon runs in the guest)
//   IF (eth0, ...)  in a guest: the device/vif/N whose xnetfront serves IF;
//                   with --backend the backend's end of it (read-only here)
#pragma once

#include <string>

#include "args.h"
#include "platform/platform.h"
#include "runtime/expected.h"

namespace xnet::ctl {

struct End {
    bool backend = true;
    std::string name;      // vif1.0, eth0
    std::string dir;       // its xenstore directory
    std::string peer_dir;  // the other end's, empty if not known
    std::string control;   // its daemon's control socket; empty if not reachable from here
    std::string request;   // what to ask that daemon for this end's stats
};

struct Failure {
    int exit = kFailure;
    std::string message;
};

Expected<End, Failure> resolve(const Command& c, const Platform& p, const XenStore& xs);

// Asks the daemon at PATH; failures carry their exit status.
Expected<std::string, Failure> ask(const std::string& path, const std::string& request);

// A xenstore error as a failure: EACCES is kPermission.
Failure store_failure(const Error& e);

}  // namespace xnet::ctl
