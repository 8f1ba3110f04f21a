// xnetfront's and xnetback's queues against each other on xnet-sim, in one
// process and one event loop: frames from the local stacks cross the rings
// both ways with the checksum rules applied, notifications are held back
// while a side is busy, and busy polling replaces them. Fake ports stand
// where the TAPs would be. test_backend_queue.cc has the backend against a
// frontend written by hand.
#include <doctest/doctest.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <thread>

#include "fake_port.h"
#include "frames.h"
#include "netback/queue.h"
#include "netfront/queue.h"
#include "netif/busy_poll.h"
#include "netif/notify_throttle.h"
#include "packet/frame_csum.h"
#include "runtime/reactor.h"
#include "sim_fixture.h"

using namespace xnet;
using xt::Bytes;
using xt::FakePort;
using xt::take;

namespace {

// The backend's grant copies with a bit flipped on the way, once armed:
// corruption between the two ends, where no checksum rule can see it. The
// last byte of the batch's last segment is a payload byte of its last frame.
class CorruptingGrants final : public GrantTable {
  public:
    explicit CorruptingGrants(GrantTable& inner) : inner_(inner) {}
    Result<GrantMapping> map(DomId dom, std::span<const GrantRef> refs, bool writable) override {
        return inner_.map(dom, refs, writable);  // the inner table owns the mapping
    }
    Status copy(std::span<CopySegment> segs) override {
        if (!armed || segs.empty()) return inner_.copy(segs);
        armed = false;
        auto& last = segs.back();
        if (!last.src.foreign) {  // to the guest: flip the byte before it leaves
            static_cast<uint8_t*>(last.src.virt)[last.len - 1] ^= 0x10;
            return inner_.copy(segs);
        }
        auto st = inner_.copy(segs);  // from the guest: flip it once it arrived
        static_cast<uint8_t*>(last.dst.virt)[last.len - 1] ^= 0x10;
        return st;
    }
    bool armed = false;

  protected:
    void unmap(GrantMapping&) override {}  // never ours: see map()

  private:
    GrantTable& inner_;
};

// A guest (domain 7) and dom0, a queue each, connected, on one loop.
struct Pair {
    xt::SimDaemon sim;
    std::unique_ptr<Platform> guest, dom0;
    std::unique_ptr<GrantShare> gs;
    std::unique_ptr<GrantTable> gt;
    std::unique_ptr<CorruptingGrants> wire;  // what the backend copies through
    std::unique_ptr<EpollReactor> r = take(EpollReactor::create());
    DeviceShared front;
    DeviceShared back;
    FakePort guest_stack, dom0_stack;
    std::unique_ptr<netfront::FrontQueue> fq;
    std::unique_ptr<netback::BackQueue> bq;
    std::string fault;

    explicit Pair(std::chrono::microseconds poll = std::chrono::microseconds{0}) {
        sim.create_domain(7);
        guest = sim.platform(7);
        dom0 = sim.platform(0);
        gs = take(guest->open_gntshr());
        gt = take(dom0->open_gnttab());
        wire = std::make_unique<CorruptingGrants>(*gt);
        front.name = "eth0";
        front.peer = 0;
        front.tx = back.tx = offload::kEveryTxOffload;
        front.rx.checksum = back.rx.checksum = offload::kEveryProto;
        front.gso_accepted_v4 = front.gso_accepted_v6 = true;
        back.gso_accepted_v4 = back.gso_accepted_v6 = true;
        front.busy_poll = back.busy_poll = poll;
        front.fault = [this](const Error& e, bool) { fault = "frontend: " + e.message(); };
        back.name = "vif7.0";
        back.peer = 7;
        back.fault = [this](const Error& e, bool) { fault = "backend: " + e.message(); };
    }

    void connect() {
        fq = take(netfront::FrontQueue::create(*gs, take(guest->open_evtchn()), front, 0, false));
        auto k = fq->keys();
        netback::QueueKeys bk{k.tx_ref, k.rx_ref, k.tx_port, k.rx_port};
        bq = take(netback::BackQueue::start(*r, *wire, take(dom0->open_evtchn()), dom0_stack, back,
                                            0, bk));
        REQUIRE(fq->start(*r, guest_stack));
        bq->kick();
    }

