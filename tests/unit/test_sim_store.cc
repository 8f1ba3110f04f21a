// xnet-sim's xenstore: tree, permissions, watches, transactions, limits and
// the wire protocol, checked against the behaviour of Xen's C xenstored.
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <xen/io/xs_wire.h>

#include "sim/store.h"
#include "sim/xs_server.h"

using namespace xnet::sim;
using xnet::XsPerm;

namespace {

constexpr ConnId kDom0 = 1, kGuest = 2, kOther = 3;

struct Fixture {
    std::vector<WatchEvent> events;
    Store store{[this](const WatchEvent& e) { events.push_back(e); }};
    Fixture() {
        store.connect(kDom0, 0, true);
        store.connect(kGuest, 5, false);
        store.connect(kOther, 7, false);
        // The guest's home, as the toolstack makes it: dom0's, readable by 5.
        REQUIRE(store.write(kDom0, 0, "/local/domain/5", ""));
        REQUIRE(
            store.set_perms(kDom0, 0, "/local/domain/5", {{0, XsPerm::none}, {5, XsPerm::read}}));
        REQUIRE(store.write(kDom0, 0, "/local/domain/5/data", ""));
        REQUIRE(store.set_perms(kDom0, 0, "/local/domain/5/data", {{5, XsPerm::none}}));
        events.clear();
    }
    int error_of(const auto& r) { return r ? 0 : r.error(); }
};

}  // namespace

TEST_CASE("store: write, read, directory and relative paths") {
    Fixture f;
    auto& s = f.store;
    CHECK(s.write(kDom0, 0, "/a/b/c", "v"));
    CHECK(*s.read(kDom0, 0, "/a/b/c") == "v");
    CHECK(*s.read(kDom0, 0, "/a/b") == "");  // intermediate nodes are empty
    CHECK(*s.directory(kDom0, 0, "/a") == std::vector<std::string>{"b"});
    // A guest's relative path lives under its home directory.
    CHECK(s.write(kGuest, 0, "data/x", std::string("bin\0ary", 7)));
    CHECK(*s.read(kDom0, 0, "/local/domain/5/data/x") == std::string("bin\0ary", 7));
    CHECK(f.error_of(s.read(kDom0, 0, "/a/nothere")) == ENOENT);
    for (const char* bad : {"/a/", "/a//b", "/a b", "", "/a/b$"}) {
        CAPTURE(bad);
        CHECK(f.error_of(s.write(kDom0, 0, bad, "x")) == EINVAL);
    }
    CHECK(f.error_of(s.read(kDom0, 0, "/" + std::string(2049, 'a'))) == EINVAL);
    CHECK(f.error_of(s.read(kDom0, 0, "/local/domain/5/" + std::string(2048, 'a'))) == ENOENT);
}

TEST_CASE("store: permissions follow xenstored's rules") {
    Fixture f;
    auto& s = f.store;
    REQUIRE(s.write(kDom0, 0, "/private", "secret"));
    // A node of dom0's with no access for others: invisible to a guest.
    CHECK(f.error_of(s.read(kGuest, 0, "/private")) == EACCES);
    CHECK(f.error_of(s.write(kGuest, 0, "/private", "x")) == EACCES);
    // A missing node under an unreadable parent reports EACCES, not ENOENT.
    CHECK(f.error_of(s.read(kGuest, 0, "/private/nothere")) == EACCES);
    CHECK(f.error_of(s.read(kGuest, 0, "data/nothere")) == ENOENT);
    // Domains own what they create.
    REQUIRE(s.write(kGuest, 0, "data/mine", "1"));
    CHECK((*s.get_perms(kDom0, 0, "/local/domain/5/data/mine"))[0].dom == 5);
    // ACL entries: dom 7 may read, nobody else.
    REQUIRE(s.set_perms(kGuest, 0, "data/mine", {{5, XsPerm::none}, {7, XsPerm::read}}));
    CHECK(*s.read(kOther, 0, "/local/domain/5/data/mine") == "1");
    CHECK(f.error_of(s.write(kOther, 0, "/local/domain/5/data/mine", "2")) == EACCES);
    // Only the owner sets permissions, and only dom0 gives a node away.
    CHECK(f.error_of(s.set_perms(kOther, 0, "/local/domain/5/data/mine", {{7, XsPerm::both}})) ==
          EACCES);
    CHECK(f.error_of(s.set_perms(kGuest, 0, "data/mine", {{7, XsPerm::both}})) == EPERM);
    CHECK(s.set_perms(kDom0, 0, "/local/domain/5/data/mine", {{7, XsPerm::both}}));
    // The guest's home itself is read-only for it.
    CHECK(f.error_of(s.write(kGuest, 0, "name", "x")) == EACCES);
}

