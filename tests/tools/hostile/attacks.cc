// Each attack breaks one rule of netif.h (or of the handshake's keys) on
// its own connection. The comments name the rule; docs/robustness.md has
// the table of what the backend answers.
#include "attacks.h"

#include <atomic>
#include <cstring>

#include <fmt/format.h>

#include "netif/netif_keys.h"

namespace hostile {
namespace {

using Clock = std::chrono::steady_clock;
namespace key = xnet::netif::key;
constexpr uint16_t kFrameBytes = 200;

// A broadcast frame of a local-experimental EtherType in page 0: harmless
// wherever it ends up.
void fill_frame(const Conn& c) {
    uint8_t* p = c.page(0);
    std::memset(p, 0xff, 6);
    std::memset(p + 6, 0x02, 6);
    p[12] = 0x88;
    p[13] = 0xb5;
    std::memset(p + 14, 0x5a, kFrameBytes - 14);
}

void req(Conn& c, uint16_t id, GrantRef ref, uint16_t off, uint16_t size, uint16_t flags) {
    netif::TxRequest r{};
    r.gref = ref;
    r.offset = off;
    r.size = size;
    r.id = id;
    r.flags = flags;
    c.tx.put(r);
}

// An extra-info slot (netif.h "Extra info"), in a TX request's place.
void extra(Conn& c, uint8_t type, uint8_t flags, uint16_t gso_size = 0) {
    netif::ExtraInfo e{};
    e.type = type;
    e.flags = flags;
    e.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
    e.u.gso.size = gso_size;
    netif::TxRequest r{};
    static_assert(sizeof e <= sizeof r);
    std::memcpy(&r, &e, sizeof e);
    c.tx.put(r);
}

GrantRef ref0(const Conn& c) {
    return c.data.refs()[0];
}

Result<uint16_t> publish(Session& s, Conn& c, uint16_t id = 0) {
    c.tx.push();
    if (auto st = s.ev().notify(c.port); !st) return Unexpected{st.error()};
    return id;
}

// RX buffers (netif.h "Guest receive"): one request per slot, each naming a
// page for the backend to copy a frame into.
Result<uint16_t> post_rx(Session& s, Conn& c, const std::vector<GrantRef>& refs) {
    for (size_t i = 0; i < refs.size() && c.rx.free_slots() > 0; ++i) {
        netif::RxRequest r{};
        r.id = uint16_t(i);
        r.gref = refs[i % refs.size()];
        c.rx.put(r);
    }
    c.rx.push();
    if (auto st = s.ev().notify(c.port); !st) return Unexpected{st.error()};
    return 0;
}

// A producer index a ring and a half beyond what the backend consumed.
template <class Sring, class Ring>
void jump(Sring* sring, const Ring& r) {
    std::atomic_ref<RING_IDX>(sring->req_prod)
        .store(r.rsp_cons() + Ring::kSize * 3 / 2, std::memory_order_release);
}

auto set = [](std::string_view key, const std::string& value) {
    return [key, value](Session&, Keys& k, const Conn&) { set_key(k, key, value); };
};

const Attack kAttacks[] = {
    // ---- well-formed, or broken only in ways that harm the sender ----------
    {.name = "valid",
     .what = "one well-formed frame",
     .expect = Expect::answered,
     .rings = [](Session& s, Conn& c) { return send_valid(s, c, 1); }},
    {.name = "high-id",
     .what = "a frame with request id 65535 (netif.h gives ids 16 bits, no range)",
     .expect = Expect::answered,
     .rings = [](Session& s, Conn& c) { return send_valid(s, c, 65535); }},
    {.name = "event-garbage",
     .what = "rsp_event and req_event set to garbage, then a frame",
     .expect = Expect::answered,
     .rings =
         [](Session& s, Conn& c) {
             // ring.h: the event fields are the peer's hints for when to notify;
             // a wrong one can only cost its owner notifications.
             std::atomic_ref<RING_IDX>(c.tx_sring()->rsp_event)
                 .store(0x9e3779b9, std::memory_order_relaxed);
             std::atomic_ref<RING_IDX>(c.rx_sring()->req_event)
                 .store(0x7f4a7c15, std::memory_order_relaxed);
             return send_valid(s, c, 2);
         }},
    {.name = "event-storm",
     .what = "notifications as fast as it can for 3 s, then a frame",
     .expect = Expect::answered,
     .rings = [](Session& s, Conn& c) -> Result<uint16_t> {
         auto end = Clock::now() + std::chrono::seconds(3);
         uint64_t n = 0;
         while (Clock::now() < end) {
             for (int i = 0; i < 256; ++i, ++n) {
                 if (auto st = s.ev().notify(c.port); !st) return Unexpected{st.error()};
             }
         }
         fmt::print("event-storm: {} notifications sent\n", n);
         return send_valid(s, c, 3);
     }},

    // ---- guest transmit (netif.h "Guest transmit") -------------------------
    {.name = "bad-gref",
     .what = "a grant ref it never granted",
     .expect = Expect::refused,
     .rings =
         [](Session& s, Conn& c) {
             req(c, 1, ref0(c) + 4096, 0, kFrameBytes, 0);
             return publish(s, c);
         }},
    {.name = "foreign-gref",
     .what = "a page granted to another domain (itself) than the backend",
     .expect = Expect::refused,
     .rings = [](Session& s, Conn& c) -> Result<uint16_t> {
         auto other = s.gs().share(s.self(), 1, true);
         if (!other) return Unexpected{other.error()};
         req(c, 1, other->refs()[0], 0, kFrameBytes, 0);
         auto r = publish(s, c);
         // Kept until the backend has tried it.
         (void)s.wait_backend([](State st) { return st != State::connected; });
         return r;
     }},
    {.name = "page-overrun",
     .what = "offset 4000 + size 200: past the end of the page",
     .expect = Expect::refused,
     .rings =
         [](Session& s, Conn& c) {
             req(c, 1, ref0(c), 4000, kFrameBytes, 0);
             return publish(s, c);
         }},
    {.name = "size-zero",
     .what = "a packet of size 0",
     .expect = Expect::refused,
     .rings =
         [](Session& s, Conn& c) {
             req(c, 1, ref0(c), 0, 0, 0);
             return publish(s, c);
         }},
    {.name = "size-over-frags",
     .what = "a first size of 9000 with one 100-byte fragment",
     .expect = Expect::refused,
     .rings =
         [](Session& s, Conn& c) {
             req(c, 1, ref0(c), 0, 9000, netif::txf::more_data);
             req(c, 2, c.data.refs()[1], 0, 100, 0);
             return publish(s, c);
         }},
    {.name = "too-many-slots",
     .what = "a packet of 21 slots (the fatal limit is 20)",
     .expect = Expect::refused,
     .rings =
         [](Session& s, Conn& c) {
             constexpr unsigned n = netif::kFatalSlots + 1;
             req(c, 0, ref0(c), 0, uint16_t(n * 14), netif::txf::more_data);
             for (unsigned i = 1; i < n; ++i)
                 req(c, uint16_t(i), ref0(c), 0, 14, i + 1 < n ? netif::txf::more_data : 0);
             return publish(s, c);
         }},
    {.name = "endless-chain",
     .what = "every slot of the ring marked more_data",
     .expect = Expect::refused,
     .rings =
         [](Session& s, Conn& c) {
             // A first size the chain could still fill: only its length is wrong.
             req(c, 0, ref0(c), 0, 65535, netif::txf::more_data);
             for (uint16_t i = 1; i < TxRing::kSize; ++i)
                 req(c, i, ref0(c), 0, 14, netif::txf::more_data);
             return publish(s, c);
         }},
    {.name = "reused-id",
     .what = "two requests in flight with the same id",
     .expect = Expect::refused,
     .rings =
         [](Session& s, Conn& c) {
             fill_frame(c);
             req(c, 3, ref0(c), 0, kFrameBytes, 0);
             req(c, 3, ref0(c), 0, kFrameBytes, 0);
             return publish(s, c);
         }},
    {.name = "index-jump",
     .what = "req_prod a ring and a half ahead",
     .expect = Expect::refused,
     .rings = [](Session& s, Conn& c) -> Result<uint16_t> {
         jump(c.tx_sring(), c.tx);
         if (auto st = s.ev().notify(c.port); !st) return Unexpected{st.error()};
         return 0;
     }},
    {.name = "extra-unknown",
     .what = "extra info of type 200",
     .expect = Expect::refused,
     .rings =
         [](Session& s, Conn& c) {
             fill_frame(c);
             req(c, 1, ref0(c), 0, kFrameBytes, netif::txf::extra_info);
             extra(c, 200, 0);
             return publish(s, c);
         }},
    {.name = "extra-endless",
     .what = "extra-info slots chained with MORE past every type",
     .expect = Expect::refused,
     .rings =
         [](Session& s, Conn& c) {
             fill_frame(c);
             req(c, 1, ref0(c), 0, kFrameBytes, netif::txf::extra_info);
             for (int i = 0; i < 8; ++i)
                 extra(c, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, XEN_NETIF_EXTRA_FLAG_MORE);
             return publish(s, c);
         }},
    {.name = "gso-mss-zero",
     .what = "GSO extra info with MSS 0",
     .expect = Expect::refused,
     .rings =
         [](Session& s, Conn& c) {
             fill_frame(c);
             req(c, 1, ref0(c), 0, kFrameBytes, netif::txf::extra_info | netif::txf::csum_blank);
             extra(c, XEN_NETIF_EXTRA_TYPE_GSO, 0, 0);
             return publish(s, c);
         }},
    {.name = "gso-mss-huge",
     .what = "GSO extra info with MSS 65535, above the frame",
     .expect = Expect::refused,
     .rings =
         [](Session& s, Conn& c) {
             fill_frame(c);
             req(c, 1, ref0(c), 0, kFrameBytes, netif::txf::extra_info | netif::txf::csum_blank);
             extra(c, XEN_NETIF_EXTRA_TYPE_GSO, 0, 65535);
             return publish(s, c);
         }},

    // ---- guest receive (netif.h "Guest receive") --------------------------
    {.name = "rx-bad-gref",
     .what = "RX buffers with grant refs it never granted",
     .expect = Expect::refused,
     .rings =
         [](Session& s, Conn& c) {
             return post_rx(s, c, {ref0(c) + 4096, ref0(c) + 4097});
         },
     .needs_traffic = true},
    {.name = "rx-readonly",
     .what = "RX buffers granted read-only",
     .expect = Expect::refused,
     .rings = [](Session& s, Conn& c) -> Result<uint16_t> {
         auto ro = s.gs().share(s.backend(), 2, false);
         if (!ro) return Unexpected{ro.error()};
         auto r = post_rx(s, c, ro->refs());
         (void)s.wait_backend([](State st) { return st != State::connected; });
         return r;
     },
     .needs_traffic = true},
    {.name = "rx-index-jump",
     .what = "RX req_prod a ring and a half ahead",
     .expect = Expect::refused,
     .rings = [](Session& s, Conn& c) -> Result<uint16_t> {
         jump(c.rx_sring(), c.rx);
         if (auto st = s.ev().notify(c.port); !st) return Unexpected{st.error()};
         return 0;
     }},

    // ---- the handshake's keys ----------------------------------------------
    {.name = "key-not-number",
     .what = "tx-ring-ref '12abc'",
     .expect = Expect::never_connected,
     .keys = set(key::tx_ring_ref, "12abc")},
    {.name = "key-negative",
     .what = "rx-ring-ref '-1'",
     .expect = Expect::never_connected,
     .keys = set(key::rx_ring_ref, "-1")},
    {.name = "key-huge",
     .what = "event-channel 99999999999999999999999",
     .expect = Expect::never_connected,
     .keys = set(key::event_channel, "99999999999999999999999")},
    {.name = "key-missing",
     .what = "no tx-ring-ref",
     .expect = Expect::never_connected,
     .keys = [](Session&, Keys& k, const Conn&) { drop_key(k, key::tx_ring_ref); }},
    {.name = "key-long",
     .what = "request-rx-copy of 4096 digits, or as many as xenstore takes from a guest",
     .expect = Expect::never_connected,
     .keys =
         [](Session& s, Keys& k, const Conn&) {
             // xenstored's quota on a guest's node (2048 bytes by default)
             // is the real limit: the longest value it accepts.
             std::string probe = s.dir() + "/xnet-probe";
             size_t n = 4096;
             while (n > 64 && !s.xs().write(probe, std::string(n, '0')))
                 n -= 64;
             (void)s.xs().rm(probe);
             set_key(k, key::request_rx_copy, std::string(n - 1, '0') + "1");
         }},
    {.name = "key-queues",
     .what = "multi-queue-num-queues 65, above what the backend offers",
     .expect = Expect::never_connected,
     .keys = set(key::multi_queue_num_queues, "65")},
    {.name = "key-same-ports",
     .what = "split event channels naming one port twice",
     .expect = Expect::never_connected,
     .keys =
         [](Session&, Keys& k, const Conn& c) {
             drop_key(k, key::event_channel);
             set_key(k, key::event_channel_tx, std::to_string(c.port));
             set_key(k, key::event_channel_rx, std::to_string(c.port));
         }},
    {.name = "key-ring-ungranted",
     .what = "tx-ring-ref a grant it never made",
     .expect = Expect::never_connected,
     .keys =
         [](Session&, Keys& k, const Conn& c) {
             set_key(k, key::tx_ring_ref, std::to_string(c.data.refs()[0] + 4096));
         }},
    {.name = "key-port-unbound",
     .what = "event-channel a port it never allocated",
     .expect = Expect::never_connected,
     .keys = [](Session&, Keys& k,
                const Conn& c) { set_key(k, key::event_channel, std::to_string(c.port + 1000)); }},
    {.name = "key-change",
     .what = "the ring refs and port rewritten while the backend connects",
     .expect = Expect::survives,
     .race =
         [](Session& s, const Conn&) {
             // Right after Connected: these race the backend's reads of them.
             for (int i = 0; i < 50; ++i) {
                 for (auto key : {key::tx_ring_ref, key::rx_ring_ref, key::event_channel})
                     (void)s.xs().write(s.dir() + "/" + std::string(key),
                                        i % 2 ? "x" : "4294967296");
             }
         }},
};

}  // namespace

Result<uint16_t> send_valid(Session& s, Conn& c, uint16_t id) {
    fill_frame(c);
    req(c, id, ref0(c), 0, kFrameBytes, 0);
    return publish(s, c, id);
}

std::span<const Attack> attacks() {
    return kAttacks;
}

const Attack* find_attack(const std::string& name) {
    for (const auto& a : kAttacks) {
        if (name == a.name) return &a;
    }
    return nullptr;
}

bool in_all(const Attack& a) {
    return std::string_view(a.name) != "event-storm" && a.expect != Expect::answered;
}

}  // namespace hostile
