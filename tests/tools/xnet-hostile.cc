// xnet-hostile: a frontend that breaks netif.h on purpose, to show that a
// backend refuses it. It speaks the handshake like any frontend, then puts
// one crafted chain of requests on the TX ring and expects the backend to
// disconnect the vif (leave Connected) within a deadline; then it closes,
// re-initialises and goes on with the next attack. The attack `valid`
// sends a well-formed frame instead and expects the backend to answer it
// and stay connected, so a failure cannot come from a tool that only ever
// sends garbage.
//
// Runs on either platform (--platform xen in a real domU, sim under
// xnet-sim). Prints "ok ATTACK: ..." or "FAIL ATTACK: ..." per attack and
// exits 1 if any failed. What the backend logged is for the caller to
// check (tests/xen, tests/integration).
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "xnet/cli.h"
#include "xnet/netif.h"
#include "xnet/platform/platform.h"
#include "xnet/ring.h"

using namespace xnet;
using netif::State;
using Clock = std::chrono::steady_clock;

namespace {

const char* const kUsage =
    "usage: xnet-hostile --devid N [--platform xen|sim] [--repeat N] ATTACK...\n"
    "Attacks: valid bad-gref page-overrun too-many-slots reused-id index-jump\n"
    "         gso-mss-zero gso-mss-huge, or all (every one but valid, in that order)\n";

constexpr auto kDeadline = std::chrono::seconds(10);
constexpr unsigned kDataPages = 4;

// The rings and pages of one connection, and its port; released (in the
// members' destructors) once the backend has let go.
struct Conn {
    SharedPages tx_ring, rx_ring, data;
    Port port = 0;
    netif::TxSring* tx() const { return static_cast<netif::TxSring*>(tx_ring.addr()); }
};

using TxRing = ring::FrontRing<netif::TxSring>;

class Hostile {
  public:
    Hostile(Platform& pf, XenStore xs, std::unique_ptr<GrantShare> gs,
            std::unique_ptr<EventChannels> ev, unsigned devid)
        : xs_(std::move(xs)),
          gs_(std::move(gs)),
          ev_(std::move(ev)),
          fe_(fmt::format("/local/domain/{}/device/vif/{}", pf.self(), devid)) {}

    Status init() {
        auto be = xs_.read(fe_ + "/backend");
        if (!be) return Unexpected{be.error()};
        be_ = *be;
        auto id = xs_.read(fe_ + "/backend-id");
        if (!id) return Unexpected{id.error()};
        auto n = netif::parse_number(*id, 0x7fef);
        if (!n) return fail(EINVAL, fmt::format("reading {}/backend-id '{}'", fe_, *id));
        be_dom_ = DomId(*n);
        return start_over();
    }

