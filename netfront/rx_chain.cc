#include "rx_chain.h"

#include <fmt/format.h>

#include "netif/ring.h"

namespace xnet::netfront::rxcheck {

Status piece(const netif::RxResponse& r, int32_t buf, unsigned npieces, bool peer_error) {
    if (buf < 0) return fail(EPROTO, "response in a slot with no buffer");
    if (!peer_error && uint32_t(r.offset) + uint32_t(r.status) > netif::kPage) {
        return fail(EPROTO, fmt::format("response at offset {} size {} crosses its page", r.offset,
                                        r.status));
    }
    if (npieces == netif::kMaxSlots) {
        return fail(EPROTO, fmt::format("a packet of more than {} slots", netif::kMaxSlots));
    }
    return {};
}

Status whole_ring(uint32_t avail) {
    if (avail >= ring::ring_size<netif::RxSring>()) {
        return fail(EPROTO, "a packet's slot chain fills the whole RX ring");
    }
    return {};
}

}  // namespace xnet::netfront::rxcheck
