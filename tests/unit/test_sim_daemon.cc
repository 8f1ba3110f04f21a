// The xnet-sim daemon against misbehaving clients over its real sockets:
// garbage, oversized lengths, unknown message types, clients that stop
// reading or die half-way. Each gets an error reply or its connection
// closed; the daemon stays up and other clients notice nothing.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include <xen/io/xs_wire.h>

#include "platform/sim/sim_proto.h"
#include "runtime/fd.h"
#include "sim_fixture.h"

using namespace xnet;

namespace {

UniqueFd connect_to(const std::string& path, int type) {
    UniqueFd fd(socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof sa.sun_path);
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    return fd;
}

std::string message(uint32_t type, std::string_view payload, uint32_t req_id = 1,
                    uint32_t len_override = UINT32_MAX) {
    xsd_sockmsg h{type, req_id, 0,
                  len_override == UINT32_MAX ? uint32_t(payload.size()) : len_override};
    std::string m(reinterpret_cast<const char*>(&h), sizeof h);
    m += payload;
    return m;
}

// A hand-driven xenstore connection, so a test can send what libxenstore
// never would.
class RawXs {
  public:
    RawXs(const std::string& dir, uint32_t dom)
        : fd_(connect_to(simproto::xenstore_socket(dir, dom), SOCK_STREAM)) {}

    bool send_all(std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0) return false;
            bytes.remove_prefix(size_t(n));
        }
        return true;
    }

    // The next message, or nullopt if the daemon closed the connection (or
    // said nothing for 5 s).
    std::optional<std::pair<xsd_sockmsg, std::string>> next() {
        xsd_sockmsg h;
        if (!read_exact(&h, sizeof h)) return std::nullopt;
        std::string body(h.len, '\0');
        if (!read_exact(body.data(), body.size())) return std::nullopt;
        return std::pair{h, body};
    }

    // True when the daemon has closed the connection: EOF within 5 s, with
    // anything still queued before it discarded.
    bool closed_by_daemon() {
        char buf[65536];
        for (;;) {
            pollfd p{fd_.get(), POLLIN, 0};
            if (poll(&p, 1, 5000) != 1) return false;
            ssize_t n = recv(fd_.get(), buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
            if (n < 0) return false;
        }
    }

    int fd() const { return fd_.get(); }

  private:
    bool read_exact(void* dst, size_t len) {
        auto* p = static_cast<char*>(dst);
        while (len > 0) {
            pollfd pfd{fd_.get(), POLLIN, 0};
            if (poll(&pfd, 1, 5000) != 1) return false;
            ssize_t n = recv(fd_.get(), p, len, 0);
            if (n <= 0) return false;
            p += n;
            len -= size_t(n);
        }
        return true;
    }

    UniqueFd fd_;
};

std::string z(std::string_view s) {
    std::string r(s);
    r.push_back('\0');
    return r;
}

// What another, well-behaved client sees meanwhile: a write and a read
// through libxenstore, as dom0.
void bystander_works(xt::SimDaemon& sim, const std::string& value) {
    auto xs = XenStore::open(simproto::xenstore_socket(sim.dir(), 0));
    REQUIRE(xs);
    REQUIRE(xs->write("/bystander", value));
    auto v = xs->read("/bystander");
    REQUIRE(v);
    CHECK(*v == value);
}

}  // namespace

TEST_CASE("sim daemon: unknown types and malformed payloads get error replies") {
    xt::SimDaemon sim;
    RawXs c(sim.dir(), 0);

    // A type no xenstored knows, then the two that only servers send.
    for (uint32_t type :
         {uint32_t(XS_TYPE_COUNT + 7), uint32_t(XS_WATCH_EVENT), uint32_t(XS_ERROR)}) {
        REQUIRE(c.send_all(message(type, "junk", 40 + type)));
        auto r = c.next();
        REQUIRE(r);
        CHECK(r->first.type == XS_ERROR);
        CHECK(r->first.req_id == 40 + type);
        CHECK(r->second == z("ENOSYS"));
    }
    // READ needs exactly one terminated string; WRITE needs a path.
    for (const auto& [type, payload] :
         {std::pair{XS_READ, std::string("no-terminator")}, std::pair{XS_READ, z("a") + z("b")},
          std::pair{XS_WRITE, std::string("no-nul")}, std::pair{XS_TRANSACTION_END, z("X")}}) {
        REQUIRE(c.send_all(message(type, payload, 7)));
        auto r = c.next();
        REQUIRE(r);
        CHECK(r->first.type == XS_ERROR);
        CHECK(r->second == z("EINVAL"));
    }
    // Random bytes whose headers happen to be small: each parsed message
    // gets one reply and the connection stays usable afterwards.
    uint32_t seed = 12345;
    std::string noise;
    for (int i = 0; i < 20; ++i) {
        std::string payload;
        for (int j = 0; j < 16; ++j) {
            seed = seed * 1103515245 + 12345;
            payload.push_back(char(seed >> 16));
        }
        noise += message(seed % 64, payload, 100 + uint32_t(i));
    }
    REQUIRE(c.send_all(noise));
    for (int i = 0; i < 20; ++i) {
        auto r = c.next();
        REQUIRE(r);
        CHECK(r->first.req_id == 100 + uint32_t(i));
        if (r->first.type == XS_WATCH_EVENT) --i;  // a watch the noise happened to set
    }
    REQUIRE(c.send_all(message(XS_WRITE, z("/after-noise") + "ok", 9)));
    auto r = c.next();
    while (r && r->first.type == XS_WATCH_EVENT)
        r = c.next();
    REQUIRE(r);
    CHECK(r->first.type == XS_WRITE);
    bystander_works(sim, "1");
}

