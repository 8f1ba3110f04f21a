// Grant tables and event channels on xnet-sim: Xen's checks and status
// codes, and two processes (dom0 and a guest) working through them.
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include <xen/grant_table.h>
#include <xen/xen.h>

#include "platform/sim/sim_conn.h"
#include "sim_fixture.h"

using namespace xnet;

namespace {

// Waits up to 5 s for a port to fire on EV; returns it (masked) or nullopt.
std::optional<Port> wait_port(EventChannels& ev) {
    pollfd p{ev.fd(), POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return std::nullopt;
    auto r = ev.pending();
    return r ? *r : std::nullopt;
}

CopySegment to_foreign(void* src, DomId dom, GrantRef ref, uint16_t off, uint16_t len) {
    CopySegment s;
    s.src.virt = src;
    s.dst = CopySide{true, nullptr, ref, off, dom};
    s.len = len;
    return s;
}

// A sim with domain 3, its grant-share handle and dom0's grant table.
struct Dom3Grants {
    xt::SimDaemon sim;
    std::unique_ptr<GrantShare> gs;
    std::unique_ptr<GrantTable> gt;
    Dom3Grants() {
        sim.create_domain(3);
        auto s = sim.platform(3)->open_gntshr();
        auto t = sim.platform(0)->open_gnttab();
        REQUIRE(s);
        REQUIRE(t);
        gs = std::move(*s);
        gt = std::move(*t);
    }
};

// Grant-copies the first byte of REF of DOM; the segment's status and the byte.
std::pair<int16_t, char> first_byte(GrantTable& gt, DomId dom, GrantRef ref) {
    char got = 0;
    CopySegment s{};
    s.src = CopySide{true, nullptr, ref, 0, dom};
    s.dst.virt = &got;
    s.len = 1;
    REQUIRE(gt.copy({&s, 1}));
    return {s.status, got};
}

}  // namespace

TEST_CASE("sim platform: a guest process and dom0 share, map, copy and signal") {
    xt::SimDaemon sim;
    sim.create_domain(3);
    int c2p[2], p2c[2];
    REQUIRE(pipe(c2p) == 0);
    REQUIRE(pipe(p2c) == 0);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The guest: shares two pages with dom0 and offers it a channel.
        auto plat = open_sim_platform(sim.dir(), 3);
        if (!plat) _exit(10);
        auto gs = (*plat)->open_gntshr();
        auto ev = (*plat)->open_evtchn();
        if (!gs || !ev) _exit(11);
        auto pages = (*gs)->share(0, 2, true);
        if (!pages) _exit(12);
        std::memset(pages->addr(), 'G', 2 * kPageSize);
        auto port = (*ev)->alloc_unbound(0);
        if (!port) _exit(13);
        uint32_t msg[3] = {pages->refs()[0], pages->refs()[1], *port};
        if (write(c2p[1], msg, sizeof msg) != sizeof msg) _exit(14);
        // dom0 writes through its mapping and copies into page 1, then kicks.
        auto fired = wait_port(**ev);
        if (!fired || *fired != *port) _exit(15);
        auto* bytes = static_cast<uint8_t*>(pages->addr());
        if (bytes[0] != 'M' || bytes[1] != 'G') _exit(16);
        if (bytes[kPageSize + 100] != 'D' || bytes[kPageSize + 99] != 'G') _exit(17);
        if (!(*ev)->unmask(*port) || !(*ev)->notify(*port)) _exit(18);
        char done;
        if (read(p2c[0], &done, 1) != 1) _exit(19);  // dom0 has unmapped
        _exit(0);
    }
    uint32_t msg[3];
    REQUIRE(read(c2p[0], msg, sizeof msg) == sizeof msg);
    auto dom0 = sim.platform(0);
    auto gt = dom0->open_gnttab();
    auto ev = dom0->open_evtchn();
    REQUIRE(gt);
    REQUIRE(ev);
    auto map = (*gt)->map(3, std::vector<GrantRef>{msg[0]}, true);
    REQUIRE(map);
    auto* mapped = static_cast<uint8_t*>(map->addr());
    CHECK(mapped[0] == 'G');
    mapped[0] = 'M';
    std::vector<uint8_t> local(kPageSize, 'D');
    CopySegment seg = to_foreign(local.data(), 3, msg[1], 100, 1);
    REQUIRE((*gt)->copy({&seg, 1}));
    CHECK(seg.status == GNTST_okay);
    auto port = (*ev)->bind_interdomain(3, msg[2]);
    REQUIRE(port);
    // Binding leaves the new port pending (notifications may have been lost).
    auto first = wait_port(**ev);
    CHECK(first == *port);
    REQUIRE((*ev)->unmask(*port));
    REQUIRE((*ev)->notify(*port));
    CHECK(wait_port(**ev) == *port);
    map->reset();
    char done = 1;
    REQUIRE(write(p2c[1], &done, 1) == 1);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    for (int fd : {c2p[0], c2p[1], p2c[0], p2c[1]})
        close(fd);
}

