#include "device/ethtool.h"

#include <linux/ethtool_netlink.h>
#include <net/if.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>

#include "runtime/blocking.h"
#include "runtime/log.h"

namespace xnet::ethtool {
namespace {

using genl::Attr;

Result<genl::Socket> open_ethtool() {
    return genl::Socket::open(ETHTOOL_GENL_NAME);
}

void put_header(genl::Message& m, uint16_t type, unsigned ifindex) {
    size_t h = m.begin_nest(type);
    m.put_u32(ETHTOOL_A_HEADER_DEV_INDEX, ifindex);
    m.end_nest(h);
}

// The names of the bits set in a bitset sent in the verbose form (the
// kernel's default: each bit with its name). Without a mask (NOMASK) the
// bits listed are the ones set; with one, those carrying VALUE.
std::optional<std::vector<std::string>> set_bits(const Attr& bitset) {
    auto top = genl::parse(bitset.data);
    if (!top) return std::nullopt;
    bool nomask = genl::find(*top, ETHTOOL_A_BITSET_NOMASK) != nullptr;
    std::vector<std::string> on;
    const Attr* bits = genl::find(*top, ETHTOOL_A_BITSET_BITS);
    if (!bits) return on;
    auto list = genl::parse(bits->data);
    if (!list) return std::nullopt;
    for (const Attr& bit : *list) {
        if (bit.type != ETHTOOL_A_BITSET_BITS_BIT) continue;
        auto fields = genl::parse(bit.data);
        if (!fields) return std::nullopt;
        const Attr* name = genl::find(*fields, ETHTOOL_A_BITSET_BIT_NAME);
        bool value = nomask || genl::find(*fields, ETHTOOL_A_BITSET_BIT_VALUE);
        if (name && name->str() && value) on.emplace_back(*name->str());
    }
    return on;
}

// The device a notification is about: its header's index.
std::optional<unsigned> device_of(const genl::Reply& r) {
    const Attr* h = genl::find(r.attrs, ETHTOOL_A_FEATURES_HEADER);
    if (!h) return std::nullopt;
    auto fields = genl::parse(h->data);
    if (!fields) return std::nullopt;
    const Attr* index = genl::find(*fields, ETHTOOL_A_HEADER_DEV_INDEX);
    if (!index || !index->u32()) return std::nullopt;
    return *index->u32();
}

}  // namespace

bool Features::wants(std::string_view name) const {
    return std::find(wanted.begin(), wanted.end(), name) != wanted.end();
}

TapOffload Features::wanted_offload() const {
    return {.csum = wants(kCsum), .tso4 = wants(kTso4), .tso6 = wants(kTso6), .sg = wants(kSg)};
}

Result<Features> features(unsigned ifindex) {
    blocking::Scope wait(blocking::Service::tap);
    std::string what = "reading the features of interface " + std::to_string(ifindex);
    XNET_TRY_ASSIGN(auto s, open_ethtool());
    genl::Message m(s.family(), ETHTOOL_MSG_FEATURES_GET, ETHTOOL_GENL_VERSION, 0);
    put_header(m, ETHTOOL_A_FEATURES_HEADER, ifindex);
    auto replies = s.request(m);
    if (!replies) return fail(replies.error().code, what);
    for (const auto& r : *replies) {
        if (r.cmd != ETHTOOL_MSG_FEATURES_GET_REPLY) continue;
        const Attr* wanted = genl::find(r.attrs, ETHTOOL_A_FEATURES_WANTED);
        auto w = wanted ? set_bits(*wanted) : std::nullopt;
        if (!w) return fail(EPROTO, what);
        return Features{std::move(*w)};
    }
    return fail(EPROTO, what);
}

Status set_features(unsigned ifindex, std::span<const Wanted> features) {
    blocking::Scope wait(blocking::Service::tap);
    std::string what = fmt::format("setting the features of interface {}", ifindex);
    XNET_TRY_ASSIGN(auto s, open_ethtool());
    genl::Message m(s.family(), ETHTOOL_MSG_FEATURES_SET, ETHTOOL_GENL_VERSION, 0);
    put_header(m, ETHTOOL_A_FEATURES_HEADER, ifindex);
    // A bitset with a mask (no NOMASK): the bits listed change, the
    // others stay.
    size_t wanted = m.begin_nest(ETHTOOL_A_FEATURES_WANTED);
    size_t bits = m.begin_nest(ETHTOOL_A_BITSET_BITS);
    for (const Wanted& f : features) {
        size_t bit = m.begin_nest(ETHTOOL_A_BITSET_BITS_BIT);
        m.put_str(ETHTOOL_A_BITSET_BIT_NAME, f.name);
        if (f.on) m.put_flag(ETHTOOL_A_BITSET_BIT_VALUE);
        m.end_nest(bit);
    }
    m.end_nest(bits);
    m.end_nest(wanted);
    if (auto r = s.request(m); !r) return fail(r.error().code, what);
    return {};
}

Watch& Watch::operator=(Watch&& o) noexcept {
    if (this != &o) {
        reset();
        m_ = std::exchange(o.m_, nullptr);
        ifindex_ = o.ifindex_;
        id_ = o.id_;
    }
    return *this;
}

void Watch::reset() {
    if (m_) std::exchange(m_, nullptr)->unwatch(ifindex_, id_);
}

Result<std::unique_ptr<Monitor>> Monitor::open(Reactor& r) {
    XNET_TRY_ASSIGN(auto s, open_ethtool());
    XNET_TRY(s.join(ETHTOOL_MCGRP_MONITOR_NAME));
    std::unique_ptr<Monitor> m(new Monitor(std::move(s)));
    XNET_TRY(
        m->reg_.watch(r, m->sock_.fd(), EPOLLIN, [mp = m.get()](uint32_t) { mp->on_readable(); }));
    return m;
}

Monitor::~Monitor() = default;

Result<Watch> Monitor::watch(const std::string& ifname, std::function<void()> changed) {
    unsigned ifindex = if_nametoindex(ifname.c_str());
    if (!ifindex) return fail(errno, "watching the features of " + ifname);
    unsigned id = next_id_++;
    watches_.emplace(ifindex, std::make_pair(id, std::move(changed)));
    return Watch(this, ifindex, id);
}

void Monitor::unwatch(unsigned ifindex, unsigned id) {
    auto [b, e] = watches_.equal_range(ifindex);
    for (auto it = b; it != e; ++it) {
        if (it->second.first == id) {
            watches_.erase(it);
            return;
        }
    }
}

// Calls each watcher of IFINDEX that is still there: a call may end
// another's watch (a vif torn down), so ids are collected first.
void Monitor::notify(unsigned ifindex) {
    std::vector<unsigned> ids;
    auto [b, e] = watches_.equal_range(ifindex);
    for (auto it = b; it != e; ++it)
        ids.push_back(it->second.first);
    for (unsigned id : ids) {
        auto [b2, e2] = watches_.equal_range(ifindex);
        auto it = std::find_if(b2, e2, [id](const auto& w) { return w.second.first == id; });
        if (it != e2) {
            auto f = it->second.second;  // the call may erase IT
            f();
        }
    }
}

void Monitor::on_readable() {
    bool lost = false;
    std::vector<unsigned> changed;
    auto st = sock_.drain(
        [&](const genl::Reply& r) {
            if (r.cmd != ETHTOOL_MSG_FEATURES_NTF) return;
            if (auto i = device_of(r)) changed.push_back(*i);
        },
        [&] { lost = true; });
    if (!st) log::error("{}", st.error().message());
    if (lost) {
        // Some notification was dropped: every device may have changed.
        log::warn("ethtool notifications were lost; rereading every TAP's features");
        changed.clear();
        for (const auto& [ifindex, w] : watches_)
            changed.push_back(ifindex);
    }
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    for (unsigned ifindex : changed)
        notify(ifindex);
}

}  // namespace xnet::ethtool
