// Where the checksum decisions of both daemons live; see offload.h and
// docs/datapath.md for the rules as a table.
#include "netif/offload.h"

#include "packet/frame_csum.h"
#include "packet/packet.h"

namespace xnet::offload {

using netif::Gso;
using netif::Meta;

Features advertised(const Policy& p) {
    return {.sg = p.sg,
            .gso4 = p.sg && p.tso4 && p.rx_csum_tcpv4,
            .gso6 = p.sg && p.tso6 && p.rx_csum_tcpv6,
            .ipv6_csum = p.rx_csum_tcpv6 || p.rx_csum_udpv6,
            .no_csum = !(p.rx_csum_tcpv4 || p.rx_csum_udpv4),
            .tagged = true};  // from_ring parses any tag stack
}

TxRules tx_rules(const Policy& p, const Features& peer) {
    TxRules tx;
    const Protos wanted = p.tx_checksum();
    for (Proto k : kAllProtos) {
        bool peer_takes = kIpv4Protos.has(k) ? !peer.no_csum : peer.ipv6_csum;
        tx.csum_blank.set(k, wanted.has(k) && peer_takes);
    }
    tx.data_validated = p.tx_data_validated;
    tx.sg = peer.sg;
    tx.tagged = peer.tagged;
    tx.gso_v4 = tx.csum_blank.has(Proto::tcpv4) && p.sg && p.tso4 && peer.sg && peer.gso4;
    tx.gso_v6 = tx.csum_blank.has(Proto::tcpv6) && p.sg && p.tso6 && peer.sg && peer.gso6;
    return tx;
}

namespace {

bool is_v4(const pkt::Layers& l) {
    return l.l3 == pkt::L3::ipv4;
}

std::optional<Proto> proto(const pkt::Layers& l) {
    if (l.l3 == pkt::L3::none) return std::nullopt;
    return proto_of(is_v4(l), l.l4 == pkt::L4::tcp, l.l4 == pkt::L4::udp);
}

// Counts one more of FIELD, in the total and for the frame's kind.
void count(DirCounters& c, uint64_t DirCounters::*field, uint64_t ProtoCounters::*per,
           std::optional<Proto> k, uint64_t n = 1) {
    c.*field += n;
    if (k) c.proto[index(*k)].*per += n;
}
void count_partial(DirCounters& c, std::optional<Proto> k) {
    count(c, &DirCounters::csum_partial, &ProtoCounters::csum_partial, k);
}
void count_completed(DirCounters& c, std::optional<Proto> k, uint64_t n = 1) {
    count(c, &DirCounters::csum_completed, &ProtoCounters::csum_completed, k, n);
}
void count_verified(DirCounters& c, std::optional<Proto> k) {
    count(c, &DirCounters::csum_verified, &ProtoCounters::csum_verified, k);
}

// Bytes of Ethernet, IP and TCP headers: the hdr_len hint of a GSO frame.
uint16_t tcp_headers_end(std::span<const uint8_t> frame, const pkt::Layers& l) {
    size_t doff = size_t(frame[l.l4_off + 12] >> 4) * 4;  // the parser checked it
    return static_cast<uint16_t>(l.l4_off + doff);
}

// A partial checksum can go on the ring only where every receiver will
// look for it: the outer TCP/UDP header of a whole datagram. (Receivers
// locate it by parsing, as netif carries no offsets; Linux's
// skb_checksum_setup looks at the outer header only.)
bool outer_partial(const pkt::Frame& f, pkt::CsumLoc loc) {
    return f.outer.checksummable() && f.outer.csum_loc() == loc;
}

// The frame as a receiver that knows only the outer headers sees it: what
// csum_blank refers to on the ring (a tunnel's inner checksum stays as the
// sender left it).
pkt::Frame outer_only(const pkt::Frame& f) {
    pkt::Frame o = f;
    o.tunnel = pkt::Tunnel::none;
    o.inner = {};
    return o;
}

bool checked(pkt::Verdict d) {
    return d == pkt::Verdict::good || d == pkt::Verdict::bad;
}

// Verifies every checksum of the frame (rx-checksum off): false if one is
// wrong. Counts a frame as verified when it had one to check.
bool verify_counted(std::span<const uint8_t> frame, const pkt::Frame& parsed, DirCounters& c,
                    bool* l4_good = nullptr) {
    auto v = pkt::verify(frame, parsed);
    if (checked(v.ipv4_header) || checked(v.l4) || checked(v.inner_ipv4_header) ||
        checked(v.inner_l4)) {
        count_verified(c, proto(parsed.outer));
    }
    if (l4_good) *l4_good = v.l4 == pkt::Verdict::good;
    if (v.ok()) return true;
    ++c.csum_bad;
    return false;
}

Gso gso_of(uint8_t vnet_type) {
    switch (vnet_type & ~vnet::kGsoEcn) {
        case vnet::kGsoTcpv4:
            return Gso::tcpv4;
        case vnet::kGsoTcpv6:
            return Gso::tcpv6;
        default:
            return Gso::none;
    }
}

}  // namespace

Expected<Meta, Drop> to_ring(std::span<uint8_t> frame, const vnet::Hdr& h, const TxRules& rules,
                             DirCounters& c) {
    Meta m;
    bool partial = (h.flags & vnet::kNeedsCsum) != 0;
    pkt::CsumLoc loc{h.csum_start, h.csum_offset};

    if (h.gso_type != vnet::kGsoNone) {
        Gso g = gso_of(h.gso_type);
        auto parsed = pkt::parse(frame);
        if (g == Gso::none || !parsed || parsed->outer.l4 != pkt::L4::tcp ||
            !parsed->outer.checksummable() || is_v4(parsed->outer) != (g == Gso::tcpv4) ||
            h.gso_size == 0) {
            return Unexpected{Drop::gso_refused};
        }
        if (!(g == Gso::tcpv4 ? rules.gso_v4 : rules.gso_v6)) return Unexpected{Drop::gso_refused};
        if (parsed->vlan_tags && !rules.tagged) return Unexpected{Drop::gso_refused};  // cut()
        if (!partial || !outer_partial(*parsed, loc)) {
            // A GSO frame must travel with a partial checksum (the segments
            // get theirs when they are cut); Linux's rx_gso_checksum_fixup.
            if (!pkt::make_partial(frame, outer_only(*parsed))) return Unexpected{Drop::bad_frame};
            ++c.gso_fixups;
        }
        m.gso = g;
        m.gso_size = h.gso_size;
        m.csum_blank = true;
        m.data_validated = rules.data_validated;
        ++c.gso_packets;
        count_partial(c, proto(parsed->outer));
        if (m.data_validated) ++c.dv_set;
        return m;
    }

    if (partial) {
        auto parsed = pkt::parse(frame);
        std::optional<Proto> kind;
        if (parsed && outer_partial(*parsed, loc)) kind = proto(parsed->outer);
        bool may_blank = rules.csum_blank.has(kind) && (parsed->vlan_tags == 0 || rules.tagged);
        if (may_blank) {
            m.csum_blank = true;
            count_partial(c, kind);
        } else {
            // Where the parser agrees with the stack, the datagram's own
            // length bounds the sum (padding after it does not count);
            // elsewhere the stack's metadata alone says where, as virtio does.
            bool done =
                parsed && outer_partial(*parsed, loc) && pkt::complete(frame, outer_only(*parsed));
            if (!done && !pkt::complete_at(frame, loc)) return Unexpected{Drop::bad_csum_meta};
            count_completed(c, kind);
        }
        // Either way the checksum is known to be right once finished.
        m.data_validated = rules.data_validated;
    } else {
        ++c.csum_none;
        if (h.flags & vnet::kDataValid) m.data_validated = rules.data_validated;
    }
    if (m.data_validated) ++c.dv_set;
    return m;
}

bool must_cut(std::span<const uint8_t> frame, const vnet::Hdr& h, const TxRules& rules) {
    if (h.gso_type == vnet::kGsoNone || rules.tagged || frame.size() < pkt::kEthHeader) {
        return false;
    }
    return pkt::is_vlan_tpid(uint16_t(frame[12] << 8 | frame[13]));
}

Expected<Meta, Drop> cut(std::span<const uint8_t> frame, const vnet::Hdr& h, const TxRules& rules,
                         pkt::Segments& out, DirCounters& c) {
    Gso g = gso_of(h.gso_type);
    auto parsed = pkt::parse(frame);
    if (g == Gso::none || !parsed || parsed->outer.l4 != pkt::L4::tcp ||
        is_v4(parsed->outer) != (g == Gso::tcpv4)) {
        return Unexpected{Drop::gso_refused};
    }
    auto n = pkt::cut_tcp(frame, *parsed, h.gso_size, out);
    if (!n) return Unexpected{Drop::gso_refused};
    ++c.gso_cut;
    count_completed(c, proto(parsed->outer), *n);
    Meta m;
    m.data_validated = rules.data_validated;  // computed here, so known good
    if (m.data_validated) c.dv_set += *n;
    return m;
}

Expected<vnet::Hdr, Drop> from_ring(std::span<uint8_t> frame, const Meta& m, const RxRules& rules,
                                    DirCounters& c) {
    vnet::Hdr h;

    if (m.gso != Gso::none) {
        auto parsed = pkt::parse(frame);
        if (!parsed || parsed->outer.l4 != pkt::L4::tcp || !parsed->outer.checksummable() ||
            is_v4(parsed->outer) != (m.gso == Gso::tcpv4) || m.gso_size == 0) {
            return Unexpected{Drop::gso_refused};
        }
        // A complete checksum from the peer is checked before the fix-up
        // overwrites it, when this end verifies.
        const auto kind = proto(parsed->outer);
        if (!m.csum_blank && !rules.checksum.has(kind) && !verify_counted(frame, *parsed, c)) {
            return Unexpected{Drop::bad_checksum};
        }
        // Always rewritten: a peer's pseudo-header sum is not trusted, and
        // one that sent GSO without csum_blank gets the fix-up Linux does.
        auto loc = pkt::make_partial(frame, outer_only(*parsed));
        if (!loc) return Unexpected{Drop::bad_frame};
        if (!m.csum_blank) ++c.gso_fixups;
        h.flags = vnet::kNeedsCsum;
        h.csum_start = loc->start;
        h.csum_offset = loc->offset;
        h.gso_type = m.gso == Gso::tcpv4 ? vnet::kGsoTcpv4 : vnet::kGsoTcpv6;
        h.gso_size = m.gso_size;
        h.hdr_len = tcp_headers_end(frame, parsed->outer);
        ++c.gso_packets;
        count_partial(c, kind);
        return h;
    }

    if (m.csum_blank) {
        auto parsed = pkt::parse(frame);
        if (!parsed || !parsed->outer.checksummable()) return Unexpected{Drop::bad_frame};
        // csum_blank blanks the outer TCP/UDP checksum only; a tunnel's
        // inner one is the sender's and is never recomputed here.
        pkt::Frame outer = outer_only(*parsed);
        const auto kind = proto(parsed->outer);
        if (rules.checksum.has(kind)) {
            // The sum in the field is the peer's: recomputed, as Linux
            // netback does (skb_checksum_setup with recalculate set).
            auto loc = pkt::make_partial(frame, outer);
            if (!loc) return Unexpected{Drop::bad_frame};
            h.flags = vnet::kNeedsCsum;
            h.csum_start = loc->start;
            h.csum_offset = loc->offset;
            count_partial(c, kind);
            return h;
        }
        if (!pkt::complete(frame, outer)) return Unexpected{Drop::bad_frame};
        count_completed(c, kind);
        if (parsed->tunnel != pkt::Tunnel::none && !verify_counted(frame, *parsed, c)) {
            return Unexpected{Drop::bad_checksum};
        }
        h.flags = vnet::kDataValid;  // computed (and verified) here, so known good
        return h;
    }

    // Taken on trust where the frame's kind allows it. With every kind
    // allowed no parse is needed; with some, the frame's kind decides, and
    // a frame of none of the four kinds is verified (its IPv4 header).
    auto trusted = [&] {
        if (m.data_validated) {
            h.flags = vnet::kDataValid;
            ++c.dv_trusted;
        }
        return h;
    };
    if (rules.checksum.all()) return trusted();
    auto parsed = pkt::parse(frame);
    if (!parsed) return h;  // not ours to judge; the stack will
    if (rules.checksum.has(proto(parsed->outer))) return trusted();

    // rx-checksum off for this kind: every checksum is verified here,
    // data_validated or not.
    auto v = pkt::verify(frame, *parsed);
    auto checked = [](pkt::Verdict d) { return d == pkt::Verdict::good || d == pkt::Verdict::bad; };
    if (!(checked(v.ipv4_header) || checked(v.l4) || checked(v.inner_ipv4_header) ||
          checked(v.inner_l4))) {
        return h;
    }
    count_verified(c, proto(parsed->outer));
    if (!v.ok()) {
        ++c.csum_bad;
        return Unexpected{Drop::bad_checksum};
    }
    if (checked(v.l4)) h.flags = vnet::kDataValid;
    return h;
}

}  // namespace xnet::offload