    // Runs the loop until PORT has received N frames (or a fault, or a
    // generous bound on rounds: a lost frame fails the test, not hangs it).
    void run_until(const FakePort& port, size_t n) {
        for (int i = 0; i < 200000 && port.outbox.size() < n && fault.empty(); ++i)
            REQUIRE(r->run_once(i % 64 == 63 ? 10 : 0));
        REQUIRE(fault.empty());
        REQUIRE(port.outbox.size() == n);
    }
};

FakePort::Frame with_partial(const xt::Spec& s, uint16_t gso_size = 0) {
    auto b = xt::build(s);
    FakePort::Frame f{{}, xt::partial_of(b)};
    f.hdr.flags = vnet::kNeedsCsum;
    f.hdr.csum_start = uint16_t(b.l4_off);
    f.hdr.csum_offset = uint16_t(b.csum_at - b.l4_off);
    if (gso_size) {
        f.hdr.gso_type = s.ip == 4 ? vnet::kGsoTcpv4 : vnet::kGsoTcpv6;
        f.hdr.gso_size = gso_size;
    }
    return f;
}

xt::Spec tcp(int ip, size_t payload) {
    xt::Spec s;
    s.ip = ip;
    s.payload = payload;
    return s;
}

}  // namespace

TEST_CASE("queues: frames cross both ways with partial checksums and GSO kept") {
    Pair p;
    p.connect();
    xt::Spec udp = tcp(4, 18);
    udp.l4 = 17;
    std::vector<FakePort::Frame> frames = {
        {{}, xt::build(udp).bytes},  // complete checksums, no flags
        with_partial(tcp(4, 1460)),
        with_partial(tcp(6, 1440)),
        with_partial(tcp(4, 40 * 1448), 1448),  // 15 pages: scatter-gather
        with_partial(tcp(6, 20 * 1428), 1428),
    };
    for (auto* from : {&p.guest_stack, &p.dom0_stack}) {
        auto& to = from == &p.guest_stack ? p.dom0_stack : p.guest_stack;
        CAPTURE((from == &p.guest_stack ? "guest -> dom0" : "dom0 -> guest"));
        for (auto& f : frames)
            from->send(f);
        p.run_until(to, frames.size());
        for (size_t i = 0; i < frames.size(); ++i) {
            CAPTURE(i);
            const auto& got = to.outbox[i];
            CHECK(got.bytes == frames[i].bytes);
            CHECK(got.hdr.flags == frames[i].hdr.flags);
            CHECK(got.hdr.gso_type == frames[i].hdr.gso_type);
            CHECK(got.hdr.gso_size == frames[i].hdr.gso_size);
            if (frames[i].hdr.flags & vnet::kNeedsCsum) {
                CHECK(got.hdr.csum_start == frames[i].hdr.csum_start);
                CHECK(got.hdr.csum_offset == frames[i].hdr.csum_offset);
            }
        }
        to.outbox.clear();
    }
    CHECK(p.back.counters.rx.packets == frames.size());  // from the guest
    CHECK(p.back.counters.tx.packets == frames.size());  // to the guest
    CHECK(p.back.counters.rx.gso_packets == 2);
    CHECK(p.front.counters.rx.gso_packets == 2);
}

TEST_CASE("queues: a frontend that may not send partials completes them first") {
    Pair p;
    p.front.tx.csum_blank = {};
    p.front.tx.gso_v4 = p.front.tx.gso_v6 = false;
    p.connect();
    auto b = xt::build(tcp(4, 999));
    auto f = with_partial(tcp(4, 999));
    REQUIRE(f.bytes != b.bytes);  // the partial differs from the finished frame
    p.guest_stack.send(f);
    p.run_until(p.dom0_stack, 1);
    CHECK(p.dom0_stack.outbox[0].bytes == b.bytes);
    CHECK((p.dom0_stack.outbox[0].hdr.flags & vnet::kNeedsCsum) == 0);
    CHECK(p.front.counters.tx.csum_completed == 1);
}

