// Cutting a TCP GSO frame into the segments it stands for, in software.
//
// Used where a frame must leave as GSO but the peer cannot take it in
// that form: a tagged (802.1Q/802.1ad) GSO frame for a peer that parses
// untagged frames only (Linux's netfront and netback; see offload.h,
// TxRules::tagged). Each segment carries a copy of the headers with the
// lengths, the IPv4 identification and the TCP sequence number advanced,
// FIN and PSH on the last segment only and CWR on the first only (as a
// NIC's TSO does), and every checksum complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "packet/packet.h"
#include "runtime/expected.h"

namespace xnet::pkt {

// The segments of one frame, back to back in one buffer, taken in order.
// Reused: cut() replaces what was there.
class Segments {
  public:
    bool empty() const noexcept { return next_ == at_.size(); }
    std::size_t size() const noexcept { return at_.size() - next_; }
    std::span<std::uint8_t> front() noexcept {
        auto [off, len] = at_[next_];
        return {buf_.data() + off, len};
    }
    void pop() noexcept { ++next_; }
    void clear() noexcept {
        at_.clear();
        next_ = 0;
    }

  private:
    friend ParseResult<std::size_t> cut_tcp(std::span<const std::uint8_t>, const Frame&,
                                            std::uint16_t, Segments&);
    std::vector<std::uint8_t> buf_;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> at_;  // offset, length
    std::size_t next_ = 0;
};

// Bounds a cut: a frame of at most 64 KiB with an MSS below 32 bytes is
// not something a stack sends.
inline constexpr std::size_t kMaxSegments = 2048;

// Cuts FRAME, a TCP datagram over IPv4 or IPv6 (PARSED: its layers, no
// tunnel), into segments of MSS payload bytes each (the last may be
// shorter) and puts them in OUT. Returns how many. Fails when the frame is
// not a whole TCP datagram, MSS is 0, or the cut would exceed kMaxSegments.
ParseResult<std::size_t> cut_tcp(std::span<const std::uint8_t> frame, const Frame& parsed,
                                 std::uint16_t mss, Segments& out);

}  // namespace xnet::pkt