TEST_CASE("store: rm semantics") {
    Fixture f;
    auto& s = f.store;
    REQUIRE(s.write(kDom0, 0, "/t/a/b", "1"));
    CHECK(s.rm(kDom0, 0, "/t/a/missing"));  // fine: the parent exists
    CHECK(f.error_of(s.rm(kDom0, 0, "/t/x/missing")) == ENOENT);
    CHECK(f.error_of(s.rm(kDom0, 0, "/")) == EINVAL);
    CHECK(f.error_of(s.rm(kGuest, 0, "/")) == EACCES);
    size_t before = s.node_count();
    CHECK(s.rm(kDom0, 0, "/t"));
    CHECK(s.node_count() == before - 3);
    CHECK(*s.directory(kDom0, 0, "/") == std::vector<std::string>{"local", "tool"});
}

TEST_CASE("store: watches fire on the node and beneath it, relative stays relative") {
    Fixture f;
    auto& s = f.store;
    REQUIRE(s.watch(kGuest, "data", "tok"));
    CHECK(f.error_of(s.watch(kGuest, "data", "tok")) == EEXIST);
    REQUIRE(s.watch(kDom0, "/local/domain/5/data/sub/leaf", "exact"));
    REQUIRE(s.write(kDom0, 0, "/local/domain/5/data/sub/leaf", "1"));
    REQUIRE(f.events.size() == 2);
    CHECK(f.events[0].conn == kGuest);
    CHECK(f.events[0].path == "data/sub/leaf");
    CHECK(f.events[1].path == "/local/domain/5/data/sub/leaf");
    f.events.clear();
    // rm: watches on the removed node's ancestors see it; a watch exactly on
    // a removed descendant sees its own path.
    REQUIRE(s.rm(kDom0, 0, "/local/domain/5/data/sub"));
    REQUIRE(f.events.size() == 2);
    f.events.clear();
    // No event for a watcher that cannot read the node.
    REQUIRE(s.watch(kOther, "/local/domain/5/data", "spy"));
    REQUIRE(s.write(kGuest, 0, "data/z", "1"));
    for (const auto& e : f.events)
        CHECK(e.conn != kOther);
    // SET_PERMS fires once, for whoever could read the node before or after.
    REQUIRE(s.watch(kDom0, "/local/domain/5/data/z", "perms"));
    f.events.clear();
    REQUIRE(s.set_perms(kGuest, 0, "data/z", {{5, XsPerm::none}, {7, XsPerm::read}}));
    auto heard = [&](ConnId c) {
        return std::count_if(f.events.begin(), f.events.end(),
                             [&](auto& e) { return e.conn == c; });
    };
    CHECK(heard(kDom0) == 1);
    CHECK(heard(kOther) == 1);  // may read under the new perms
    f.events.clear();
    REQUIRE(s.set_perms(kGuest, 0, "data/z", {{5, XsPerm::none}}));
    CHECK(heard(kOther) == 1);  // could read under the old ones
    CHECK(s.unwatch(kGuest, "data", "tok"));
    CHECK(f.error_of(s.unwatch(kGuest, "data", "tok")) == ENOENT);
}

