// One packet the backend put on the RX ring, as its responses describe it
// (io/netif.h, "Guest receive"): the first response with the packet's
// flags, any extra-info slots right after it, then the rest of its data
// chained by NETRXF_more_data. A pure parser over the published responses
// and the buffer each slot holds: FrontQueue (rx.cc) then gives the
// buffers back and delivers the data. The backend is not trusted either
// (netif.h "trusted"): statuses, offsets and chain lengths are checked.
#pragma once

#include <cstdint>

#include "netif/extras.h"
#include "netif/netif.h"
#include "runtime/error.h"

namespace xnet::netfront {

// Left uninitialised where parse_rx_chain sets it, as netback's TxChain:
// a chain is parsed per packet.
struct RxChain {
    struct Piece {
        uint16_t buf, off, len;
    };
    Piece pieces[netif::kMaxSlots];  // the first npieces are set
    unsigned npieces = 0;
    unsigned slots = 0;  // responses it takes, extras included
    netif::Meta meta;
    bool peer_error = false;  // the backend answered this packet with an error
    size_t len = 0;           // bytes of data
};

namespace rxcheck {
// PEER_ERROR: the backend's error status for the packet, whose data is
// then not looked at.
Status piece(const netif::RxResponse& r, int32_t buf, unsigned npieces, bool peer_error);
Status whole_ring(uint32_t avail);
}  // namespace rxcheck

// Reads the packet at the head of AVAIL published responses, PEEK(I)
// giving the I-th and BUF(I) the buffer its slot holds (-1: none). True if
// it is complete; false to wait for the rest; an error (EPROTO) for a
// violation.
template <class Peek, class Buf>
Result<bool> parse_rx_chain(const Peek& peek, const Buf& buf, uint32_t avail,
                            netif::GsoAccepted accepted, RxChain& out) {
    out.npieces = 0;
    out.slots = 0;
    out.meta = {};
    out.peer_error = false;
    out.len = 0;
    netif::ExtraChain extras(accepted);
    for (unsigned idx = 0; idx < avail;) {
        const netif::RxResponse r = peek(idx);
        const int32_t b = buf(idx++);
        // The first slot must carry data; a negative status is an error.
        const bool error = r.status < 0 || (out.npieces == 0 && r.status == 0);
        XNET_TRY(rxcheck::piece(r, b, out.npieces, error));
        if (out.npieces == 0) out.meta = netif::from_rx_flags(r.flags);
        out.peer_error = out.peer_error || error;
        const auto len = uint16_t(r.status > 0 ? r.status : 0);
        out.pieces[out.npieces++] = {uint16_t(b), r.offset, len};
        out.len += len;
        bool more_extra = out.npieces == 1 && (r.flags & netif::rxf::extra_info);
        while (more_extra) {
            if (idx >= avail) break;
            XNET_TRY_ASSIGN(more_extra, extras.take(netif::as_extra(peek(idx++)), out.meta));
        }
        if (more_extra) break;  // the rest is not published yet
        if (!(r.flags & netif::rxf::more_data)) {
            out.slots = idx;
            return true;
        }
    }
    XNET_TRY(rxcheck::whole_ring(avail));
    return false;
}

}  // namespace xnet::netfront
