// libFuzzer target for the frame parser and the checksum operations built on
// it. Beyond "no crash, no out-of-bounds read" (ASan/UBSan), it checks the
// properties the datapath relies on:
//   - whatever parse reports lies inside the frame;
//   - after complete(), every TCP/UDP checksum verifies;
//   - make_partial() then virtio-style complete_at() also yields verifying
//     checksums (when nothing follows the datagram, as on a TAP).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "packet/frame_csum.h"
#include "packet/packet.h"

using namespace xnet::pkt;

namespace {

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz_parse: property violated: %s\n", what);
    std::abort();
}

// Anything but "bad": a fragment stays unverifiable, a header-less frame none.
bool l4_fine(Verdict v) {
    return v != Verdict::bad;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // An exact-size heap copy, so ASan sees reads past the end.
    std::vector<std::uint8_t> f(data, data + size);
    auto p = parse(f);
    if (!p) {
        require(!p.error().message().empty(), "an error has a message");
        return 0;
    }
    require(p->outer.l4_end() <= size, "outer datagram inside the frame");
    if (p->tunnel != Tunnel::none) {
        require(p->inner_off >= p->outer.l4_off && p->inner.l4_end() <= p->outer.l4_end(),
                "inner frame inside the outer datagram");
    }
    (void)verify(f, *p);

    std::vector<std::uint8_t> g = f;
    if (complete(g, *p)) {
        auto v = verify(g);
        require(v.has_value() && l4_fine(v->l4) && l4_fine(v->inner_l4),
                "complete() leaves verifying checksums");
    }

    std::vector<std::uint8_t> h = f;
    auto loc = make_partial(h, *p);
    if (loc && p->innermost().l4_end() == size && p->outer.l4_end() == size) {
        require(complete_at(h, *loc).has_value(),
                "complete_at() accepts make_partial()'s location");
        auto v = verify(h);
        require(v.has_value() && l4_fine(v->l4) && l4_fine(v->inner_l4),
                "make_partial() + complete_at() leave verifying checksums");
    }

    // A location straight from the input (as a peer's virtio header would give).
    if (size >= 4) {
        std::vector<std::uint8_t> k = f;
        CsumLoc any{static_cast<std::uint16_t>(data[0] | data[1] << 8),
                    static_cast<std::uint16_t>(data[2] | data[3] << 8)};
        (void)complete_at(k, any);
    }
    return 0;
}
