// The backend's half of the xenbus handshake for one vif, as one switch
// on our state (see docs/datapath.md for the diagram):
//
//   Initialising --setup: features, TAP--> InitWait
//   InitWait --frontend Connected/Initialised and hotplug-status=connected--> Connected
//   Connected --frontend Closing/Closed/gone--> Closing --frontend Closed--> InitWait
//   Connected --frontend Initialising (it restarted)--> InitWait
//   any --online=0 (libxl removes the vif)--> Closed; directory gone: torn down
//
// A backend that starts and finds its frontend already Connected (we were
// restarted) asks it to start over with Closing, so no stale ring is
// ever mapped. A frontend that broke the protocol is disconnected and the
// vif stays Closed until the frontend re-initialises.
#include "xenbus.h"

#include <fmt/format.h>

#include "device/tap_features.h"
#include "netif/netif_keys.h"
#include "netif/policy_keys.h"
#include "netif/xs_keys.h"
#include "runtime/json.h"
#include "runtime/log.h"

namespace xnet::netback {

using netif::State;
namespace key = netif::key;

struct Vif::FrontendKeys {
    unsigned queues = 1;
    offload::Features features;
    bool reconnect = false;  // feature-xnet-reconnect: it connects again after our Closing
    std::vector<QueueKeys> q;
};

Vif::Vif(Services& s, DomId dom, unsigned devid, QueueHost* host)
    : s_(s),
      own_host_(host ? nullptr : std::make_unique<InlineHost>(s.reactor, s.gnttab)),
      host_(host ? host : own_host_.get()),
      devid_(devid),
      policy_(s.options.policy),
      tap_(fmt::format("vif{}.{}", dom, devid), "frontend") {
    shared_.name = fmt::format("vif{}.{}", dom, devid);
    shared_.peer = dom;
    shared_.busy_poll = s.options.busy_poll;
    dir_ = fmt::format("/local/domain/{}/backend/vif/{}/{}", s_.platform.self(), dom, devid);
    // Called by a queue, on its host's thread.
    shared_.fault = [this, alive = alive_](const Error& e, bool quiet) {
        host_->to_control([this, alive, e, quiet] {
            if (*alive) on_fault(e, quiet);
        });
    };
}

Vif::~Vif() {
    *alive_ = false;
    {
        auto h = host_->hold();
        queues_.clear();  // before the TAP whose queues they read
    }
    if (!fe_token_.empty()) (void)s_.xs.unwatch(fe(key::state), fe_token_);
}

// Writes KEY in our directory only while the directory exists: a plain
// write would re-create a directory the toolstack just removed (xenstore
// creates missing parents), and the vif would never go.
// Every write of ours into the vif's directory goes through here: never
// into a directory the toolstack removed meanwhile, which would bring it
// back (and the vif with it, as it then never sees itself removed).
Status Vif::write_in_dir(const std::function<Status(XenStore::Tx)>& writes) {
    return s_.xs.transact([&](XenStore::Tx tx) -> Status {
        XNET_TRY_ASSIGN(auto dir, s_.xs.try_read(dir_, tx));
        if (!dir) return {};  // being removed
        return writes(tx);
    });
}

void Vif::write_own(std::string_view key, std::string_view value) {
    auto st = write_in_dir([&](XenStore::Tx tx) { return s_.xs.write(be(key), value, tx); });
    if (!st) log::error("{}: {}", name(), st.error().message());
}

void Vif::switch_state(State s) {
    if (state_ == s) return;
    log::info("{}: {} -> {}", name(), netif::state_name(state_), netif::state_name(s));
    state_ = s;
    write_own(key::state, std::to_string(int(s)));
}

void Vif::report(const Error& e) {
    log::error("{}: {}", name(), e.message());
    // Where Linux's xenbus_dev_error puts it: error/<device path>/error
    // under the backend domain's home.
    auto path = fmt::format("/local/domain/{}/error/backend/vif/{}/{}/error", s_.platform.self(),
                            dom(), devid_);
    (void)s_.xs.write(path, e.message());
}

// The frontend broke the protocol: counted, logged, and in the error node.
void Vif::blame(const Error& e) {
    {
        auto h = host_->hold();
        ++shared_.counters.faults;
        shared_.counters.last_fault = e.message();
    }
    report(e);
}

void Vif::on_fault(const Error& e, bool quiet) {
    if (fault_pending_) return;
    fault_pending_ = true;
    if (quiet) {
        log::info("{}: {}", name(), e.message());
    } else {
        blame(e);
    }
    // Not from inside the queue that found it: the queue goes away here.
    work_.defer(s_.reactor, [this, quiet] {
        fault_pending_ = false;
        disconnect();
        broken_ = !quiet;
        switch_state(State::closing);
        reconcile();  // the directory may have gone meanwhile
    });
}

// What we take from the guest, as keys: written before InitWait, read by
// the frontend when it connects.
Status Vif::write_advertised(XenStore::Tx tx) {
    // feature-no-csum-offload is not in netif.h for a backend: xnetfront
    // honours it (others ignore it), so that rx-checksum off here also
    // keeps IPv4 partials away.
    return offload::write_features(s_.xs, dir_, offload::advertised(policy_.policy()), tx);
}

// The policy keys, applied. Called on every change in our directory (the
// backend's watch covers offload/): level-triggered, so repeats are free.
void Vif::apply_policy() {
    auto before = offload::advertised(policy_.policy());
    if (!policy_.update(s_.xs, dir_, [this](const Error& e) { report(e); })) return;
    log::info("{}: offload policy now {}", name(), offload::describe(policy_.policy()));
    if (state_ == State::unknown || state_ == State::initialising) return;  // setup() will
    if (auto st = write_in_dir([this](XenStore::Tx tx) { return write_advertised(tx); }); !st) {
        report(st.error());
    }
    if (state_ != State::connected || !fe_keys_) {
        if (auto st = sync_tap(); !st) report(st.error());
        return;
    }
    if (offload::advertised(policy_.policy()) != before) {
        // A frontend reads our features only when it connects: it learns
        // of the change by connecting again, if it can. Linux's netfront
        // cannot (after Closing it stays Closed until the guest reloads
        // it), so for a frontend without feature-xnet-reconnect the change
        // is local until it next connects: what it negotiated stays
        // accepted, and our rules below change at once.
        if (fe_keys_->reconnect) {
            log::info("{}: the frontend must see new features: reconnecting", name());
            disconnect();
            return switch_state(State::closing);
        }
        log::info(
            "{}: the frontend cannot reconnect: features it negotiated stay accepted "
            "until it next connects",
            name());
    }
    if (auto st = derive_rules(); !st) report(st.error());
}

// The rules for both directions from our policy and the frontend's keys,
// and the TAP's offloads to match. Safe to call while packets flow: the
// queues read the rules per frame.
Status Vif::derive_rules() {
    const auto& p = policy_.policy();
    auto tx = offload::tx_rules(p, fe_keys_->features);
    {
        auto h = host_->hold();
        shared_.tx = tx;
        shared_.rx.checksum = p.rx_checksum();
    }
    return sync_tap();
}

// The TAP shows what we put on the ring (ethtool -k tells the truth):
// toward the frontend's features once connected, toward any before.
Status Vif::sync_tap() {
    return link_ ? tap_.apply(*link_, policy_.policy(), fe_keys_ ? &fe_keys_->features : nullptr)
                 : Status{};
}

// ethtool -K on vifD.N: what it changed becomes our policy keys.
void Vif::on_tap_features() {
    if (!link_) return;
    const auto* peer = fe_keys_ ? &fe_keys_->features : nullptr;
    tap_.on_changed(*link_, policy_.policy(), peer, [this](const auto& reqs) {
        return write_in_dir(
            [&](XenStore::Tx tx) { return offload::write_requests(s_.xs, dir_, reqs, tx); });
    });
}

Status Vif::setup() {
    if (!link_) {
        // Survives a restart of the daemon with its bridge membership.
        XNET_TRY_ASSIGN(link_, s_.open_link(name(), true));
    }
    XNET_TRY_ASSIGN(auto mtu, netif::read_mtu(s_.xs, dir_));
    // The most we could take; narrowed to what the frontend accepts when
    // it connects.
    XNET_TRY(sync_tap());
    LinkSetup setup;
    // As Linux netback: the dom0 side never originates frames of its own.
    setup.mac = std::array<uint8_t, 6>{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff};
    setup.mtu = mtu.value_or(0);
    setup.gso_max_size = s_.options.gso_max_size;
    auto st = prepare_link(*link_, setup);
    if (!st) return st;
    tap_.follow(s_.ethtool, [this] { on_tap_features(); });

    // One transaction: each call is a round trip to xenstored, and a
    // hostile frontend may make us do this once per connection.
    return write_in_dir([&](XenStore::Tx tx) -> Status {
        auto w = [&](std::string_view key, auto value) {
            return s_.xs.write(be(key), fmt::format("{}", value), tx);
        };
        Status r;
        if (!(r = write_advertised(tx))) return r;
        if (!(r = w(key::feature_rx_copy, 1))) return r;
        if (!(r = w(key::feature_rx_flip, 0))) return r;
        if (!(r = w(key::feature_split_event_channels, 1))) return r;
        if (!(r = w(key::multi_queue_max_queues, s_.options.max_queues))) return r;
        return w(key::carrier, 0);
    });
}

Result<Vif::FrontendKeys> Vif::read_frontend() {
    FrontendKeys k;
    XNET_TRY(require_flag(s_.xs, fe(key::request_rx_copy),
                          "the frontend does not do rx-copy (request-rx-copy)"));
    XNET_TRY(require_flag(s_.xs, fe(key::feature_rx_notify), "feature-rx-notify is mandatory"));
    XNET_TRY_ASSIGN(k.features, offload::read_features(s_.xs, fe_dir_));
    XNET_TRY_ASSIGN(k.reconnect, read_flag(s_.xs, fe(key::feature_xnet_reconnect)));
    XNET_TRY_ASSIGN(auto queues,
                    read_number(s_.xs, fe(key::multi_queue_num_queues), UINT32_MAX, 1));
    if (queues == 0 || queues > s_.options.max_queues) {
        return fail(EINVAL, fmt::format("multi-queue-num-queues {} is not in 1..{}", queues,
                                        s_.options.max_queues));
    }
    k.queues = unsigned(queues);
    for (unsigned i = 0; i < k.queues; ++i) {
        XNET_TRY_ASSIGN(auto q, netif::read_queue_keys(s_.xs, fe_dir_, k.queues, i));
        k.q.push_back(q);
    }
    return k;
}

Status Vif::connect() {
    XNET_TRY_ASSIGN(auto k, read_frontend());
    fe_keys_ = std::make_unique<FrontendKeys>(k);
    // What the frontend read from our keys: taken for this connection
    // even if the policy later narrows it (see apply_policy).
    auto a = offload::advertised(policy_.policy());
    {
        auto h = host_->hold();
        shared_.gso_accepted_v4 = a.gso4;
        shared_.gso_accepted_v6 = a.gso6;
    }
    auto st = derive_rules();
    if (!st) return st;
    const auto& tx = shared_.tx;  // only this thread writes it (derive_rules)

    for (unsigned i = 0; i < k.queues; ++i) {
        XNET_TRY_ASSIGN(auto port, link_->queue(i));
        XNET_TRY_ASSIGN(auto ev, s_.platform.open_evtchn());
        auto h = host_->hold();
        XNET_TRY_ASSIGN(auto q, BackQueue::start(host_->reactor(), host_->gnttab(), std::move(ev),
                                                 *port, shared_, i, k.q[i]));
        queues_.push_back(std::move(q));
    }
    if (!(st = link_->set_carrier(true))) return st;
    write_own(key::carrier, "1");
    {
        auto h = host_->hold();
        for (auto& q : queues_)
            q->kick();
    }
    log::info(
        "{}: connected: {} queue{}, {} event channels, to guest: csum_blank {} "
        "gso v4 {} v6 {} sg {}, from guest: rx-checksum {}",
        name(), k.queues, k.queues > 1 ? "s" : "",
        k.q[0].tx_port != k.q[0].rx_port ? "split" : "shared", offload::names(tx.csum_blank),
        tx.gso_v4, tx.gso_v6, tx.sg, offload::names(shared_.rx.checksum));
    return {};
}

// Whether the frontend moved on while connect() read its keys and mapped
// its rings: its state is no longer SEEN, or its queue keys are not the
// ones read (it started over with new rings and ports). A map or bind
// that fails then is a reconnect's race, not a broken frontend: the
// backend follows the frontend's handshake and waits for its next write.
// A frontend that keeps its state and keys is blamed for them.
bool Vif::frontend_moved(State seen) const {
    auto v = s_.xs.try_read(fe(key::state));
    if (!v || !*v || netif::parse_state(**v) != seen) return true;
    if (!fe_keys_) return false;  // the keys were unreadable: nothing else moved
    for (unsigned i = 0; i < fe_keys_->queues; ++i) {
        auto q = netif::read_queue_keys(s_.xs, fe_dir_, fe_keys_->queues, i);
        if (!q || !(*q == fe_keys_->q[i])) return true;
    }
    return false;
}

void Vif::disconnect() {
    fe_keys_.reset();
    if (queues_.empty() && !(link_ && link_->has_extra_queues())) return;
    {
        auto h = host_->hold();
        queues_.clear();
    }
    if (link_) {
        link_->drop_queues();
        (void)link_->set_carrier(false);
    }
    write_own(key::carrier, "0");
    log::info("{}: disconnected", name());
}

void Vif::teardown() {
    disconnect();
    {
        auto h = host_->hold();
        host_->gnttab().forget(dom());
    }
    if (link_) {
        tap_.unfollow();
        link_->remove();
        link_.reset();
        log::info("{}: removed", name());
    }
}

void Vif::reconcile() {
    if (gone_) return;
    auto exists = s_.xs.try_read(dir_);
    if (!exists) return log::error("{}: {}", name(), exists.error().message());
    if (!*exists) {
        teardown();
        gone_ = true;
        return;
    }
    apply_policy();
    apply_rate();
    auto online = s_.xs.try_read(be(key::online));
    bool removing = online && *online && **online == "0";

    if (fe_dir_.empty()) {
        auto peer = s_.xs.try_read(be(key::frontend));
        std::string want = fmt::format("/local/domain/{}/device/vif/{}", dom(), devid_);
        if (!peer || !*peer) return;  // not written yet
        if (**peer != want) {
            return report(Error{EINVAL, fmt::format("frontend is '{}', expected {}",
                                                    (*peer)->substr(0, 128), want)});
        }
        fe_dir_ = want;
        fe_token_ = fmt::format("fe/{}/{}", dom(), devid_);
        auto st = s_.xs.watch(fe(key::state), fe_token_);
        if (!st) return report(st.error());
    }
    State fe_state = State::unknown;
    if (auto v = s_.xs.try_read(fe(key::state)); v && *v) {
        fe_state = netif::parse_state(**v).value_or(State::unknown);
    }
    auto hotplug = s_.xs.try_read(be(key::hotplug_status));
    bool hotplug_ok = hotplug && *hotplug && **hotplug == "connected";
    bool fe_ready = fe_state == State::initialised || fe_state == State::connected;

    // Once more after a step that only moved state_ (Closing or Closed to
    // Initialising): the keys read above still hold, so no reread.
    for (;;) {
        switch (state_) {
            case State::unknown:
            case State::initialising:
            case State::init_wait:
                if (removing) return switch_state(State::closed);
                if (state_ != State::init_wait) {
                    if (auto st = setup(); !st) {
                        report(st.error());
                        return switch_state(State::closed);
                    }
                    // A frontend already up is left from before we (re)started.
                    return switch_state(fe_ready ? State::closing : State::init_wait);
                }
                if (fe_ready && hotplug_ok) {
                    if (auto st = connect(); !st) {
                        if (frontend_moved(fe_state)) {
                            // Keys it has since replaced: wait for its next write.
                            log::info("{}: the frontend moved on while we connected ({})", name(),
                                      st.error().message());
                            disconnect();
                            return;
                        }
                        blame(st.error());  // its keys, refs or ports, nearly always
                        disconnect();
                        broken_ = true;
                        return switch_state(State::closing);
                    }
                    return switch_state(State::connected);
                }
                return;
            case State::connected:
                if (removing) {
                    disconnect();
                    return switch_state(State::closed);
                }
                if (fe_ready) return;
                disconnect();
                return switch_state(fe_state == State::initialising ? State::init_wait
                                                                    : State::closing);
            case State::closing:
                if (removing) return switch_state(State::closed);
                if (fe_state == State::initialising ||
                    (!broken_ && !fe_ready && fe_state != State::closing)) {
                    broken_ = false;
                    state_ = State::initialising;  // set up again, then InitWait
                    continue;
                }
                if (fe_state == State::closed) return switch_state(State::closed);
                return;
            case State::closed:
                if (removing) return;  // libxl removes the directory next
                if (fe_state == State::initialising) {
                    broken_ = false;
                    state_ = State::initialising;
                    continue;
                }
                return;
            case State::initialised:
            case State::reconfiguring:
            case State::reconfigured:
                return switch_state(State::closing);  // never ours
        }
    }
}

void Vif::check_peer() {
    if (state_ != State::connected || fault_pending_) return;
    std::optional<size_t> closed;
    {
        auto h = host_->hold();  // the channels are the queues'
        for (size_t i = 0; i < queues_.size() && !closed; ++i) {
            auto bound = queues_[i]->peer_bound();
            if (!bound) return log::warn("{}: {}", name(), bound.error().message());
            if (!*bound) closed = i;
        }
    }
    if (!closed) return;
    // Nothing to blame: a frontend that starts again re-initialises and
    // finds us ready (Closing, then InitWait).
    on_fault(Error{ENOTCONN, fmt::format("queue {}: the frontend closed its event channel (its "
                                         "process or domain is gone)",
                                         *closed)},
             true);
}

std::string Vif::json() const {
    JsonWriter w;
    w.begin_object();
    w.field("name", name()).field("domid", dom()).field("devid", devid_);
    w.field("end", "backend").field("state", netif::state_name(state_));
    auto h = host_->hold();  // the queues' counters
    w.field("queues", queues_.size());
    w.key("queue_packets").begin_array();
    for (const auto& q : queues_)
        w.value(q->packets());
    w.end_array();
    w.field("broken", broken_);
    w.key("rate");
    rate_json(w);
    w.key("policy").raw(offload::json(policy_.policy()));
    // What the policy makes us advertise, and the frontend's features our
    // rules were derived from (null until it connects): with the keys in
    // xenstore, they show whether both ends follow the keys as they are.
    w.key("advertised").raw(offload::json(offload::advertised(policy_.policy())));
    if (fe_keys_) {
        w.key("peer_features").raw(offload::json(fe_keys_->features));
    } else {
        w.key("peer_features").null();
    }
    w.key("counters").raw(shared_.counters.json());
    w.end_object();
    return w.take();
}

}  // namespace xnet::netback
