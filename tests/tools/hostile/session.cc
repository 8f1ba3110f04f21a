#include "session.h"

#include <poll.h>

#include <algorithm>

#include <fmt/format.h>

#include "netif/netif_keys.h"

namespace hostile {

using Clock = std::chrono::steady_clock;
namespace key = xnet::netif::key;

void set_key(Keys& k, std::string_view key, std::string value) {
    for (auto& [name, v] : k) {
        if (name == key) {
            v = std::move(value);
            return;
        }
    }
    k.emplace_back(key, std::move(value));
}

void drop_key(Keys& k, std::string_view key) {
    std::erase_if(k, [&](const auto& e) { return e.first == key; });
}

Session::Session(Platform& pf, XenStore xs, std::unique_ptr<GrantShare> gs,
                 std::unique_ptr<EventChannels> ev, unsigned devid)
    : xs_(std::move(xs)),
      gs_(std::move(gs)),
      ev_(std::move(ev)),
      self_(pf.self()),
      fe_(fmt::format("/local/domain/{}/device/vif/{}", pf.self(), devid)) {}

Status Session::init() {
    auto be = xs_.read(fe_ + "/backend");
    if (!be) return Unexpected{be.error()};
    be_ = *be;
    auto id = xs_.read(fe_ + "/backend-id");
    if (!id) return Unexpected{id.error()};
    auto n = netif::parse_number(*id, 0x7fef);
    if (!n) return fail(EINVAL, fmt::format("reading {}/backend-id '{}'", fe_, *id));
    be_dom_ = DomId(*n);
    if (auto st = xs_.watch(be_ + "/state", "be"); !st) return st;
    return start_over();
}

Result<State> Session::backend_state() const {
    auto v = xs_.read(be_ + "/state");
    if (!v) return Unexpected{v.error()};
    auto s = netif::parse_state(*v);
    if (!s) return fail(EPROTO, fmt::format("reading {}/state '{}'", be_, *v));
    return *s;
}

Result<State> Session::wait_backend(const std::function<bool(State)>& want,
                                    std::chrono::milliseconds deadline) const {
    auto end = Clock::now() + deadline;
    State last = State::unknown;
    for (;;) {
        while (xs_.next_event()) {
        }
        auto s = backend_state();
        if (s && want(*s)) return *s;
        if (s) last = *s;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
        if (left.count() <= 0) break;
        // The watch fires on every write of the state; a short bound covers
        // a write that raced with the read above.
        pollfd p{xs_.fd(), POLLIN, 0};
        (void)poll(&p, 1, int(std::min<long>(left.count(), 100)));
    }
    return fail(ETIMEDOUT, fmt::format("backend still {} after {} ms", netif::state_name(last),
                                       deadline.count()));
}

Status Session::set_state(State s) const {
    return xs_.write(fe_ + "/state", std::to_string(int(s)));
}

Status Session::start_over() {
    if (auto st = set_state(State::closed); !st) return st;
    (void)wait_backend([](State s) { return s == State::closed || s == State::init_wait; });
    if (auto st = set_state(State::initialising); !st) return st;
    auto s = wait_backend([](State st) { return st == State::init_wait; });
    if (!s) return Unexpected{s.error()};
    return {};
}

Result<std::pair<Conn, State>> Session::connect(const std::function<void(Keys&, const Conn&)>& edit,
                                                const std::function<void(const Conn&)>& race) {
    Conn c;
    auto tx = gs_->share(be_dom_, 1, true);
    if (!tx) return Unexpected{tx.error()};
    auto rx = gs_->share(be_dom_, 1, true);
    if (!rx) return Unexpected{rx.error()};
    auto data = gs_->share(be_dom_, kDataPages, true);
    if (!data) return Unexpected{data.error()};
    auto port = ev_->alloc_unbound(be_dom_);
    if (!port) return Unexpected{port.error()};
    c.tx_page = std::move(*tx);
    c.rx_page = std::move(*rx);
    c.data = std::move(*data);
    c.port = *port;
    ring::init_shared(c.tx_sring());
    ring::init_shared(c.rx_sring());
    c.tx = TxRing(c.tx_sring());
    c.rx = RxRing(c.rx_sring());

    // A well-formed frontend's keys (one queue), for the attack to edit.
    Keys k;
    set_key(k, key::tx_ring_ref, std::to_string(c.tx_page.refs()[0]));
    set_key(k, key::rx_ring_ref, std::to_string(c.rx_page.refs()[0]));
    set_key(k, key::event_channel, std::to_string(c.port));
    for (auto flag :
         {key::request_rx_copy, key::feature_rx_notify, key::feature_sg, key::feature_gso_tcpv4})
        set_key(k, flag, "1");
    if (edit) edit(k, c);
    for (const auto& [name, value] : k) {
        if (auto st = xs_.write(fe_ + "/" + name, value); !st) return Unexpected{st.error()};
    }
    if (auto st = set_state(State::connected); !st) return Unexpected{st.error()};
    if (race) race(c);
    auto s = wait_backend([](State st) { return st != State::init_wait; });
    if (!s) return Unexpected{s.error()};
    // Keys an attack added stay for the next connection otherwise.
    for (const auto& [name, value] : k)
        (void)xs_.rm(fe_ + "/" + name);
    return std::pair{std::move(c), *s};
}

}  // namespace hostile