TEST_CASE("sim grants: every check fails with Xen's status") {
    xt::SimDaemon sim;
    sim.create_domain(3);
    sim.create_domain(4);
    auto guest = sim.platform(3);
    auto dom0 = sim.platform(0);
    auto gs = guest->open_gntshr();
    auto gt = dom0->open_gnttab();
    REQUIRE(gs);
    REQUIRE(gt);
    auto ro = (*gs)->share(0, 1, false);
    auto other = (*gs)->share(4, 1, true);
    REQUIRE(ro);
    REQUIRE(other);
    std::vector<uint8_t> buf(kPageSize, 1);
    auto copy_status = [&](CopySegment s) {
        REQUIRE((*gt)->copy({&s, 1}));
        return s.status;
    };
    GrantRef r = ro->refs()[0];
    CHECK(copy_status(to_foreign(buf.data(), 3, r, 0, 16)) == GNTST_general_error);  // read-only
    CHECK(copy_status(to_foreign(buf.data(), 3, other->refs()[0], 0, 16)) == GNTST_general_error);
    CHECK(copy_status(to_foreign(buf.data(), 3, 20000, 0, 16)) == GNTST_bad_gntref);
    CHECK(copy_status(to_foreign(buf.data(), 3, 300, 0, 16)) ==
          GNTST_general_error);  // never granted
    CHECK(copy_status(to_foreign(buf.data(), 99, r, 0, 16)) == GNTST_bad_domain);
    CopySegment read{};
    read.src = CopySide{true, nullptr, r, 4000, 3};
    read.dst.virt = buf.data();
    read.len = 200;
    CHECK(copy_status(read) == GNTST_bad_copy_arg);
    read.src.offset = 0;
    CHECK(copy_status(read) == GNTST_okay);
    CHECK_FALSE((*gt)->map(3, std::vector<GrantRef>{r}, true));  // write map of a r/o grant
    CHECK_FALSE((*gt)->map(3, std::vector<GrantRef>{other->refs()[0]}, false));
    auto bad_domain = (*gt)->map(99, std::vector<GrantRef>{r}, false);
    REQUIRE_FALSE(bad_domain);
    CHECK(bad_domain.error().what.find("GNTST_bad_domain") != std::string::npos);
    auto ok = (*gt)->map(3, std::vector<GrantRef>{r}, false);
    CHECK(ok);
}

// A backend that outlives many guests must not keep each one's memory:
// forget() drops what a grant copy cached of a domain (sim-soak found the
// descriptors growing with guest churn before it existed).
TEST_CASE("sim grants: forget() lets go of a destroyed domain's memory") {
    Dom3Grants g;
    auto memfds = [] {  // descriptors of this process open on domain 3's memory
        int n = 0;
        for (int fd = 0; fd < 1024; ++fd) {
            char link[256] = {};
            auto path = "/proc/self/fd/" + std::to_string(fd);
            if (readlink(path.c_str(), link, sizeof link - 1) > 0 &&
                std::strstr(link, "xnet-sim-dom3-memory")) {
                ++n;
            }
        }
        return n;
    };
    auto page = g.gs->share(0, 1, false);
    REQUIRE(page);
    int sharer = memfds();  // the guest's own handle, in this process too
    CHECK(first_byte(*g.gt, 3, page->refs()[0]).first == GNTST_okay);
    CHECK(memfds() == sharer + 1);  // cached for the next copy
    page->reset();
    g.sim.destroy_domain(3);
    CHECK(first_byte(*g.gt, 3, 8).first == GNTST_bad_domain);
    g.gt->forget(3);
    CHECK(memfds() == sharer);
}

TEST_CASE("sim grants: access cannot end while mapped; it ends after the unmap") {
    Dom3Grants f;
    auto& [sim, gs, gt] = f;
    auto pages = gs->share(0, 1, true);
    REQUIRE(pages);
    GrantRef ref = pages->refs()[0];
    auto map = gt->map(3, std::vector<GrantRef>{ref}, true);
    REQUIRE(map);
    pages->reset();  // unshare while mapped: deferred, the mapping stays valid
    static_cast<uint8_t*>(map->addr())[0] = 1;
    // A new mapping of the ref still works until the first one goes...
    CHECK(first_byte(*gt, 3, ref) == std::pair<int16_t, char>{GNTST_okay, 1});
    map->reset();
    // ...and once unmapped, the deferred end of access completes.
    CHECK(first_byte(*gt, 3, ref).first == GNTST_general_error);
}

