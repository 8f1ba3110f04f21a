// Helpers shared by xnet-sim's commands.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "commands.h"
#include "platform/sim/sim_conn.h"
#include "platform/sim/sim_proto.h"

extern char** environ;

namespace xnet::sim::cli {

std::string sim_dir(const std::string& flag) {
    return flag.empty() ? simproto::dir_from_env() : flag;
}

int error(const std::string& message) {
    fmt::print(stderr, "xnet-sim: {}\n", message);
    return 1;
}

Status require_running(const std::string& dir) {
    if (!sim_client::SimConn::open(dir, 0)) {
        return fail(
            0, fmt::format("xnet-sim is not running in {} (start it with 'xnet-sim start')", dir));
    }
    return {};
}

Result<XenStore> toolstack_store(const std::string& dir) {
    return XenStore::open(simproto::xenstore_socket(dir, 0));
}

bool domain_exists(const std::string& dir, uint32_t dom) {
    return access(simproto::platform_socket(dir, dom).c_str(), F_OK) == 0;
}

std::string netns_name(uint32_t dom) {
    return fmt::format("xnet-dom{}", dom);
}

Result<uint32_t> parse_domid(const std::string& s) {
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() ||
        v >= simproto::kMaxDomains) {
        return fail(0, fmt::format("'{}' is not a domain id (0-{})", s, simproto::kMaxDomains - 1));
    }
    return v;
}

Args domain_env(const std::string& dir, uint32_t dom) {
    return {
        "XNET_PLATFORM=sim",
        "XNET_SIM_DIR=" + dir,
        fmt::format("XNET_SIM_DOMID={}", dom),
        "XENSTORED_PATH=" + simproto::xenstore_socket(dir, dom),
    };
}

Result<int> run(const Args& argv, const Args& env, bool quiet, int timeout_s) {
    pid_t pid = fork();
    if (pid < 0) return fail(errno, "starting " + argv[0]);
    if (pid == 0) {
        for (const auto& e : env)
            putenv(const_cast<char*>(e.c_str()));
        if (quiet) {
            if (FILE* f = std::freopen("/dev/null", "w", stdout)) (void)f;
            if (FILE* f = std::freopen("/dev/null", "w", stderr)) (void)f;
        }
        std::vector<char*> a;
        for (const auto& s : argv)
            a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        execvp(a[0], a.data());
        fmt::print(stderr, "xnet-sim: running {}: {}\n", argv[0], std::strerror(errno));
        _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, timeout_s > 0 ? WNOHANG : 0);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (r < 0 && errno != EINTR) return fail(errno, "waiting for " + argv[0]);
        if (timeout_s > 0 && std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return fail(ETIMEDOUT, fmt::format("{} did not finish in {} s", argv[0], timeout_s));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace xnet::sim::cli
