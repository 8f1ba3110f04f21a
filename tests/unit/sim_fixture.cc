#include "sim_fixture.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <doctest/doctest.h>

#include "platform/sim/sim_conn.h"
#include "sim/daemon.h"

namespace xt {

SimDaemon::SimDaemon() {
    char tmpl[] = "/tmp/xnet-sim-test.XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    dir_ = tmpl;
    auto pid = xnet::sim::spawn_daemon(dir_);
    REQUIRE(pid);
    pid_ = *pid;
}

SimDaemon::~SimDaemon() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

// The toolstack's request for DOM, as dom0; it must succeed.
static void toolstack(const std::string& dir, xnet::simproto::Op op, uint32_t dom) {
    auto c = xnet::sim_client::SimConn::open(dir, 0);
    REQUIRE(c);
    auto r = c->call(xnet::simproto::Request{op, dom});
    REQUIRE(r);
    REQUIRE(r->status == 0);
}

void SimDaemon::create_domain(uint32_t dom) {
    toolstack(dir_, xnet::simproto::Op::domain_create, dom);
}

void SimDaemon::destroy_domain(uint32_t dom) {
    toolstack(dir_, xnet::simproto::Op::domain_destroy, dom);
}

std::unique_ptr<xnet::Platform> SimDaemon::platform(uint32_t dom) {
    auto p = xnet::open_sim_platform(dir_, dom);
    REQUIRE(p);
    return std::move(*p);
}

}  // namespace xt
