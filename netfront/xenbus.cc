// The frontend's half of the handshake, as one switch on our state:
//
//   Initialising --backend InitWait: grant, write keys--> Connected
//   Connected --backend Connected--> packets flow
//   Connected --backend Closing/Closed/gone--> Closed --backend InitWait--> Connected ...
//   Closed --backend Closed and still online--> Initialising (asks it to start over)
//   Connected --our features changed--> Closing --backend let go--> Closed ...
//
// On start we write Initialising, which makes a backend still holding an
// old connection of ours let go of it and go back to InitWait.
#include "xenbus.h"

#include <sys/epoll.h>

#include <fmt/format.h>

#include "device/tap_features.h"
#include "netif/netif_keys.h"
#include "netif/policy_keys.h"
#include "netif/xs_keys.h"
#include "runtime/json.h"
#include "runtime/log.h"

namespace xnet::netfront {

using netif::State;
namespace key = netif::key;

struct Frontend::BackendKeys {
    bool split = false;
    offload::Features features;
    unsigned max_queues = 1;
};

Frontend::Frontend(Reactor& r, const Platform& p, const XenStore& xs, GrantShare& gs, Options o)
    : r_(r),
      p_(p),
      xs_(xs),
      gs_(gs),
      o_(std::move(o)),
      policy_(o_.policy),
      tap_(o_.ifname, "backend") {
    shared_.name = o_.ifname;
    shared_.busy_poll = o_.busy_poll;
    shared_.fault = [this](const Error& e, bool) { on_fault(e); };
}

Frontend::~Frontend() {
    queues_.clear();  // before the link whose queues they read
}

void Frontend::switch_state(State s) {
    if (state_ != s)
        log::info("{}: {} -> {}", name(), netif::state_name(state_), netif::state_name(s));
    state_ = s;
    auto st = xs_.write(fe(key::state), std::to_string(int(s)));
    if (!st) log::error("{}: {}", name(), st.error().message());
}

void Frontend::report(const Error& e) {
    log::error("{}: {}", name(), e.message());
    (void)xs_.write(fmt::format("/local/domain/{}/error/device/vif/{}/error", p_.self(), o_.devid),
                    e.message());
}

void Frontend::on_fault(const Error& e) {
    if (fault_pending_) return;
    fault_pending_ = true;
    report(e);
    work_.defer(r_, [this] {
        fault_pending_ = false;
        disconnect();
        switch_state(State::closed);
    });
}

Status Frontend::start() {
    dir_ = fmt::format("/local/domain/{}/device/vif/{}", p_.self(), o_.devid);
    XNET_TRY_ASSIGN(auto bid, read_number(xs_, fe(key::backend_id), 0x7fef));
    shared_.peer = DomId(bid);
    XNET_TRY_ASSIGN(auto peer, xs_.read(fe(key::backend)));
    std::string want = fmt::format("/local/domain/{}/backend/vif/{}/{}", bid, p_.self(), o_.devid);
    if (peer != want) {
        return fail(EINVAL, fmt::format("reading {}: '{}', expected {}", fe(key::backend),
                                        peer.substr(0, 128), want));
    }
    be_dir_ = want;

    XNET_TRY_ASSIGN(link_, o_.open_link(o_.ifname, false));
    XNET_TRY(sync_tap());
    LinkSetup setup;
    setup.gso_max_size = link::kNetifGsoMaxSize;
    if (auto mac = xs_.try_read(fe(key::mac)); mac && *mac) {
        auto m = link::parse_mac(**mac);
        if (!m) return fail(EINVAL, fmt::format("reading {}: '{}'", fe(key::mac), **mac));
        setup.mac = *m;
    }
    XNET_TRY_ASSIGN(auto mtu, netif::read_mtu(xs_, dir_));
    setup.mtu = mtu.value_or(0);
    auto st = prepare_link(*link_, setup);
    if (!st) return st;
    tap_.follow(o_.ethtool, [this] { on_tap_features(); });

    for (auto [path, token] : {std::pair{dir_, "self"},
                               {be(key::state), "backend"},
                               {be(key::carrier), "backend"},
                               {be(key::online), "backend"}}) {
        if (!(st = xs_.watch(path, token))) return st;
    }
    if (!(st = store_watch_.watch(r_, xs_.fd(), EPOLLIN, [this](uint32_t) { on_store(); }))) {
        return st;
    }
    state_ = State::unknown;
    switch_state(State::initialising);
    reconcile();
    return {};
}

void Frontend::on_store() {
    bool any = false;
    while (xs_.next_event())
        any = true;
    if (any) reconcile();
}

Result<Frontend::BackendKeys> Frontend::read_backend() {
    auto flag = [&](std::string_view k) { return read_flag(xs_, be(k)); };
    BackendKeys b;
    XNET_TRY(
        require_flag(xs_, be(key::feature_rx_copy), "the backend does not offer feature-rx-copy"));
    XNET_TRY_ASSIGN(b.split, flag(key::feature_split_event_channels));
    XNET_TRY_ASSIGN(b.features, offload::read_features(xs_, be_dir_));
    const auto max_queues = be(key::multi_queue_max_queues);
    XNET_TRY_ASSIGN(auto queues, read_number(xs_, max_queues, 1024, 1));
    if (queues == 0) return fail(EINVAL, max_queues + " is 0");
    b.max_queues = unsigned(queues);
    return b;
}

// The policy keys, applied. Called on every change in our directory:
// level-triggered, so repeats are free.
void Frontend::apply_policy() {
    auto before = offload::advertised(policy_.policy());
    if (!policy_.update(xs_, dir_, [this](const Error& e) { report(e); })) return;
    log::info("{}: offload policy now {}", name(), offload::describe(policy_.policy()));
    if (state_ != State::connected || !be_keys_) {  // connect() will use it
        if (auto st = sync_tap(); !st) report(st.error());
        return;
    }
    if (offload::advertised(policy_.policy()) != before) {
        // A backend reads our features only when we connect (Linux's
        // does), so it learns of the change by our connecting again:
        // Closing first, and our buffers stay granted until the backend
        // has let go of them (it may be copying into them right now).
        log::info("{}: the backend must see new features: reconnecting", name());
        return switch_state(State::closing);
    }
    if (auto st = derive_rules(); !st) report(st.error());
}

// The rules for both directions from our policy and the backend's keys,
// and the TAP's offloads to match; safe while packets flow.
Status Frontend::derive_rules() {
    const auto& p = policy_.policy();
    // netif.h has no key by which a backend refuses IPv4 partials; an
    // xnetback with rx-checksum off says feature-no-csum-offload, and
    // tx_rules honours it, so that it has a checksum to verify.
    shared_.tx = offload::tx_rules(p, be_keys_->features);
    shared_.rx.checksum = p.rx_checksum();
    auto a = offload::advertised(p);
    shared_.gso_accepted_v4 = a.gso4;
    shared_.gso_accepted_v6 = a.gso6;
    return sync_tap();
}

// The TAP shows what we put on the ring (ethtool -k tells the truth):
// toward the backend's features once connected, toward any before.
Status Frontend::sync_tap() {
    return link_ ? tap_.apply(*link_, policy_.policy(), be_keys_ ? &be_keys_->features : nullptr)
                 : Status{};
}

// ethtool -K on our interface: what it changed becomes our policy keys.
void Frontend::on_tap_features() {
    if (!link_) return;
    const auto* peer = be_keys_ ? &be_keys_->features : nullptr;
    tap_.on_changed(*link_, policy_.policy(), peer, [this](const auto& reqs) {
        return xs_.transact(
            [&](XenStore::Tx tx) { return offload::write_requests(xs_, dir_, reqs, tx); });
    });
}

Status Frontend::write_keys(const BackendKeys& b) {
    auto a = offload::advertised(policy_.policy());
    return xs_.transact([&](XenStore::Tx tx) -> Status {
        // What an earlier connection wrote and this one does not.
        if (auto kids = xs_.directory(dir_, tx)) {
            for (auto& k : *kids) {
                if (!netif::is_queue_key(k)) continue;
                XNET_TRY(xs_.rm(fe(k), tx));
            }
        }
        auto w = [&](std::string_view k, auto value) {
            return xs_.write(fe(k), fmt::format("{}", value), tx);
        };
        Status r;
        const auto n = unsigned(queues_.size());
        for (unsigned i = 0; i < n; ++i) {
            r = netif::write_queue_keys(xs_, dir_, n, i, queues_[i]->keys(), b.split, tx);
            if (!r) return r;
        }
        if (n > 1 && !(r = w(key::multi_queue_num_queues, n))) return r;
        if (!(r = w(key::request_rx_copy, 1))) return r;
        if (!(r = w(key::feature_rx_notify, 1))) return r;
        if (!(r = w(key::feature_xnet_reconnect, 1))) return r;
        if (!(r = offload::write_features(xs_, dir_, a, tx))) return r;
        return w(key::state, int(State::connected));
    });
}

Status Frontend::connect() {
    XNET_TRY_ASSIGN(auto b, read_backend());
    be_keys_ = std::make_unique<BackendKeys>(b);
    auto st = derive_rules();
    if (!st) return st;

    unsigned n = std::max(1u, std::min(o_.queues, b.max_queues));
    for (unsigned i = 0; i < n; ++i) {
        XNET_TRY_ASSIGN(auto ev, p_.open_evtchn());
        XNET_TRY_ASSIGN(auto q, FrontQueue::create(gs_, std::move(ev), shared_, i, b.split));
        queues_.push_back(std::move(q));
    }
    if (!(st = write_keys(b))) return st;
    log::info("{}: {} -> Connected ({} queue{}, {} event channels)", name(),
              netif::state_name(state_), n, n > 1 ? "s" : "", b.split ? "split" : "shared");
    state_ = State::connected;
    return {};
}

Status Frontend::run_queues() {
    for (size_t i = 0; i < queues_.size(); ++i) {
        XNET_TRY_ASSIGN(auto port, link_->queue(unsigned(i)));
        auto st = queues_[i]->start(r_, *port);
        if (!st) return st;
    }
    running_ = true;
    log::info("{}: backend connected, packets flow", name());
    return {};
}

void Frontend::disconnect() {
    be_keys_.reset();
    if (queues_.empty()) return;
    queues_.clear();
    running_ = false;
    if (link_) {
        link_->drop_queues();
        (void)link_->set_carrier(false);
    }
    log::info("{}: disconnected", name());
}

void Frontend::reconcile() {
    auto exists = xs_.try_read(dir_);
    if (!exists) return log::error("{}: {}", name(), exists.error().message());
    if (!*exists) {
        if (state_ != State::unknown) log::info("{}: the vif was removed", name());
        disconnect();
        state_ = State::unknown;
        return;
    }
    apply_policy();
    State peer_state = State::unknown;
    if (auto v = xs_.try_read(be(key::state)); v && *v) {
        peer_state = netif::parse_state(**v).value_or(State::unknown);
    }
    auto online_v = xs_.try_read(be(key::online));
    bool online = !(online_v && *online_v && **online_v == "0");

    switch (state_) {
        case State::unknown:
        case State::initialising:
        case State::initialised:
        case State::closed:
            if (state_ == State::unknown) return;  // removed; wait for it to come back
            if (peer_state == State::init_wait && online) {
                if (auto st = connect(); !st) {
                    report(st.error());
                    disconnect();
                    return switch_state(State::closed);
                }
                return;
            }
            if (state_ == State::closed && peer_state == State::closed && online) {
                return switch_state(State::initialising);
            }
            return;
        case State::connected:
            if (peer_state == State::connected) {
                if (!running_) {
                    if (auto st = run_queues(); !st) {
                        report(st.error());
                        disconnect();
                        return switch_state(State::closed);
                    }
                }
                auto carrier = xs_.try_read(be(key::carrier));
                bool up = !(carrier && *carrier && **carrier == "0");
                (void)link_->set_carrier(up);
                return;
            }
            if (peer_state == State::initialised || peer_state == State::unknown ||
                peer_state == State::init_wait || peer_state == State::closing ||
                peer_state == State::closed) {
                if (peer_state == State::init_wait && !running_)
                    return;  // it has not seen our keys yet
                disconnect();
                switch_state(State::closed);
                return reconcile();
            }
            return;
        case State::closing:
            // Asked the backend to let go (renegotiation): once it has
            // disconnected, our grants can end and we connect again.
            if (peer_state == State::connected || peer_state == State::initialised) return;
            disconnect();
            switch_state(State::closed);
            return reconcile();
        case State::init_wait:  // never ours
        case State::reconfiguring:
        case State::reconfigured:
            return switch_state(State::closed);
    }
}

std::string Frontend::json() const {
    JsonWriter w;
    w.begin_object();
    w.field("name", name()).field("devid", o_.devid).field("end", "frontend");
    w.field("state", netif::state_name(state_)).field("queues", queues_.size());
    w.key("policy").raw(offload::json(policy_.policy()));
    // As the backend's (Vif::json): ours, and the backend's the rules use.
    w.key("advertised").raw(offload::json(offload::advertised(policy_.policy())));
    if (be_keys_) {
        w.key("peer_features").raw(offload::json(be_keys_->features));
    } else {
        w.key("peer_features").null();
    }
    w.key("counters").raw(shared_.counters.json());
    w.end_object();
    return w.take();
}

}  // namespace xnet::netfront
