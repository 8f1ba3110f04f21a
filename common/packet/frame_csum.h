// Checksum operations on whole frames, built on the parser.
//
// Three states a frame's transport checksum can be in, and the operations
// between them:
//   partial  - the field holds the folded pseudo-header sum (Linux
//              CHECKSUM_PARTIAL, virtio NEEDS_CSUM, Xen csum_blank);
//   complete - the field holds the real checksum;
//   unknown  - whatever a peer put there.
// `complete` turns any of them into complete; `make_partial` turns any of them
// into partial (the GSO fix-up, and handing a frame on as NEEDS_CSUM);
// `verify` says whether complete checksums are right.
//
// Tunnels (VXLAN, Geneve): the partial checksum is the inner one, and the
// outer UDP checksum, when used, is computed as Linux's local checksum
// offload does, so that it is right once the inner one is filled in.
#pragma once

#include <cstdint>
#include <span>

#include "packet/packet.h"

namespace xnet::pkt {

enum class Verdict : std::uint8_t {
    none,  // no such header (not IPv4; no TCP/UDP; no tunnel)
    good,
    bad,
    absent,        // IPv4 UDP with checksum 0: the sender chose not to have one
    unverifiable,  // a fragment: the checksum covers data not in this frame
};

struct Verification {
    Verdict ipv4_header = Verdict::none;
    Verdict l4 = Verdict::none;
    Verdict inner_ipv4_header = Verdict::none;
    Verdict inner_l4 = Verdict::none;

    // Nothing checked was found bad.
    bool ok() const noexcept {
        return ipv4_header != Verdict::bad && l4 != Verdict::bad &&
               inner_ipv4_header != Verdict::bad && inner_l4 != Verdict::bad;
    }
};

// Checks every checksum the frame carries (IPv4 headers, TCP/UDP, inner ones).
Verification verify(std::span<const std::uint8_t> frame, const Frame& parsed);
ParseResult<Verification> verify(std::span<const std::uint8_t> frame);

// Computes every TCP/UDP checksum of the frame from its pseudo header and data,
// whatever the fields held (a peer's garbage included). A UDP checksum that
// computes to 0 is stored as 0xffff (the same number in ones'-complement; 0
// would mean "none"); TCP keeps its 0 (a computed checksum is never 0xffff).
// An outer IPv4 UDP checksum of 0 (none) stays 0. Fails with no_l4_checksum
// when there is nothing to complete (not TCP/UDP, or a fragment).
ParseResult<std::monostate> complete(std::span<std::uint8_t> frame, const Frame& parsed);
ParseResult<Frame> complete(std::span<std::uint8_t> frame);

// Makes the frame partial: the innermost transport checksum field gets its
// pseudo-header sum, an outer tunnel checksum in use gets the value that is
// right once that is completed, and the location is returned. Exception, a
// tunnel frame whose inner checksum is already right and whose outer one is
// not: then the outer one is the partial one. This is the GSO fix-up Linux
// applies to frames that arrive without the partial flag.
ParseResult<CsumLoc> make_partial(std::span<std::uint8_t> frame, const Frame& parsed);
ParseResult<CsumLoc> make_partial(std::span<std::uint8_t> frame);

// virtio NEEDS_CSUM semantics: the field at start+offset holds the pseudo
// sum; sums from `start` to the end of the frame and stores the checksum
// (0 as 0xffff where the field is UDP's, as complete does).
// Fails with bad_csum_offset when the field is not inside the frame.
ParseResult<std::monostate> complete_at(std::span<std::uint8_t> frame, CsumLoc loc);

}  // namespace xnet::pkt
