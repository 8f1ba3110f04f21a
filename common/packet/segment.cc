// Software TCP segmentation: see segment.h. Linux does the same in
// tcp_gso_segment and inet_gso_segment / ipv6_gso_segment; the rules for
// which fields change per segment are those of RFC 7414's TSO notes and
// what NICs do: lengths, IPv4 id, sequence number, FIN/PSH last, CWR first.
#include "packet/segment.h"

#include <algorithm>
#include <cstring>

#include "packet/csum.h"

namespace xnet::pkt {

namespace {

constexpr std::uint8_t kTcpFin = 0x01, kTcpPsh = 0x08, kTcpCwr = 0x80;

std::uint16_t get16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
std::uint32_t get32(const std::uint8_t* p) {
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}
void put16(std::uint8_t* p, std::uint32_t v) {
    p[0] = std::uint8_t(v >> 8);
    p[1] = std::uint8_t(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
    put16(p, v >> 16);
    put16(p + 2, v);
}
// A checksum field is stored in memory order (csum.h).
void store_sum(std::uint8_t* p, std::uint16_t v) {
    std::memcpy(p, &v, 2);
}

// Makes SEG (a copy of the headers and CHUNK payload bytes) the I-th of N.
void fix_segment(std::uint8_t* seg, const Layers& l, std::uint32_t headers, std::uint32_t chunk,
                 std::size_t i, std::size_t n, std::uint32_t seq0, std::uint16_t id0,
                 std::uint16_t mss) {
    if (l.l3 == L3::ipv4) {
        std::uint8_t* ip = seg + l.l3_off;
        put16(ip + 2, headers - l.l3_off + chunk);
        put16(ip + 4, static_cast<std::uint16_t>(id0 + i));
        store_sum(ip + 10, 0);
        store_sum(ip + 10, csum::finish(csum::partial(ip, l.ipv4_header_len)));
    } else {
        // The payload length covers the extension headers too (RFC 8200 3).
        put16(seg + l.l3_off + 4, headers - l.l3_off - 40 + chunk);
    }
    std::uint8_t* tcp = seg + l.l4_off;
    put32(tcp + 4, seq0 + std::uint32_t(i) * mss);
    if (i + 1 < n) tcp[13] &= std::uint8_t(~(kTcpFin | kTcpPsh));
    if (i > 0) tcp[13] &= std::uint8_t(~kTcpCwr);

    std::uint32_t l4_len = headers - l.l4_off + chunk;
    csum::Partial pseudo = l.l3 == L3::ipv4
                               ? csum::pseudo_v4(seg + l.src_off, seg + l.dst_off, l.proto, l4_len)
                               : csum::pseudo_v6(seg + l.src_off, seg + l.dst_off, l.proto, l4_len);
    store_sum(tcp + 16, 0);
    store_sum(tcp + 16, csum::finish(csum::partial(tcp, l4_len, pseudo)));
}

}  // namespace

ParseResult<std::size_t> cut_tcp(std::span<const std::uint8_t> frame, const Frame& parsed,
                                 std::uint16_t mss, Segments& out) {
    const Layers& l = parsed.outer;
    if (l.l4 != L4::tcp || !l.checksummable()) {
        return Unexpected{ParseError{Error::no_l4_checksum, l.l4_off}};
    }
    // The parser checked the data offset against the segment and the
    // segment against the frame.
    const std::uint32_t headers = l.l4_off + std::uint32_t(frame[l.l4_off + 12] >> 4) * 4;
    const std::uint32_t payload = l.l4_end() - headers;
    std::size_t n = mss ? (payload + mss - 1) / mss : 0;
    if (n == 0 && mss) n = 1;  // headers only: one segment, checksummed
    if (n == 0 || n > kMaxSegments) return Unexpected{ParseError{Error::bad_gso_size, l.l4_off}};

    out.clear();
    out.buf_.resize(n * headers + payload);
    const std::uint32_t seq0 = get32(frame.data() + l.l4_off + 4);
    const std::uint16_t id0 = l.l3 == L3::ipv4 ? get16(frame.data() + l.l3_off + 4) : 0;
    std::uint32_t at = 0, done = 0;
    for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t chunk = std::min<std::uint32_t>(mss, payload - done);
        std::uint8_t* seg = out.buf_.data() + at;
        std::memcpy(seg, frame.data(), headers);
        std::memcpy(seg + headers, frame.data() + headers + done, chunk);
        fix_segment(seg, l, headers, chunk, i, n, seq0, id0, mss);
        out.at_.emplace_back(at, headers + chunk);
        at += headers + chunk;
        done += chunk;
    }
    return n;
}

}  // namespace xnet::pkt
