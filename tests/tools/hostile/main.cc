// xnet-hostile: a frontend that breaks netif.h and the handshake on
// purpose, to show that a backend refuses it. It speaks the handshake like
// any frontend, then runs one attack per connection (attacks.cc): crafted
// requests on the rings, or bad keys in place of the good ones. An attack
// passes when the backend does what it must: disconnect the vif (leave
// Connected), refuse to connect, or (for what harms only the sender) go on
// answering. Between attacks it closes and re-initialises.
//
// Runs on either platform (--platform xen in a real domU, sim under
// xnet-sim). Prints "ok ATTACK: ..." or "FAIL ATTACK: ..." per attack and
// exits 1 if any failed. What the backend logged and counted is for the
// caller to check (tests/xen, tests/integration/sim-hostile.sh).
#include <thread>

#include <fmt/format.h>

#include "attacks.h"
#include "device/options.h"

using namespace hostile;
using Clock = std::chrono::steady_clock;

namespace {

const char* const kUsage =
    "usage: xnet-hostile --devid N [--platform xen|sim] [--repeat N] ATTACK...\n"
    "       xnet-hostile --list\n"
    "ATTACK is a name from --list, or all (every one that the backend must refuse).\n";

std::string ms_since(Clock::time_point t0) {
    return fmt::format(
        "{} ms", std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
}

// The response to the frame sent with ID: OKAY, and for that id.
std::string await_answer(Conn& c, uint16_t id, bool& ok) {
    auto end = Clock::now() + kDeadline;
    while (Clock::now() < end) {
        auto n = c.tx.pending();
        if (!n) return ok = false, n.error().message();
        if (*n > 0) {
            netif::TxResponse r = c.tx.take();
            ok = r.status == NETIF_RSP_OKAY && r.id == id;
            return fmt::format("answered id {} with status {}", r.id, r.status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ok = false;
    return "not answered";
}

bool report(const Attack& a, bool ok, const std::string& what) {
    fmt::print("{} {}: {}\n", ok ? "ok" : "FAIL", a.name, what);
    std::fflush(stdout);
    return ok;
}

// Runs A once on its own connection: true if the backend did what it must.
bool run(Session& s, const Attack& a) {
    auto t0 = Clock::now();
    auto cs = s.connect(
        [&](Keys& k, const Conn& c) {
            if (a.keys) a.keys(s, k, c);
        },
        [&](const Conn& c) {
            if (a.race) a.race(s, c);
        });
    if (!cs) return report(a, false, "the handshake: " + cs.error().message());
    auto& [c, state] = *cs;
    bool ok = false;
    std::string what;
    if (a.expect == Expect::never_connected) {
        ok = state != State::connected;
        what = fmt::format("backend went {} after {}", netif::state_name(state), ms_since(t0));
    } else if (a.expect == Expect::survives) {
        what = fmt::format("backend went {}", netif::state_name(state));
        ok = true;
        if (state == State::connected) {  // with keys it read whole: then it must work
            auto id = send_valid(s, c, 9);
            what += ", " + (id ? await_answer(c, *id, ok) : id.error().message());
            ok = ok && id;
        }
    } else if (state != State::connected) {
        what = fmt::format("the handshake: backend went {}", netif::state_name(state));
    } else if (auto id = a.rings(s, c); !id) {
        what = id.error().message();
    } else if (a.expect == Expect::answered) {
        what = await_answer(c, *id, ok);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        auto st = s.backend_state();
        ok = ok && st && *st == State::connected;
        what += fmt::format(", backend {}", st ? netif::state_name(*st) : "unreadable");
    } else {
        auto st = s.wait_backend([](State x) { return x != State::connected; });
        ok = st.has_value();
        what = st ? fmt::format("backend went {} after {}", netif::state_name(*st), ms_since(t0))
                  : st.error().message();
    }
    // (the times say where a slow run spends them: the attack, or the
    // backend's way back to InitWait)
    auto t1 = Clock::now();
    if (auto st = s.start_over(); !st) {
        ok = false;
        what += "; closing: " + st.error().message();
    }
    (void)s.ev().unbind(c.port);
    return report(
        a, ok,
        fmt::format("{} [{} in all, {} of it back to InitWait]", what, ms_since(t0), ms_since(t1)));
}

const char* expect_name(Expect e) {
    switch (e) {
        case Expect::answered:
            return "answered";
        case Expect::refused:
            return "refused";
        case Expect::never_connected:
            return "never connected";
        case Expect::survives:
            return "survives";
    }
    return "?";
}

int main_(int argc, char** argv) {
    cli::Args args(argc, argv);
    cli::Common common;
    unsigned devid = 0, repeat = 1;
    bool have_devid = false;
    std::vector<const Attack*> chosen;
    while (!args.done()) {
        std::string key(args.next());
        if (key == "--help") {
            fmt::print("{}", kUsage);
            return 0;
        }
        if (key == "--list") {
            for (const auto& a : attacks())
                fmt::print("{:<20} {:<16} {}\n", a.name, expect_name(a.expect), a.what);
            return 0;
        }
        auto c = cli::common_option(key, args, common);
        if (!c) {
            fmt::print(stderr, "xnet-hostile: {}\n{}", c.error().message(), kUsage);
            return 2;
        }
        if (*c) continue;
        if (key == "--devid" || key == "--repeat") {
            auto v = args.value(key);
            auto n = v ? netif::parse_number(*v, 1000000) : std::nullopt;
            if (!n) {
                fmt::print(stderr, "xnet-hostile: {} needs a number\n", key);
                return 2;
            }
            (key == "--devid" ? devid : repeat) = unsigned(*n);
            have_devid = have_devid || key == "--devid";
        } else if (key == "all") {
            for (const auto& a : attacks()) {
                if (in_all(a)) chosen.push_back(&a);
            }
        } else if (const Attack* a = find_attack(key)) {
            chosen.push_back(a);
        } else {
            fmt::print(stderr, "xnet-hostile: unknown attack or option '{}'\n{}", key, kUsage);
            return 2;
        }
    }
    if (!have_devid || chosen.empty()) {
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
    Session s(**pf, std::move(*xs), std::move(*gs), std::move(*ev), devid);
    if (auto st = s.init(); !st) {
        fmt::print(stderr, "xnet-hostile: {}\n", st.error().message());
        return 1;
    }
    unsigned failed = 0;
    for (unsigned i = 0; i < repeat; ++i) {
        for (const Attack* a : chosen)
            failed += run(s, *a) ? 0 : 1;
    }
    fmt::print("xnet-hostile: {} attack(s), {} failed\n", repeat * chosen.size(), failed);
    return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    return xnet::cli::guarded_main("xnet-hostile", [&] { return main_(argc, argv); });
}
