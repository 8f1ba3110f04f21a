#include "device/tap_features.h"

#include <fmt/format.h>

#include <algorithm>

#include "device/ethtool.h"
#include "netif/policy_keys.h"
#include "runtime/log.h"

namespace xnet::offload {
namespace {

// The TapOffload field that shows the TAP feature NAME.
bool TapOffload::*field_of(std::string_view name) {
    if (name == ethtool::kCsum) return &TapOffload::csum;
    if (name == ethtool::kSg) return &TapOffload::sg;
    if (name == ethtool::kTso4) return &TapOffload::tso4;
    if (name == ethtool::kTso6) return &TapOffload::tso6;
    return nullptr;
}

// The TAP fields a setting shows: its own feature's, or its parts'.
std::vector<bool TapOffload::*> shown_by(const Setting& s) {
    std::vector<bool TapOffload::*> out;
    if (auto f = field_of(s.ethtool)) return {f};
    for (const Setting& inner : kSettings) {
        auto f = field_of(inner.ethtool);
        if (f && narrower(inner, s)) out.push_back(f);
    }
    return out;
}

void write(Policy& p, const Request& r) {
    for (auto f : r.setting->fields)
        p.*f = r.on;
}

bool holds(const TapOffload& t, const Request& r) {
    auto fields = shown_by(*r.setting);
    return std::all_of(fields.begin(), fields.end(), [&](auto f) { return t.*f == r.on; });
}

// Why the TAP field F stays off under P toward PEER.
std::string why_off(const Policy& p, const Features& peer, std::string_view who,
                    const bool TapOffload::*f) {
    if (f == &TapOffload::csum) {
        return fmt::format(
            "the {} takes no partial checksums (feature-no-csum-offload set, "
            "feature-ipv6-csum-offload not)",
            who);
    }
    if (!peer.sg) return fmt::format("the {} takes no multi-slot packets (no feature-sg)", who);
    if (f == &TapOffload::sg) return "scatter-gather is off";
    bool v4 = f == &TapOffload::tso4;
    if (!(v4 ? p.tx_csum_tcpv4 : p.tx_csum_tcpv6)) {
        return fmt::format("TCP segmentation needs tx-checksumming on (tx-checksum-tcpv{} is off)",
                           v4 ? 4 : 6);
    }
    if (v4 ? peer.no_csum : !peer.ipv6_csum) {
        return fmt::format("the {} takes no IPv{} partial checksums", who, v4 ? 4 : 6);
    }
    if (!p.sg) return "TCP segmentation needs scatter-gather on";
    return fmt::format("the {} does not advertise feature-gso-tcpv{}", who, v4 ? 4 : 6);
}

}  // namespace

TapOffload shown(const Policy& p, const TxRules& rules) {
    return {.csum = rules.csum_blank.any(),
            .tso4 = rules.gso_v4,
            .tso6 = rules.gso_v6,
            .sg = p.sg && rules.sg};
}

std::vector<Request> requests(const TapOffload& applied, const TapOffload& wanted) {
    std::vector<Request> out;
    for (const Setting& s : kSettings) {
        auto f = field_of(s.ethtool);
        if (f && applied.*f != wanted.*f) out.push_back({&s, wanted.*f});
    }
    // Parts that cover a group with one value: the group instead.
    for (const Setting& g : kSettings) {
        if (!g.group() || field_of(g.ethtool)) continue;
        std::vector<Request> parts;
        for (const Request& r : out)
            if (narrower(*r.setting, g)) parts.push_back(r);
        size_t covered = 0;
        for (const Request& r : parts)
            covered += r.setting->fields.size();
        bool one_value = std::all_of(parts.begin(), parts.end(),
                                     [&](const Request& r) { return r.on == parts[0].on; });
        if (parts.empty() || covered != g.fields.size() || !one_value) continue;
        std::erase_if(out, [&](const Request& r) { return narrower(*r.setting, g); });
        out.push_back({&g, parts[0].on});
    }
    return out;
}

Verdict judge(const Policy& p, const Features& peer, std::string_view peer_name,
              const std::vector<Request>& reqs) {
    // Take them all, then drop what would not show, until what is left
    // all shows (dropping one can only turn others off, never on).
    std::vector<Request> taken = reqs;
    Verdict v;
    for (;;) {
        Policy next = p;
        for (const Request& r : taken)
            write(next, r);
        auto t = shown(next, tx_rules(next, peer));
        auto bad =
            std::find_if(taken.begin(), taken.end(), [&](const auto& r) { return !holds(t, r); });
        if (bad == taken.end()) break;
        auto fields = shown_by(*bad->setting);
        auto f =
            *std::find_if(fields.begin(), fields.end(), [&](auto x) { return t.*x != bad->on; });
        v.refused.emplace_back(*bad, why_off(next, peer, peer_name, f));
        taken.erase(bad);
    }
    v.accepted = std::move(taken);
    return v;
}

std::string describe(const Request& r) {
    std::string_view name = r.setting->ethtool.empty() ? r.setting->alias : r.setting->ethtool;
    return fmt::format("{} {}", name, r.on ? "on" : "off");
}

Status write_requests(const XenStore& xs, const std::string& dir, const std::vector<Request>& reqs,
                      XenStore::Tx tx) {
    for (const Request& r : reqs)
        XNET_TRY(write_setting(xs, dir, *r.setting, r.on ? "on" : "off", tx));
    return {};
}

Status TapSync::apply(Link& l, const Policy& p, const Features* peer) {
    auto want = shown(p, tx_rules(p, peer ? *peer : kEveryFeature));
    if (applied_ == want) return {};
    XNET_TRY(l.set_offload(want));
    applied_ = want;
    return {};
}

void TapSync::follow(ethtool::Monitor* m, std::function<void()> changed) {
    if (!m || watch_) return;
    auto w = m->watch(name_, std::move(changed));
    if (!w) {
        log::warn("{}: ethtool -K on it will not be seen: {}", name_, w.error().message());
        return;
    }
    watch_ = std::move(*w);
}

void TapSync::on_changed(Link& l, const Policy& p, const Features* peer,
                         const WriteSettings& write) {
    if (!applied_) return;  // not set up yet: nothing of ours to compare with
    auto wanted = l.wanted_offload();
    if (!wanted) {
        log::error("{}: {}", name_, wanted.error().message());
        return;
    }
    auto reqs = requests(*applied_, *wanted);
    if (reqs.empty()) return;  // our own change, or none
    auto v = judge(p, peer ? *peer : kEveryFeature, peer_, reqs);
    for (const auto& [r, why] : v.refused)
        log::warn("{}: ethtool -K {} refused: {}; put back", name_, describe(r), why);
    for (const Request& r : v.accepted)
        log::info("{}: ethtool -K {}: offload/{} = {}", name_, describe(r), r.setting->key,
                  r.on ? "on" : "off");
    if (!v.accepted.empty()) {
        if (auto st = write(v.accepted); !st) {
            log::error("{}: {}", name_, st.error().message());
            v.refused.emplace_back(v.accepted.front(), st.error().message());
        }
    }
    // What was taken comes back as a policy change that sets the TAP;
    // the rest is put back now.
    if (!v.refused.empty()) {
        if (auto st = l.set_offload(*applied_); !st)
            log::error("{}: {}", name_, st.error().message());
    }
}

}  // namespace xnet::offload
