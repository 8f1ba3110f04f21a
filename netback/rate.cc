// A vif's transmit rate: libxl's `rate` key (xl's rate=, or xnetctl rate),
// applied to the guest's transmit at once, as Linux's netback does since it
// watches the key (xenbus.c, xen_net_rate_changed). The credit itself is
// netif/credit.h; the queues take from it (tx.cc).
#include <fmt/format.h>

#include "netif/netif_keys.h"
#include "runtime/log.h"
#include "xenbus.h"

namespace xnet::netback {

namespace key = netif::key;

// Level-triggered, as apply_policy: called on every change in our
// directory, it does something only when the key's text changed. A value
// that does not parse leaves the vif unlimited (so does Linux's netback),
// with the reason in the log and the error node.
void Vif::apply_rate() {
    auto v = s_.xs.try_read(be(key::rate));
    if (!v) return log::warn("{}: reading {}: {}", name(), key::rate, v.error().message());
    std::string text = *v ? **v : std::string();
    if (rate_key_ == text) return;
    rate_key_ = text;
    netif::Rate r;
    if (!text.empty()) {
        auto parsed = netif::parse_rate_key(text);
        if (parsed) {
            r = *parsed;
        } else {
            report(Error{EINVAL, parsed.error().message() + " (libxl writes BYTES,USECS); the "
                                                            "guest's transmit is not limited"});
        }
    }
    if (r == shared_.tx_credit.rate()) return;  // only this thread sets it
    {
        auto h = host_->hold();
        shared_.tx_credit.set(r, netif::Credit::Clock::now());
        for (auto& q : queues_)
            q->credit_changed();
    }
    log::info("{}: guest transmit rate {}", name(), netif::describe(r));
}

// {"bytes":62500,"usec":50000,"bits_per_second":10000000,"text":"10 Mbit/s (...)"}, or null.
void Vif::rate_json(JsonWriter& w) const {
    const auto r = shared_.tx_credit.rate();
    if (!r.limited()) return void(w.null());
    w.begin_object();
    w.field("bytes", r.bytes).field("usec", r.usec).field("bits_per_second", r.bits_per_second());
    w.field("text", netif::describe(r));
    w.end_object();
}

}  // namespace xnet::netback
