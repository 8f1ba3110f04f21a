#include "device/queue_keys.h"

#include <fmt/format.h>

#include "netif/netif.h"
#include "netif/netif_keys.h"
#include "netif/xs_keys.h"

namespace xnet::netif {

std::string queue_dir(const std::string& dir, unsigned queues, unsigned i) {
    return queues == 1 ? dir : fmt::format("{}/{}{}", dir, key::queue_prefix, i);
}

Result<QueueKeys> read_queue_keys(const XenStore& xs, const std::string& dir, unsigned queues,
                                  unsigned i) {
    const std::string base = queue_dir(dir, queues, i);
    auto num = [&](std::string_view k) {
        return read_number(xs, fmt::format("{}/{}", base, k), UINT32_MAX);
    };
    QueueKeys q;
    XNET_TRY_ASSIGN(auto tx, num(key::tx_ring_ref));
    XNET_TRY_ASSIGN(auto rx, num(key::rx_ring_ref));
    q.tx_ref = GrantRef(tx);
    q.rx_ref = GrantRef(rx);
    XNET_TRY_ASSIGN(auto split, xs.try_read(fmt::format("{}/{}", base, key::event_channel_tx)));
    if (!split) {
        XNET_TRY_ASSIGN(auto e, num(key::event_channel));
        q.tx_port = q.rx_port = Port(e);
        return q;
    }
    XNET_TRY_ASSIGN(auto t, num(key::event_channel_tx));
    XNET_TRY_ASSIGN(auto r, num(key::event_channel_rx));
    if (t == r) return fail(EINVAL, base + ": event-channel-tx and -rx are the same port");
    q.tx_port = Port(t);
    q.rx_port = Port(r);
    return q;
}

Status write_queue_keys(const XenStore& xs, const std::string& dir, unsigned queues, unsigned i,
                        const QueueKeys& k, bool split, XenStore::Tx tx) {
    const std::string base = queue_dir(dir, queues, i);
    auto w = [&](std::string_view key, uint32_t value) {
        return xs.write(fmt::format("{}/{}", base, key), std::to_string(value), tx);
    };
    Status r;
    if (!(r = w(key::tx_ring_ref, k.tx_ref))) return r;
    if (!(r = w(key::rx_ring_ref, k.rx_ref))) return r;
    if (!split) return w(key::event_channel, k.tx_port);
    if (!(r = w(key::event_channel_tx, k.tx_port))) return r;
    return w(key::event_channel_rx, k.rx_port);
}

bool is_queue_key(const std::string& k) {
    return k.rfind(key::queue_prefix, 0) == 0 || k == key::tx_ring_ref || k == key::rx_ring_ref ||
           k.rfind(key::event_channel, 0) == 0 || k == key::multi_queue_num_queues;
}

Result<std::optional<unsigned>> read_mtu(const XenStore& xs, const std::string& dir) {
    const std::string path = fmt::format("{}/{}", dir, key::mtu);
    auto v = xs.try_read(path);
    if (!v || !*v) return std::optional<unsigned>{};  // the toolstack's default
    auto n = parse_number(**v, 65535);
    if (!n || *n < 68) return fail(EINVAL, fmt::format("reading {}: '{}'", path, **v));
    return std::optional<unsigned>{unsigned(*n)};
}

}  // namespace xnet::netif
