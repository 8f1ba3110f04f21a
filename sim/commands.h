// xnet-sim's command line: the toolstack's side (what xl and libxl do on
// Xen), talking to the daemon through its sockets like any other client.
#pragma once

#include <string>
#include <vector>

#include "platform/xenstore.h"
#include "runtime/error.h"

namespace xnet::sim::cli {

using Args = std::vector<std::string>;

// The sim's directory: --dir, else XNET_SIM_DIR, else /run/xnet-sim.
std::string sim_dir(const std::string& flag);

// Fails with "xnet-sim is not running in DIR" unless the daemon answers.
Status require_running(const std::string& dir);
Result<XenStore> toolstack_store(const std::string& dir);
bool domain_exists(const std::string& dir, uint32_t dom);
std::string netns_name(uint32_t dom);

// Runs a program and waits (argv[0] is looked up in PATH); returns its exit
// status, or 128+signal. ENV entries are added to the environment.
Result<int> run(const Args& argv, const Args& env = {}, bool quiet = false, int timeout_s = 0);

// The variables that make a process act as domain DOM.
Args domain_env(const std::string& dir, uint32_t dom);

Result<uint32_t> parse_domid(const std::string& s);

int cmd_start(const Args& args);
int cmd_stop(const Args& args);
int cmd_domain(const Args& args);
int cmd_env(const Args& args);
int cmd_exec(const Args& args);
int cmd_vif(const Args& args);

// Prints "xnet-sim: MESSAGE" to stderr and returns 1.
int error(const std::string& message);

}  // namespace xnet::sim::cli