TEST_CASE("store: transactions commit atomically, conflict with EAGAIN") {
    Fixture f;
    auto& s = f.store;
    REQUIRE(s.write(kDom0, 0, "/tx/a", "0"));
    REQUIRE(s.watch(kDom0, "/tx", "w"));
    auto t = s.transaction_start(kDom0);
    REQUIRE(t);
    CHECK(s.write(kDom0, *t, "/tx/a", "1"));
    CHECK(s.write(kDom0, *t, "/tx/b", "2"));
    CHECK(*s.read(kDom0, 0, "/tx/a") == "0");  // not visible outside yet
    CHECK(*s.read(kDom0, *t, "/tx/a") == "1");
    CHECK(f.events.empty());  // events wait for the commit
    CHECK(s.transaction_end(kDom0, *t, true));
    CHECK(*s.read(kDom0, 0, "/tx/b") == "2");
    CHECK(f.events.size() == 2);

    // A read in a transaction conflicts with a later outside write.
    auto t2 = s.transaction_start(kDom0);
    REQUIRE(t2);
    CHECK(*s.read(kDom0, *t2, "/tx/a") == "1");
    CHECK(s.write(kDom0, 0, "/tx/a", "outside"));
    CHECK(s.write(kDom0, *t2, "/tx/c", "3"));
    CHECK(f.error_of(s.transaction_end(kDom0, *t2, true)) == EAGAIN);
    CHECK(f.error_of(s.read(kDom0, 0, "/tx/c")) == ENOENT);
    // Aborting discards; an unknown transaction is ENOENT.
    auto t3 = s.transaction_start(kDom0);
    CHECK(s.rm(kDom0, *t3, "/tx"));
    CHECK(s.transaction_end(kDom0, *t3, false));
    CHECK(*s.read(kDom0, 0, "/tx/a") == "outside");
    CHECK(f.error_of(s.transaction_end(kDom0, *t3, true)) == ENOENT);
    // Another connection cannot use someone else's transaction.
    auto t4 = s.transaction_start(kDom0);
    CHECK(f.error_of(s.read(kGuest, *t4, "data")) == ENOENT);
    // A connection's transactions end with it, uncommitted.
    auto t5 = s.transaction_start(kGuest);
    REQUIRE(t5);
    CHECK(s.write(kGuest, *t5, "data/gone", "x"));
    s.disconnect(kGuest);
    s.connect(kGuest, 5, false);
    CHECK_FALSE(s.has_transaction(kGuest, *t5));
    CHECK(f.error_of(s.transaction_end(kGuest, *t5, true)) == ENOENT);
    CHECK(f.error_of(s.read(kDom0, 0, "/local/domain/5/data/gone")) == ENOENT);
}

TEST_CASE("store: quotas give xenstored's errors") {
    Fixture f;
    auto& s = f.store;
    // Watches: xenstored's check lets one more than the quota through.
    size_t n = 0;
    while (s.watch(kGuest, "data/w" + std::to_string(n), "t"))
        ++n;
    CHECK(n == s.limits().watches_per_domain + 1);
    CHECK(f.error_of(s.watch(kGuest, "data/again", "t")) == E2BIG);
    // Node size: an unprivileged domain's node stays under 2048 bytes.
    CHECK(f.error_of(s.write(kGuest, 0, "data/big", std::string(2100, 'x'))) == ENOSPC);
    CHECK(s.write(kGuest, 0, "data/small", std::string(1000, 'x')));
    CHECK(s.write(kDom0, 0, "/big", std::string(4000, 'x')));  // dom0 is exempt
    // Transactions per connection.
    size_t t = 0;
    while (s.transaction_start(kGuest))
        ++t;
    CHECK(t == s.limits().transactions_per_conn + 1);
    // Nodes per domain.
    s.reset_watches(kGuest);
    int e = 0;
    for (int i = 0; i < 2000 && !e; ++i)
        e = f.error_of(s.write(kGuest, 0, "data/n" + std::to_string(i), ""));
    CHECK(e == ENOSPC);
    CHECK(s.owned_by(5) <= s.limits().nodes_per_domain);
}

