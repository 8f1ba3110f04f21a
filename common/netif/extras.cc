#include "netif/extras.h"

#include <fmt/format.h>

namespace xnet::netif {

Result<bool> ExtraChain::take(const ExtraInfo& e, Meta& meta) {
    if (++slots_ > kMaxExtras) return fail(EPROTO, "more extra-info slots than there are types");
    switch (e.type) {
        case XEN_NETIF_EXTRA_TYPE_GSO: {
            const auto type = e.u.gso.type;
            const bool v4 = type == XEN_NETIF_GSO_TYPE_TCPV4;
            if (!v4 && type != XEN_NETIF_GSO_TYPE_TCPV6) {
                return fail(EPROTO, fmt::format("GSO extra info of unknown type {}", type));
            }
            if (!(v4 ? accepted_.v4 : accepted_.v6)) {
                return fail(EPROTO, "GSO that was not negotiated");
            }
            if (e.u.gso.size == 0) return fail(EPROTO, "GSO extra info with MSS 0");
            meta.gso = v4 ? Gso::tcpv4 : Gso::tcpv6;
            meta.gso_size = e.u.gso.size;
            break;
        }
        case XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
        case XEN_NETIF_EXTRA_TYPE_MCAST_DEL:
        case XEN_NETIF_EXTRA_TYPE_HASH:
            break;  // not negotiated here; harmless to ignore
        default:
            return fail(EPROTO, fmt::format("extra info of unknown type {}", e.type));
    }
    return (e.flags & XEN_NETIF_EXTRA_FLAG_MORE) != 0;
}

}  // namespace xnet::netif
