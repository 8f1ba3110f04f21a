// What both daemons' main() share: the command line (the options every
// daemon takes, --help, --version, and the daemon's own through a
// callback), the platform, xenstore and the event loop (stopped by
// SIGINT/SIGTERM, stalls reported), then the control socket, the xenstore
// watchdog and the loop's run. A daemon's main says only what is its own:
// its options, its grant service and its device object.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "device/options.h"
#include "platform/platform.h"
#include "platform/xenstore.h"
#include "runtime/control.h"
#include "runtime/error.h"
#include "runtime/reactor.h"

namespace xnet {

// Where a daemon of this domain keeps its control socket: the platform's
// run_dir(), unless XNET_CONTROL_DIR says otherwise.
std::string control_dir(const Platform& p);
std::string backend_control_path(const Platform& p);
std::string frontend_control_path(const Platform& p, unsigned devid);

class Daemon {
  public:
    // One of the daemon's own options: true if KEY was one (its value taken
    // from A), false if not, an error for a bad value.
    using Option = std::function<Result<bool>(std::string_view key, cli::Args& a)>;

    // PROGRAM names the daemon in messages; USAGE starts its --help, and
    // OPTIONS (its own) come before the common ones. SOCKET names its
    // control socket in control_dir() for --control's help.
    Daemon(std::string program, std::string usage, std::span<const cli::OptionHelp> options,
           std::string_view socket);

    // Parses argv. nullopt: go on; else the exit status (0 after --help or
    // --version, 2 after a usage error, which is printed).
    std::optional<int> parse(int argc, char** argv, const Option& own);
    const cli::Common& common() const { return common_; }
    PlatformKind kind() const { return kind_; }

    // The platform, its xenstore connection and the event loop.
    Status open();
    Platform& platform() { return *platform_; }
    XenStore& xs() { return *xs_; }
    EpollReactor& loop() { return *loop_; }

    // The control socket: --control's, else DEFAULT_PATH.
    std::string control(const std::string& default_path) const {
        return control_.empty() ? default_path : control_;
    }

    // Serves CONTROL with HANDLER, calls START, runs the loop until a
    // signal or the loss of xenstore; logs STOPPING on a clean end. The
    // exit status.
    int serve(const std::string& control, ControlServer::Handler handler,
              const std::function<Status()>& start, std::string_view stopping);

    // Logs E and returns the exit status of a failed daemon.
    int fatal(const Error& e) const;
    int usage_error(const std::string& message) const;

  private:
    std::string program_, usage_;
    std::string control_;  // --control
    cli::Common common_;
    PlatformKind kind_ = PlatformKind::xen;
    std::unique_ptr<Platform> platform_;
    std::optional<XenStore> xs_;
    std::unique_ptr<EpollReactor> loop_;
};

}  // namespace xnet