TEST_CASE("store: introduce and release fire special watches for dom0 only") {
    Fixture f;
    auto& s = f.store;
    REQUIRE(s.watch(kDom0, "@releaseDomain", "rel"));
    REQUIRE(s.watch(kGuest, "@releaseDomain", "rel"));
    CHECK(f.error_of(s.introduce(kGuest, 9)) == EACCES);
    CHECK(s.introduce(kDom0, 5));
    CHECK(s.is_introduced(5));
    REQUIRE(s.write(kGuest, 0, "data/owned", "1"));
    f.events.clear();
    CHECK(s.release(kDom0, 5));
    CHECK_FALSE(s.is_introduced(5));
    bool dom0_heard = false;
    for (const auto& e : f.events) {
        CHECK(e.conn != kGuest);
        dom0_heard |= e.conn == kDom0 && e.path == "@releaseDomain";
    }
    CHECK(dom0_heard);
    // The released domain's own nodes go with it.
    CHECK(f.error_of(s.read(kDom0, 0, "/local/domain/5/data/owned")) == ENOENT);
    CHECK(f.error_of(s.release(kDom0, 5)) == ENOENT);
}

namespace {

struct Wire {
    Fixture f;
    std::string out;
    XsServer server{f.store, [this](ConnId, std::string b) { out += b; }};
    Wire() {}

    std::pair<uint32_t, std::string> call(ConnId c, uint32_t type, std::string payload,
                                          uint32_t tx = 0) {
        out.clear();
        xsd_sockmsg h{type, 42, tx, uint32_t(payload.size())};
        std::string msg(reinterpret_cast<char*>(&h), sizeof h);
        msg += payload;
        REQUIRE(server.input(c, msg));
        REQUIRE(out.size() >= sizeof h);
        xsd_sockmsg r;
        std::memcpy(&r, out.data(), sizeof r);
        CHECK(r.req_id == 42);
        return {r.type, out.substr(sizeof r, r.len)};
    }
};

std::string z(const char* s) {
    return std::string(s) + '\0';
}

}  // namespace

TEST_CASE("wire: replies, errors, and what closes a connection") {
    Wire w;
    CHECK(w.call(kDom0, XS_WRITE, std::string("/w\0val", 6)) ==
          std::pair<uint32_t, std::string>{XS_WRITE, z("OK")});
    CHECK(w.call(kDom0, XS_READ, z("/w")) == std::pair<uint32_t, std::string>{XS_READ, "val"});
    CHECK(w.call(kDom0, XS_READ, z("/none")) ==
          std::pair<uint32_t, std::string>{XS_ERROR, z("ENOENT")});
    CHECK(w.call(kDom0, XS_READ, "/w") == std::pair<uint32_t, std::string>{XS_ERROR, z("EINVAL")});
    CHECK(w.call(kDom0, 999, "") == std::pair<uint32_t, std::string>{XS_ERROR, z("ENOSYS")});
    CHECK(w.call(kGuest, XS_INTRODUCE, z("9") + z("1") + z("1")) ==
          std::pair<uint32_t, std::string>{XS_ERROR, z("EACCES")});
    CHECK(w.call(kDom0, XS_READ, z("/w"), 77) ==
          std::pair<uint32_t, std::string>{XS_ERROR, z("ENOENT")});
    CHECK(w.call(kDom0, XS_GET_DOMAIN_PATH, z("5")).second == z("/local/domain/5"));
    CHECK(w.call(kDom0, XS_GET_PERMS, z("/local/domain/5")).second == z("n0") + z("r5"));
    auto [type, body] = w.call(kDom0, XS_DIRECTORY_PART, z("/local/domain/5") + z("0"));
    CHECK(type == XS_DIRECTORY_PART);
    CHECK(body.ends_with(z("data") + '\0'));
    // The initial watch event follows the reply.
    w.call(kDom0, XS_WATCH, z("/w") + z("tok"));
    CHECK(w.out.find(z("/w") + z("tok")) != std::string::npos);
    // Oversized length: the connection is dropped, nothing else disturbed.
    xsd_sockmsg h{XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1};
    CHECK_FALSE(w.server.input(kGuest, std::string(reinterpret_cast<char*>(&h), sizeof h)));
    CHECK(w.call(kDom0, XS_READ, z("/w")).second == "val");
}