TEST_CASE("sim event channels: masking, unbound ports, bad ports, destroyed peers") {
    xt::SimDaemon sim;
    sim.create_domain(3);
    auto guest = sim.platform(3);
    auto dom0 = sim.platform(0);
    auto gev = guest->open_evtchn();
    auto dev = dom0->open_evtchn();
    REQUIRE(gev);
    REQUIRE(dev);
    auto gport = (*gev)->alloc_unbound(0);
    REQUIRE(gport);
    CHECK((*gev)->notify(*gport));  // unbound: swallowed
    CHECK_FALSE((*gev)->notify(*gport + 100));
    CHECK(*(*gev)->peer_bound(*gport) == false);  // nobody bound it yet
    CHECK_FALSE((*gev)->peer_bound(*gport + 100));
    CHECK_FALSE((*dev)->bind_interdomain(3, *gport + 100));
    CHECK_FALSE((*dev)->bind_interdomain(77, *gport));
    auto dport = (*dev)->bind_interdomain(3, *gport);
    REQUIRE(dport);
    CHECK(*(*dev)->peer_bound(*dport));
    CHECK(*(*gev)->peer_bound(*gport));                // the guest's cached view refreshes
    CHECK_FALSE((*dev)->bind_interdomain(3, *gport));  // already bound
    REQUIRE(wait_port(**dev) == *dport);               // pending from the bind, now masked
    // The guest's cached binding refreshes: its notify reaches dom0, and is
    // held while the port is masked.
    REQUIRE((*gev)->notify(*gport));
    CHECK_FALSE(*(*dev)->pending());
    REQUIRE((*dev)->unmask(*dport));
    REQUIRE(wait_port(**dev) == *dport);
    // Masked: further notifies are held, one event after unmask.
    REQUIRE((*gev)->notify(*gport));
    REQUIRE((*gev)->notify(*gport));
    CHECK_FALSE(*(*dev)->pending());
    REQUIRE((*dev)->unmask(*dport));
    CHECK(wait_port(**dev) == *dport);
    CHECK_FALSE(*(*dev)->pending());
    REQUIRE((*dev)->unmask(*dport));
    // Destroying the guest wakes dom0's port.
    sim.destroy_domain(3);
    CHECK(wait_port(**dev) == *dport);
    CHECK((*dev)->notify(*dport));  // now unbound: swallowed
    CHECK(*(*dev)->peer_bound(*dport) == false);
}

// A frontend process that dies (its handle closes) leaves the backend's
// port unbound without a word: peer_bound() is how the backend learns it.
TEST_CASE("sim event channels: a peer's handle closing unbinds our port") {
    xt::SimDaemon sim;
    sim.create_domain(3);
    auto guest = sim.platform(3);
    auto dom0 = sim.platform(0);
    auto dev = dom0->open_evtchn();
    REQUIRE(dev);
    Port dport = 0;
    {
        auto gev = guest->open_evtchn();
        REQUIRE(gev);
        auto gport = (*gev)->alloc_unbound(0);
        REQUIRE(gport);
        auto p = (*dev)->bind_interdomain(3, *gport);
        REQUIRE(p);
        dport = *p;
        CHECK(*(*dev)->peer_bound(dport));
    }  // the guest's handle closes here, as when its process is killed
    bool bound = true;
    for (int i = 0; i < 100 && bound; ++i) {  // the daemon sees the close asynchronously
        auto b = (*dev)->peer_bound(dport);
        REQUIRE(b);
        bound = *b;
        if (bound) usleep(10000);
    }
    CHECK_FALSE(bound);
}

namespace {

// A domain's grant table and active table, mapped the way a sim client
// maps them, so a test can play a granter that breaks the rules.
struct RawTables {
    sim_client::ShmMap entries, active;
    grant_entry_v1* entry(GrantRef r) const { return entries.as<grant_entry_v1>() + r; }
    simproto::ActiveTable* table() const { return active.as<simproto::ActiveTable>(); }
};

RawTables raw_tables(const std::string& dir, DomId dom) {
    auto c = sim_client::SimConn::open(dir, 0);
    REQUIRE(c);
    std::vector<UniqueFd> fds;
    auto r = c->call(simproto::Request{simproto::Op::domain_fds, dom}, &fds);
    REQUIRE(r);
    REQUIRE(fds.size() == 3);
    auto e = sim_client::ShmMap::map(fds[1].get(), simproto::kGrantEntries * sizeof(grant_entry_v1),
                                     true, "grant table");
    auto a = sim_client::ShmMap::map(fds[2].get(), sizeof(simproto::ActiveTable), true, "active");
    REQUIRE(e);
    REQUIRE(a);
    return RawTables{std::move(*e), std::move(*a)};
}

}  // namespace

