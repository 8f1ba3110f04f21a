#include "tx_chain.h"

#include <fmt/format.h>

#include "netif/ring.h"

namespace xnet::netback::txcheck {

using netif::kPage;

Status first(const netif::TxRequest& r) {
    // netif.h: the first request's size is the packet's. No frontend sends
    // an empty packet by mistake; a runt (1 to 13 bytes) is refused below.
    if (r.size == 0) return fail(EPROTO, "a packet of size 0");
    return {};
}

Status gso_below_size(const netif::Meta& m, uint16_t size) {
    if (m.gso != netif::Gso::none && m.gso_size >= size) {
        return fail(EPROTO,
                    fmt::format("GSO MSS {} not below the packet size {}", m.gso_size, size));
    }
    return {};
}

Status frag(const netif::TxRequest& r, unsigned slots, uint32_t rest) {
    if (slots >= netif::kFatalSlots) {
        return fail(EPROTO, fmt::format("a packet of more than {} slots", netif::kFatalSlots));
    }
    if (r.size > rest) {
        return fail(EPROTO,
                    fmt::format("fragment of {} bytes in a packet with {} left", r.size, rest));
    }
    if (uint32_t(r.offset) + r.size > kPage) {
        return fail(EPROTO, fmt::format("fragment at offset {} size {} crosses its page", r.offset,
                                        r.size));
    }
    return {};
}

Status first_fits(const netif::TxRequest& r, uint32_t first_len) {
    if (uint32_t(r.offset) + first_len > kPage) {
        return fail(EPROTO, fmt::format("first slot at offset {} with {} bytes crosses its page",
                                        r.offset, first_len));
    }
    return {};
}

// Linux netback answers these with an error and carries on.
std::optional<Drop> refusal(const TxChain& c) {
    if (c.first.size < netif::kMinFrame) return Drop::runt;
    if (1 + c.nfrags > netif::kMaxSlots) return Drop::too_big;
    return std::nullopt;
}

Status whole_ring(uint32_t avail) {
    if (avail >= ring::ring_size<netif::TxSring>())
        return fail(EPROTO, "a packet's slot chain fills the whole TX ring");
    return {};
}

}  // namespace xnet::netback::txcheck