TEST_CASE("sim daemon: an oversized length closes only that connection") {
    xt::SimDaemon sim;
    sim.create_domain(4);
    RawXs guest(sim.dir(), 4);
    RawXs other(sim.dir(), 4);
    // A header announcing more than XENSTORE_PAYLOAD_MAX, as dom0 and as a
    // guest: xenstored drops such a client without a reply.
    REQUIRE(guest.send_all(message(XS_READ, "", 1, XENSTORE_PAYLOAD_MAX + 1)));
    CHECK(guest.closed_by_daemon());
    RawXs dom0(sim.dir(), 0);
    REQUIRE(dom0.send_all(message(XS_WRITE, "x", 1, 0x80000000u)));
    CHECK(dom0.closed_by_daemon());
    // Exactly XENSTORE_PAYLOAD_MAX is allowed.
    std::string big = z("/local/domain/4/big") + std::string(XENSTORE_PAYLOAD_MAX - 20, 'v');
    REQUIRE(big.size() == XENSTORE_PAYLOAD_MAX);
    REQUIRE(other.send_all(message(XS_WRITE, big, 3)));
    auto r = other.next();
    REQUIRE(r);
    CHECK(r->first.req_id == 3);
    bystander_works(sim, "2");
}

TEST_CASE("sim daemon: a client that stops reading is dropped, others are served") {
    xt::SimDaemon sim;
    auto xs = XenStore::open(simproto::xenstore_socket(sim.dir(), 0));
    REQUIRE(xs);
    REQUIRE(xs->write("/big", std::string(4000, 'b')));

    // Ask for the 4000-byte value over and over without reading a reply:
    // the daemon queues until its per-connection backlog (4 MiB) is
    // exceeded, then closes the connection instead of growing forever.
    RawXs sulky(sim.dir(), 0);
    const std::string req = message(XS_READ, z("/big"));
    bool dropped = false;
    int sent = 0;
    for (int i = 0; i < 20000 && !dropped; ++i) {
        pollfd p{sulky.fd(), POLLOUT, 0};
        if (poll(&p, 1, 5000) != 1) break;  // the daemon stopped reading: wrong
        if (p.revents & (POLLERR | POLLHUP)) {
            dropped = true;
            break;
        }
        dropped = !sulky.send_all(req);
        ++sent;
        if (i % 256 == 0) bystander_works(sim, std::to_string(i));
    }
    CHECK(dropped);
    // Not before the backlog limit: 4 MiB of 4 KiB replies.
    CHECK(sent > (4 << 20) / 4096);
    bystander_works(sim, "done");
}

TEST_CASE("sim daemon: clients that die mid-message or mid-transaction leave nothing behind") {
    xt::SimDaemon sim;
    sim.create_domain(6);
    auto xs = XenStore::open(simproto::xenstore_socket(sim.dir(), 0));
    REQUIRE(xs);
    REQUIRE(xs->write("/local/domain/6", ""));
    REQUIRE(xs->set_perms("/local/domain/6", {XsPerm{6, XsPerm::none}}));
    for (int round = 0; round < 3; ++round) {
        pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            // A guest that opens a transaction, writes in it, sets 60
            // watches, sends half a request and is killed.
            RawXs c(sim.dir(), 6);
            c.send_all(message(XS_TRANSACTION_START, z("")));
            auto t = c.next();
            if (!t) _exit(1);
            xsd_sockmsg h{XS_WRITE, 2, uint32_t(std::stoul(t->second)), 0};
            std::string w = z("/local/domain/6/ghost") + "boo";
            h.len = uint32_t(w.size());
            c.send_all(std::string(reinterpret_cast<const char*>(&h), sizeof h) + w);
            for (int i = 0; i < 60; ++i)
                c.send_all(message(XS_WATCH, z("/local/domain/6/w" + std::to_string(i)) + z("t")));
            c.send_all(message(XS_WRITE, z("/local/domain/6/half") + "x", 4).substr(0, 20));
            // The write's reply, then each watch's reply and initial event.
            for (int i = 0; i < 1 + 2 * 60; ++i) {
                auto r = c.next();
                if (!r || r->first.type == XS_ERROR) _exit(2);
            }
            kill(getpid(), SIGKILL);
        }
        int status = 0;
        REQUIRE(waitpid(child, &status, 0) == child);
        REQUIRE(WIFSIGNALED(status));
    }
    // The transactions died uncommitted, the half message was never
    // applied, and the watches went with their connections: a new client
    // of the domain has its whole watch quota (128 per domain; 180 were
    // set by the dead ones).
    for (const char* path : {"/local/domain/6/ghost", "/local/domain/6/half"}) {
        auto v = xs->try_read(path);
        REQUIRE(v);
        CHECK_FALSE(v->has_value());
    }
    RawXs fresh(sim.dir(), 6);
    for (uint32_t i = 1; i <= 128; ++i) {
        REQUIRE(fresh.send_all(
            message(XS_WATCH, z("/local/domain/6/x" + std::to_string(i)) + z("t"), i)));
        auto r = fresh.next();
        REQUIRE(r);
        CHECK(r->first.type == XS_WATCH);
        REQUIRE(fresh.next());  // the initial event
    }
    bystander_works(sim, "3");
}