TEST_CASE("sim grants: a batch across chunks, domains and failures drops every pin") {
    xt::SimDaemon sim;
    sim.create_domain(3);
    sim.create_domain(4);
    auto dom0 = sim.platform(0);
    auto g3 = sim.platform(3)->open_gntshr();
    auto g4 = sim.platform(4)->open_gntshr();
    auto gt = dom0->open_gnttab();
    REQUIRE(g3);
    REQUIRE(g4);
    REQUIRE(gt);
    constexpr size_t kPages = 40;  // more than one chunk of the sim's copy
    auto from3 = (*g3)->share(0, kPages, false);
    auto into4 = (*g4)->share(0, kPages, true);
    REQUIRE(from3);
    REQUIRE(into4);
    auto* src = static_cast<uint8_t*>(from3->addr());
    for (size_t i = 0; i < kPages; ++i)
        std::memset(src + i * kPageSize, int(i + 1), kPageSize);
    // Page i of domain 3 goes to page i of domain 4, foreign to foreign;
    // every seventh segment names a ref never granted, every eleventh
    // overruns its page.
    std::vector<CopySegment> segs(kPages);
    for (size_t i = 0; i < kPages; ++i) {
        auto ref = i % 7 == 3 ? GrantRef(9000) : from3->refs()[i];
        segs[i].src = CopySide{true, nullptr, ref, 0, 3};
        segs[i].dst = CopySide{true, nullptr, into4->refs()[i], uint16_t(i % 11 == 5 ? 100 : 0), 4};
        segs[i].len = kPageSize;
    }
    REQUIRE((*gt)->copy(segs));
    const auto* dst = static_cast<const uint8_t*>(into4->addr());
    for (size_t i = 0; i < kPages; ++i) {
        CAPTURE(i);
        int16_t want = i % 7 == 3    ? GNTST_general_error
                       : i % 11 == 5 ? GNTST_bad_copy_arg
                                     : GNTST_okay;
        CHECK(segs[i].status == want);
        CHECK(dst[i * kPageSize + kPageSize - 1] == (want == GNTST_okay ? i + 1 : 0));
    }
    // No pin outlives the call: both granters end access at once, so the
    // same copies now fail rather than waiting for a deferred end.
    from3->reset();
    into4->reset();
    REQUIRE((*gt)->copy(segs));
    for (const auto& s : segs)
        CHECK(s.status == GNTST_general_error);
}

TEST_CASE("sim grants: a granter rewriting a mapped entry redirects nothing") {
    Dom3Grants f;
    auto& [sim, gs, gt] = f;
    auto pages = gs->share(0, 2, false);
    REQUIRE(pages);
    std::memset(pages->addr(), 'A', kPageSize);
    std::memset(static_cast<uint8_t*>(pages->addr()) + kPageSize, 'B', kPageSize);
    GrantRef a = pages->refs()[0], b = pages->refs()[1];
    auto map = gt->map(3, std::vector<GrantRef>{a}, false);
    REQUIRE(map);
    // While A is mapped, the granter points its entry at B's frame, as a
    // guest breaking the protocol could. The pin fixed the frame.
    RawTables raw = raw_tables(sim.dir(), 3);
    raw.entry(a)->frame = raw.entry(b)->frame;
    CHECK(first_byte(*gt, 3, a) == std::pair<int16_t, char>{GNTST_okay, 'A'});
}

TEST_CASE("sim grants: a table lock left by a dead process is taken over") {
    Dom3Grants f;
    auto& [sim, gs, gt] = f;
    auto pages = gs->share(0, 1, false);
    REQUIRE(pages);
    std::memset(pages->addr(), 'x', kPageSize);
    // A process that held domain 3's table lock and died holding it.
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) _exit(0);
    REQUIRE(waitpid(child, nullptr, 0) == child);
    RawTables raw = raw_tables(sim.dir(), 3);
    raw.table()->lock.store(uint32_t(child));
    // Without the takeover this would spin forever.
    CHECK(first_byte(*gt, 3, pages->refs()[0]) == std::pair<int16_t, char>{GNTST_okay, 'x'});
    CHECK(raw.table()->lock.load() == 0);
    // The daemon takes the same lock to map, and is not stuck either.
    raw.table()->lock.store(uint32_t(child));
    CHECK(gt->map(3, std::vector<GrantRef>{pages->refs()[0]}, false));
}