TEST_CASE("queues: tagged GSO for a peer without tagged offload crosses as checksummed segments") {
    // Each end as it talks to Linux's kernel driver on the other side.
    Pair p;
    p.front.tx.tagged = p.back.tx.tagged = false;
    p.connect();
    xt::Spec tagged = tcp(4, 30 * 1448 + 5);
    tagged.tags = {0x8100};
    xt::Spec tagged6 = tcp(6, 3 * 1428);
    tagged6.tags = {0x88a8, 0x8100};
    const auto whole = with_partial(tcp(4, 10 * 1448), 1448);  // untagged: stays GSO
    for (auto* from : {&p.guest_stack, &p.dom0_stack}) {
        auto& to = from == &p.guest_stack ? p.dom0_stack : p.guest_stack;
        CAPTURE((from == &p.guest_stack ? "guest -> dom0" : "dom0 -> guest"));
        from->send(with_partial(tagged, 1448));
        from->send(whole);
        from->send(with_partial(tagged6, 1428));
        p.run_until(to, 31 + 1 + 3);
        Bytes data;
        for (size_t i = 0; i < to.outbox.size(); ++i) {
            CAPTURE(i);
            const auto& got = to.outbox[i];
            if (i == 31) {
                CHECK(got.bytes == whole.bytes);
                CHECK(got.hdr.gso_type == vnet::kGsoTcpv4);
                continue;
            }
            CHECK(got.hdr.gso_type == vnet::kGsoNone);
            CHECK((got.hdr.flags & vnet::kNeedsCsum) == 0);
            auto v = pkt::verify(got.bytes);
            REQUIRE(v);
            CHECK(v->ok());
            CHECK(v->l4 == pkt::Verdict::good);
            if (i < 31) data.insert(data.end(), got.bytes.begin() + 18 + 20 + 20, got.bytes.end());
        }
        auto b = xt::build(tagged);
        CHECK(data == Bytes(b.bytes.begin() + 58, b.bytes.end()));
        to.outbox.clear();
    }
    CHECK(p.front.counters.tx.gso_cut == 2);
    CHECK(p.back.counters.tx.gso_cut == 2);
    CHECK(p.back.counters.tx.packets == 35);
    CHECK(p.back.counters.tx.dropped() == 0);
    CHECK(p.front.counters.tx.dropped() == 0);
}

TEST_CASE("queues: a burst is announced with a few notifications, not one per frame") {
    Pair p;  // no busy polling: every sleep asks for a notification
    p.connect();
    constexpr size_t kFrames = 2000;
    auto f = with_partial(tcp(4, 1000));
    for (size_t i = 0; i < kFrames; ++i)
        p.guest_stack.send(f);
    p.run_until(p.dom0_stack, kFrames);
    // One loop runs both ends, so a side sleeps whenever it has caught up,
    // and publishes a ring's worth (about 230 frames of one slot) at a
    // time. An end that notified at every publication would send about 36
    // each here; one that heeds the peer's event index sends a handful:
    // only when the peer asked (req_event/rsp_event), once per sleep.
    INFO("frontend sent ", p.front.counters.notifications_sent, ", backend sent ",
         p.back.counters.notifications_sent);
    CHECK(p.front.counters.notifications_sent > 0);
    CHECK(p.front.counters.notifications_sent <= kFrames / 100);
    CHECK(p.back.counters.notifications_sent <= kFrames / 100);
    CHECK(p.back.counters.notifications_received <= p.front.counters.notifications_sent);
}

TEST_CASE("queues: with busy polling, a busy ring is read without notifications") {
    Pair p(std::chrono::seconds(5));  // a window no run here outlasts
    p.connect();
    auto f = with_partial(tcp(4, 1000));
    p.guest_stack.send(f);
    p.run_until(p.dom0_stack, 1);  // both sides have now seen work
    auto sent = p.front.counters.notifications_sent;
    constexpr size_t kFrames = 2000;
    for (size_t i = 0; i < kFrames; ++i)
        p.guest_stack.send(f);
    p.run_until(p.dom0_stack, kFrames + 1);
    CHECK(p.front.counters.notifications_sent == sent);
}

