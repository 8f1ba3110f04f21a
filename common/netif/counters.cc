#include "netif/counters.h"

#include <fmt/format.h>

#include "runtime/json.h"

namespace xnet {

std::string_view drop_name(Drop d) {
    switch (d) {
        case Drop::no_buffers:
            return "no_buffers";
        case Drop::too_big:
            return "too_big";
        case Drop::runt:
            return "runt";
        case Drop::bad_frame:
            return "bad_frame";
        case Drop::bad_checksum:
            return "bad_checksum";
        case Drop::bad_csum_meta:
            return "bad_csum_meta";
        case Drop::gso_refused:
            return "gso_refused";
        case Drop::copy_failed:
            return "copy_failed";
        case Drop::peer_error:
            return "peer_error";
        case Drop::port_error:
            return "port_error";
        case Drop::disconnected:
            return "disconnected";
        case Drop::count_:
            break;
    }
    return "unknown";
}

uint64_t DirCounters::dropped() const {
    uint64_t n = 0;
    for (auto d : drops)
        n += d;
    return n;
}

DirCounters& DirCounters::operator+=(const DirCounters& o) {
    for (auto [name, field] : kDirCounters)
        this->*field += o.*field;
    for (size_t i = 0; i < kDropReasons; ++i)
        drops[i] += o.drops[i];
    for (size_t i = 0; i < proto.size(); ++i) {
        for (auto [name, field] : kProtoCounters)
            proto[i].*field += o.proto[i].*field;
    }
    return *this;
}

std::string DirCounters::json() const {
    JsonWriter w;
    w.begin_object();
    for (auto [name, field] : kDirCounters)
        w.field(name, this->*field);
    w.field("dropped", dropped());
    w.key("drops").begin_object();
    for (size_t i = 0; i < kDropReasons; ++i)
        w.field(drop_name(static_cast<Drop>(i)), drops[i]);
    w.end_object();
    w.key("by_protocol").begin_object();
    for (offload::Proto k : offload::kAllProtos) {
        w.key(offload::proto_name(k)).begin_object();
        for (auto [name, field] : kProtoCounters)
            w.field(name, proto[offload::index(k)].*field);
        w.end_object();
    }
    w.end_object().end_object();
    return w.take();
}

VifCounters& VifCounters::operator+=(const VifCounters& o) {
    tx += o.tx;
    rx += o.rx;
    notifications_sent += o.notifications_sent;
    notifications_received += o.notifications_received;
    notifications_throttled += o.notifications_throttled;
    rate_throttled += o.rate_throttled;
    faults += o.faults;
    if (!o.last_fault.empty()) last_fault = o.last_fault;
    return *this;
}

std::string VifCounters::json() const {
    JsonWriter w;
    w.begin_object();
    w.key("tx").raw(tx.json()).key("rx").raw(rx.json());
    w.field("notifications_sent", notifications_sent)
        .field("notifications_received", notifications_received)
        .field("notifications_throttled", notifications_throttled)
        .field("rate_throttled", rate_throttled)
        .field("faults", faults)
        .field("last_fault", last_fault);
    w.end_object();
    return w.take();
}

}  // namespace xnet