    // Runs ATTACK once: true if the backend did what it must.
    bool run(const std::string& attack) {
        auto c = connect();
        if (!c) return report(attack, false, c.error().message());
        TxRing ring(c->tx());
        auto& data = c->data;
        auto* page = static_cast<uint8_t*>(data.addr());
        // A broadcast frame of a local-experimental EtherType: harmless
        // wherever it ends up.
        std::memset(page, 0xff, 6);
        std::memset(page + 6, 0x02, 6);
        page[12] = 0x88;
        page[13] = 0xb5;
        std::memset(page + 14, 0x5a, 186);
        GrantRef g = data.refs()[0];
        auto req = [&](uint16_t id, GrantRef ref, uint16_t off, uint16_t size, uint16_t flags) {
            netif::TxRequest r{};
            r.gref = ref;
            r.offset = off;
            r.size = size;
            r.id = id;
            r.flags = flags;
            ring.put(r);
        };
        auto gso = [&](uint16_t mss) {
            netif::ExtraInfo e{};
            e.type = XEN_NETIF_EXTRA_TYPE_GSO;
            e.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
            e.u.gso.size = mss;
            netif::TxRequest r{};  // the slot holds either; the extra is the shorter
            static_assert(sizeof e <= sizeof r);
            std::memcpy(&r, &e, sizeof e);
            ring.put(r);
        };
        bool jump = false;
        if (attack == "valid") {
            req(1, g, 0, 200, 0);
        } else if (attack == "bad-gref") {
            req(1, g + 4096, 0, 200, 0);  // never granted by us
        } else if (attack == "page-overrun") {
            req(1, g, 4000, 200, 0);
        } else if (attack == "too-many-slots") {
            constexpr unsigned n = netif::kFatalSlots + 1;
            req(0, g, 0, uint16_t(n * 14), netif::txf::more_data);
            for (unsigned i = 1; i < n; ++i)
                req(uint16_t(i), g, 0, 14, i + 1 < n ? netif::txf::more_data : 0);
        } else if (attack == "reused-id") {
            req(3, g, 0, 200, 0);
            req(3, g, 0, 200, 0);
        } else if (attack == "index-jump") {
            jump = true;
        } else if (attack == "gso-mss-zero" || attack == "gso-mss-huge") {
            req(1, g, 0, 200, netif::txf::extra_info | netif::txf::csum_blank);
            gso(attack == "gso-mss-zero" ? 0 : 65535);
        } else {
            return report(attack, false, "unknown attack");
        }
        if (jump) {
            // req_prod a ring and a half beyond what the backend consumed.
            std::atomic_ref<RING_IDX>(c->tx()->req_prod)
                .store(ring.rsp_cons() + TxRing::kSize * 3 / 2, std::memory_order_release);
        } else {
            ring.push();
        }
        if (auto st = ev_->notify(c->port); !st) return report(attack, false, st.error().message());

        auto t0 = Clock::now();
        bool ok;
        std::string what;
        if (attack == "valid") {
            // Answered with OKAY, and still connected a while later.
            std::optional<int16_t> status;
            while (!status && Clock::now() - t0 < kDeadline) {
                auto n = ring.pending();
                if (n && *n > 0) {
                    status = ring.take().status;
                } else {
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
            auto s = be_state();
            ok = status == NETIF_RSP_OKAY && s && *s == State::connected;
            what = status ? fmt::format("answered with status {}", *status) : "not answered";
            what += fmt::format(", backend {}", s ? netif::state_name(*s) : "unreadable");
        } else {
            auto s = wait_backend([](State st) { return st != State::connected; });
            ok = s.has_value();
            what = s ? fmt::format(
                           "backend went {} after {} ms", netif::state_name(*s),
                           std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0)
                               .count())
                     : s.error().message();
        }
        if (auto st = start_over(); !st) {
            ok = false;
            what += "; closing: " + st.error().message();
        }
        (void)ev_->unbind(c->port);
        return report(attack, ok, what);
    }

  private:
    static bool report(const std::string& attack, bool ok, const std::string& what) {
        fmt::print("{} {}: {}\n", ok ? "ok" : "FAIL", attack, what);
        std::fflush(stdout);
        return ok;
    }

    Result<State> be_state() const {
        auto v = xs_.read(be_ + "/state");
        if (!v) return Unexpected{v.error()};
        auto s = netif::parse_state(*v);
        if (!s) return fail(EPROTO, fmt::format("reading {}/state '{}'", be_, *v));
        return *s;
    }

    Result<State> wait_backend(const std::function<bool(State)>& want) const {
        auto t0 = Clock::now();
        State last = State::unknown;
        while (Clock::now() - t0 < kDeadline) {
            auto s = be_state();
            if (s && want(*s)) return *s;
            if (s) last = *s;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return fail(ETIMEDOUT, fmt::format("backend still {} after {} s", netif::state_name(last),
                                           kDeadline.count()));
    }

    Status set_state(State s) const { return xs_.write(fe_ + "/state", std::to_string(int(s))); }

    // Closed, then Initialising: a backend of any state offers InitWait.
    // How every attack ends, and how the first begins.
    Status start_over() {
        if (auto st = set_state(State::closed); !st) return st;
        (void)wait_backend([](State s) { return s == State::closed || s == State::init_wait; });
        if (auto st = set_state(State::initialising); !st) return st;
        auto s = wait_backend([](State st) { return st == State::init_wait; });
        if (!s) return Unexpected{s.error()};
        return {};
    }

    Result<Conn> connect() {
        Conn c;
        auto tx = gs_->share(be_dom_, 1, true);
        if (!tx) return Unexpected{tx.error()};
        auto rx = gs_->share(be_dom_, 1, true);
        if (!rx) return Unexpected{rx.error()};
        auto data = gs_->share(be_dom_, kDataPages, true);
        if (!data) return Unexpected{data.error()};
        auto port = ev_->alloc_unbound(be_dom_);
        if (!port) return Unexpected{port.error()};
        c.tx_ring = std::move(*tx);
        c.rx_ring = std::move(*rx);
        c.data = std::move(*data);
        c.port = *port;
        ring::init_shared(c.tx());
        ring::init_shared(static_cast<netif::RxSring*>(c.rx_ring.addr()));
        auto w = [&](const char* key, unsigned v) {
            return xs_.write(fe_ + "/" + key, std::to_string(v));
        };
        Status st;
        if (!(st = w("tx-ring-ref", c.tx_ring.refs()[0])) ||
            !(st = w("rx-ring-ref", c.rx_ring.refs()[0])) || !(st = w("event-channel", c.port)) ||
            !(st = w("request-rx-copy", 1)) || !(st = w("feature-rx-notify", 1)) ||
            !(st = w("feature-sg", 1)) || !(st = w("feature-gso-tcpv4", 1)) ||
            !(st = set_state(State::connected))) {
            return Unexpected{st.error()};
        }
        auto s =
            wait_backend([](State st) { return st == State::connected || st >= State::closing; });
        if (!s) return Unexpected{s.error()};
        if (*s != State::connected) {
            return fail(EPROTO,
                        fmt::format("the handshake: backend went {}", netif::state_name(*s)));
        }
        return c;
    }

    XenStore xs_;
    std::unique_ptr<GrantShare> gs_;
    std::unique_ptr<EventChannels> ev_;
    std::string fe_, be_;
    DomId be_dom_ = 0;
};

int run(int argc, char** argv) {
    cli::Args a(argc, argv);
    cli::Common common;
    unsigned devid = 0, repeat = 1;
    bool have_devid = false;
    std::vector<std::string> attacks;
    while (!a.done()) {
        std::string key(a.next());
        if (key == "--help") {
            fmt::print("{}", kUsage);
            return 0;
        }
        auto c = cli::common_option(key, a, common);
        if (!c) {
            fmt::print(stderr, "xnet-hostile: {}\n{}", c.error().message(), kUsage);
            return 2;
        }
        if (*c) continue;
        if (key == "--devid" || key == "--repeat") {
            auto v = a.value(key);
            auto n = v ? netif::parse_number(*v, 1000000) : std::nullopt;
            if (!n) {
                fmt::print(stderr, "xnet-hostile: {} needs a number\n", key);
                return 2;
            }
            (key == "--devid" ? devid : repeat) = unsigned(*n);
            have_devid = have_devid || key == "--devid";
        } else if (key == "all") {
            for (const char* x : {"bad-gref", "page-overrun", "too-many-slots", "reused-id",
                                  "index-jump", "gso-mss-zero", "gso-mss-huge"})
                attacks.emplace_back(x);
        } else if (!key.starts_with("-")) {
            attacks.push_back(key);
        } else {
            fmt::print(stderr, "xnet-hostile: unknown option '{}'\n{}", key, kUsage);
            return 2;
        }
    }
    if (!have_devid || attacks.empty()) {
        fmt::print(stderr, "{}", kUsage);
        return 2;
    }
    auto pf = open_platform(common.platform.value_or(default_platform()));
    if (!pf) return fmt::print(stderr, "xnet-hostile: {}\n", pf.error().message()), 1;
    auto xs = (*pf)->open_store();
    auto gs = (*pf)->open_gntshr();
    auto ev = (*pf)->open_evtchn();
    for (const Error* e :
         {xs ? nullptr : &xs.error(), gs ? nullptr : &gs.error(), ev ? nullptr : &ev.error()}) {
        if (e) return fmt::print(stderr, "xnet-hostile: {}\n", e->message()), 1;
    }
    Hostile h(**pf, std::move(*xs), std::move(*gs), std::move(*ev), devid);
    if (auto st = h.init(); !st) {
        fmt::print(stderr, "xnet-hostile: {}\n", st.error().message());
        return 1;
    }
    unsigned failed = 0;
    for (unsigned i = 0; i < repeat; ++i) {
        for (const auto& attack : attacks)
            failed += h.run(attack) ? 0 : 1;
    }
    fmt::print("xnet-hostile: {} attack(s), {} failed\n", repeat * attacks.size(), failed);
    return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    return run(argc, argv);
}
