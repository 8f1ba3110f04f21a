#include "device/daemon.h"

#include <sys/stat.h>

#include <cstdlib>

#include <fmt/format.h>

#include "device/store_watchdog.h"
#include "runtime/json.h"
#include "runtime/log.h"
#include "runtime/memory.h"

namespace xnet {
namespace {

// The loop's own figures (EpollReactor::Stalls), for the request "loop";
// "loop reset" answers them and starts again.
std::string loop_reply(EpollReactor& loop, bool reset) {
    const auto& s = loop.stalls();
    JsonWriter w;
    w.begin_object().key("loop").begin_object();
    w.field("stalls", s.count).field("longest_stall_ms", s.longest.count());
    w.field("longest_handler_us", s.longest_any.count());
    w.end_object().end_object();
    if (reset) loop.reset_stalls();
    return w.take();
}

}  // namespace

std::string control_dir(const Platform& p) {
    if (const char* d = std::getenv("XNET_CONTROL_DIR"); d && *d) return d;
    return p.run_dir();
}

std::string backend_control_path(const Platform& p) {
    return control_dir(p) + "/xnetback.sock";
}

std::string frontend_control_path(const Platform& p, unsigned devid) {
    return control_dir(p) + "/xnetfront-" + std::to_string(devid) + ".sock";
}

Daemon::Daemon(std::string program, std::string usage, std::span<const cli::OptionHelp> options,
               std::string_view socket)
    : program_(std::move(program)), usage_(std::move(usage) + "\n") {
    for (const auto& o : options)
        usage_ += cli::help_line(o);
    const std::string help = fmt::format(
        "control socket (default: /run/xnet/{},\non xnet-sim under the domain's directory)",
        socket);
    usage_ += cli::help_line({"--control PATH", help});
}

int Daemon::usage_error(const std::string& message) const {
    fmt::print(stderr, "{}: {}\nTry '{} --help'.\n", program_, message, program_);
    return 2;
}

int Daemon::fatal(const Error& e) const {
    log::error("{}", e.message());
    return 1;
}

std::optional<int> Daemon::parse(int argc, char** argv, const Option& own) {
    cli::Args a(argc, argv);
    while (!a.done()) {
        std::string key(a.next());
        if (key == "--help") {
            fmt::print("{}{}  --help, --version\n", usage_, cli::common_help());
            return 0;
        }
        if (key == "--version") {
            fmt::print("{} {}\n", program_, XNET_VERSION);
            return 0;
        }
        if (key == "--control") {
            auto v = a.value(key);
            if (!v) return usage_error(v.error().message());
            control_ = *v;
            continue;
        }
        auto c = cli::common_option(key, a, common_);
        if (!c) return usage_error(c.error().message());
        if (*c) continue;
        auto mine = own(key, a);
        if (!mine) return usage_error(mine.error().message());
        if (!*mine) return usage_error("unknown option '" + key + "'");
    }
    kind_ = common_.platform.value_or(default_platform());
    log::set_verbose(common_.verbose);
    return std::nullopt;
}

Status Daemon::open() {
    XNET_TRY_ASSIGN(platform_, open_platform(kind_));
    XNET_TRY_ASSIGN(auto store, platform_->open_store());
    xs_.emplace(std::move(store));
    XNET_TRY_ASSIGN(loop_, EpollReactor::create());
    XNET_TRY(loop_->stop_on_signals());
    loop_->report_stalls(common_.stall_report);
    return {};
}

int Daemon::serve(const std::string& control, ControlServer::Handler handler,
                  const std::function<Status()>& start, std::string_view stopping) {
    mkdir(control.substr(0, control.rfind('/')).c_str(), 0755);
    auto answer = [this, h = std::move(handler)](std::string_view req) {
        if (req == "loop" || req == "loop reset") return loop_reply(*loop_, req != "loop");
        if (req == "memory") return memory_reply();
        return h(req);
    };
    auto server = ControlServer::listen(*loop_, control, std::move(answer));
    if (!server) return fatal(server.error());
    if (auto st = start(); !st) return fatal(st.error());
    // A dead xenstored (or xnet-sim) ends the daemon, with a message.
    std::optional<Error> lost;
    StoreWatchdog watchdog(*loop_, *xs_, fmt::format("/local/domain/{}", platform_->self()),
                           [&](const Error& e) {
                               lost = e;
                               loop_->stop();
                           });
    if (auto w = watchdog.start(); !w) return fatal(w.error());
    if (auto st = loop_->run(); !st) return fatal(st.error());
    if (lost) return fatal(Error{0, lost->message() + "; exiting"});
    log::info("{}", stopping);
    return 0;
}

}  // namespace xnet
