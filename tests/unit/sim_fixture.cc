#include "sim_fixture.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <doctest/doctest.h>

#include "common/platform/sim_conn.h"
#include "sim/daemon.h"

namespace xt {

SimDaemon::SimDaemon() {
    char tmpl[] = "/tmp/xnet-sim-test.XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    dir_ = tmpl;
    int ready[2];
    REQUIRE(pipe(ready) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
        close(ready[0]);
        auto r = xnet::sim::run_daemon({dir_, ready[1]});
        _exit(r ? 0 : 1);
    }
    close(ready[1]);
    char ok = 0;
    REQUIRE(read(ready[0], &ok, 1) == 1);
    close(ready[0]);
}

SimDaemon::~SimDaemon() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

void SimDaemon::create_domain(uint32_t dom) {
    auto c = xnet::sim_client::SimConn::open(dir_, 0);
    REQUIRE(c);
    auto r = c->call(xnet::simproto::Request{xnet::simproto::Op::domain_create, dom});
    REQUIRE(r);
    REQUIRE(r->status == 0);
}

void SimDaemon::destroy_domain(uint32_t dom) {
    auto c = xnet::sim_client::SimConn::open(dir_, 0);
    REQUIRE(c);
    auto r = c->call(xnet::simproto::Request{xnet::simproto::Op::domain_destroy, dom});
    REQUIRE(r);
    REQUIRE(r->status == 0);
}

std::unique_ptr<xnet::Platform> SimDaemon::platform(uint32_t dom) {
    auto p = xnet::open_sim_platform(dir_, dom);
    REQUIRE(p);
    return std::move(*p);
}

}  // namespace xt