// A receiver with rx-checksum off verifies every checksum, so a payload
// corrupted between the ends is dropped and counted, whatever the sender's
// profile, as long as the sender completed the checksum: it must when the
// receiver asks (feature-no-csum-offload, which xnetback also writes).
// Under suppress nobody computes a checksum, and nothing can notice.
TEST_CASE("queues: a bit flipped between the ends is caught where rx-checksum is off") {
    struct Sender {
        const char* profile;
        bool data_validated;  // what the sender's profile says of its frames
    };
    for (auto sender : {Sender{"safe", false}, Sender{"offload", true}}) {
        for (bool to_guest : {false, true}) {
            CAPTURE(sender.profile);
            CAPTURE(to_guest);
            Pair p;
            auto& tx = to_guest ? p.back.tx : p.front.tx;  // the sender's
            auto& rx = to_guest ? p.front.rx : p.back.rx;  // the receiver's
            tx.csum_blank = {};                            // the receiver asked for complete ones
            tx.gso_v4 = tx.gso_v6 = false;
            tx.data_validated = sender.data_validated;
            rx.checksum = {};
            p.connect();
            auto& from = to_guest ? p.dom0_stack : p.guest_stack;
            auto& to = to_guest ? p.guest_stack : p.dom0_stack;
            auto& counters = to_guest ? p.front.counters.rx : p.back.counters.rx;
            auto good = with_partial(tcp(4, 700));
            from.send(good);
            p.run_until(to, 1);  // a clean one first: the path works
            p.wire->armed = true;
            from.send(good);
            for (int i = 0; i < 2000 && counters.drops[size_t(Drop::bad_checksum)] == 0; ++i)
                REQUIRE(p.r->run_once(i % 64 == 63 ? 10 : 0));
            CHECK_FALSE(p.wire->armed);  // the flip happened
            CHECK(counters.csum_bad == 1);
            CHECK(counters.drops[size_t(Drop::bad_checksum)] == 1);
            CHECK(to.outbox.size() == 1);  // only the clean one was delivered
        }
    }
}

TEST_CASE("queues: under suppress a flipped bit goes unnoticed (why it is for private networks)") {
    Pair p;  // partials accepted both ways: nobody computes or verifies
    p.connect();
    p.wire->armed = true;
    p.guest_stack.send(with_partial(tcp(4, 700)));
    p.run_until(p.dom0_stack, 1);
    CHECK_FALSE(p.wire->armed);
    CHECK(p.back.counters.rx.csum_bad == 0);
    CHECK((p.dom0_stack.outbox[0].hdr.flags & vnet::kNeedsCsum) != 0);  // delivered as partial
}

TEST_CASE("backend: a guest that goes away with frames in flight is not blamed for the copy") {
    // Destroyed: its grants fail with bad_domain. Its frontend gone (killed):
    // its grants are revoked and its event channels closed, the case a
    // guest's teardown races with.
    for (bool destroy : {true, false}) {
        CAPTURE(destroy);
        Pair p;
        bool quiet = false;
        p.back.fault = [&](const Error& e, bool q) {
            p.fault = "backend: " + e.message();
            quiet = q;
        };
        p.connect();
        p.dom0_stack.send(with_partial(tcp(4, 1000)));
        p.run_until(p.guest_stack, 1);  // connected and moving
        if (destroy) {
            p.sim.destroy_domain(7);
        } else {
            p.fq.reset();
        }
        p.dom0_stack.send(with_partial(tcp(4, 1000)));
        for (int i = 0; i < 20000 && p.fault.empty(); ++i)
            REQUIRE(p.r->run_once(i % 64 == 63 ? 10 : 0));
        REQUIRE_MESSAGE(!p.fault.empty(), "the copy to a guest that went away should fail");
        CHECK(p.fault.find("grant copy of rx buffer") != std::string::npos);
        // Said as check_peer says it, so the log tells why the vif left.
        CHECK(p.fault.find("closed its event channel") != std::string::npos);
        CHECK(quiet);
    }
}