TEST_CASE("sim daemon: malformed platform requests get EINVAL, the daemon stays up") {
    xt::SimDaemon sim;
    sim.create_domain(2);
    auto fd = connect_to(simproto::platform_socket(sim.dir(), 2), SOCK_SEQPACKET);
    auto call = [&](const void* data, size_t len) -> std::optional<simproto::Reply> {
        if (send(fd.get(), data, len, MSG_NOSIGNAL) != ssize_t(len)) return std::nullopt;
        pollfd p{fd.get(), POLLIN, 0};
        if (poll(&p, 1, 5000) != 1) return std::nullopt;
        simproto::Reply rep;
        ssize_t n = recv(fd.get(), &rep, sizeof rep, 0);
        if (n != ssize_t(sizeof rep)) return std::nullopt;
        return rep;
    };
    // Too short to hold a request header.
    const char tiny[3] = {1, 2, 3};
    auto r = call(tiny, sizeof tiny);
    REQUIRE(r);
    CHECK(r->status == -EINVAL);
    // A batch count past kMaxBatch, and one longer than the datagram.
    simproto::Request req{simproto::Op::map, 0};
    req.count = simproto::kMaxBatch + 1;
    r = call(&req, sizeof req);
    REQUIRE(r);
    CHECK(r->status == -EINVAL);
    req.count = 8;
    r = call(&req, offsetof(simproto::Request, refs) + 4);
    REQUIRE(r);
    CHECK(r->status == -EINVAL);
    // An operation that does not exist, and a toolstack one from a guest.
    req = simproto::Request{simproto::Op(999), 0};
    r = call(&req, sizeof req);
    REQUIRE(r);
    CHECK(r->status == -ENOSYS);
    req = simproto::Request{simproto::Op::domain_destroy, 0};
    r = call(&req, sizeof req);
    REQUIRE(r);
    CHECK(r->status == -EPERM);
    // The guest's grant and event services still work for it.
    auto plat = sim.platform(2);
    auto gs = plat->open_gntshr();
    REQUIRE(gs);
    CHECK((*gs)->share(0, 1, false));
    bystander_works(sim, "4");
}

TEST_CASE("sim daemon: domain_list pages through more domains than one reply holds") {
    xt::SimDaemon sim;
    const uint32_t n = simproto::kMaxBatch + 44;  // 300 guests and dom0
    for (uint32_t d = 1; d <= n; ++d)
        sim.create_domain(d);
    auto fd = connect_to(simproto::platform_socket(sim.dir(), 0), SOCK_SEQPACKET);
    auto list_from = [&](uint32_t from) {
        simproto::Request req{simproto::Op::domain_list, from};
        REQUIRE(send(fd.get(), &req, sizeof req, MSG_NOSIGNAL) == ssize_t(sizeof req));
        simproto::Reply rep;
        REQUIRE(recv(fd.get(), &rep, sizeof rep, 0) == ssize_t(sizeof rep));
        REQUIRE(rep.status == 0);
        return rep;
    };
    auto first = list_from(0);
    CHECK(first.count == simproto::kMaxBatch);
    CHECK(first.b == 1);  // more to come
    CHECK(first.refs[0] == 0);
    CHECK(first.refs[simproto::kMaxBatch - 1] == simproto::kMaxBatch - 1);
    auto rest = list_from(first.refs[first.count - 1] + 1);
    CHECK(rest.count == n + 1 - simproto::kMaxBatch);
    CHECK(rest.b == 0);
    CHECK(rest.refs[0] == simproto::kMaxBatch);
    CHECK(rest.refs[rest.count - 1] == n);
}
