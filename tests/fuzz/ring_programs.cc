#include "ring_programs.h"

#include "tests/unit/frames.h"

namespace xt {
namespace {

// The backend's operations: a TX request (gref is an index into the
// granted data pages), publishing, an RX buffer, data in a page.
Program& tx(Program& p, uint32_t page, uint16_t flags, uint16_t id, uint16_t size) {
    return p.u8(0).u32(page).u16(0).u16(flags).u16(id).u16(size);
}
Program& publish(Program& p) {
    return p.u8(1).u8(255);
}
Program& rx_buffer(Program& p, uint16_t id, uint8_t page) {
    return p.u8(2).u16(id).u8(page).u8(255);
}
Program& fill(Program& p, uint8_t page, const std::vector<uint8_t>& b) {
    return p.u8(4).u8(page).u8(0).bytes(b, 64);
}

// The frontend's: an RX response, publishing them, a TX response.
Program& rx_rsp(Program& p, uint16_t id, uint16_t flags, int16_t status) {
    return p.u8(0).u16(id).u16(0).u16(flags).u16(uint16_t(status));
}
Program& rx_publish(Program& p) {
    return p.u8(1).u8(255);
}
Program& tx_rsp(Program& p, uint16_t id, int16_t status) {
    return p.u8(2).u16(id).u16(uint16_t(status)).u8(255);
}

}  // namespace

std::vector<std::pair<std::string, Program>> ring_programs(bool backend) {
    Spec spec;
    spec.payload = 1400;
    const auto tcp = build(spec).bytes;
    const auto partial = partial_of(build(spec));
    const uint8_t start = 34, offset = 16;  // IPv4/TCP: the checksum's place
    // A tagged GSO frame of 3000 bytes, for a peer that gets it cut (cfg 0x20).
    Spec tagged_spec;
    tagged_spec.tags = {0x8100};
    tagged_spec.payload = 3000 - 58;
    const auto tagged = partial_of(build(tagged_spec));
    std::vector<std::pair<std::string, Program>> v;
    if (backend) {
        Program one(0x1f);
        fill(one, 0, tcp);
        tx(one, 0, 0, 1, 60);
        publish(one).fire();
        v.emplace_back("tx-one", one);
        Program chain(0x1f);
        tx(chain, 0, 4 /* more_data */, 1, 5000);
        tx(chain, 1, 0, 2, 904);
        publish(chain).fire();
        v.emplace_back("tx-chain", chain);
        Program gso(0x1f);
        fill(gso, 2, partial);
        tx(gso, 2, 1 /* csum_blank */ | 8 /* extra_info */, 1, 1454);
        // The extra (type GSO, size 1000, TCPv4), its flags field 0xc0 so
        // the harness leaves its bytes alone.
        gso.u8(0).u8(1).u8(0).u16(1000).u8(1).u8(0).u16(0xc0).u16(0).u16(0);
        publish(gso).fire();
        v.emplace_back("tx-gso", gso);
        Program runt(0x1f);  // shorter than an Ethernet header: answered, not passed on
        tx(runt, 0, 0, 1, 10);
        publish(runt).fire();
        v.emplace_back("tx-runt", runt);
        Program rx(0x1f);
        for (uint16_t i = 0; i < 20; ++i)
            rx_buffer(rx, i, uint8_t(i));
        rx.frame(tcp, 1454).fire();
        rx.frame(partial, 3000, 1, true, 1400, start, offset).fire();
        v.emplace_back("rx-frames", rx);
        Program cut(0x3f);
        for (uint16_t i = 0; i < 20; ++i)
            rx_buffer(cut, i, uint8_t(i));
        cut.frame(tagged, 3000, 1, true, 1400, start + 4, offset).fire();
        v.emplace_back("rx-tagged-cut", cut);
    } else {
        Program one(0x1f);
        one.u8(4).u8(0).u8(0).bytes(tcp, 64);  // into the first posted buffer
        rx_rsp(one, 0, 0, 1454);
        rx_publish(one).fire();
        v.emplace_back("rx-one", one);
        // A runt from the backend (libFuzzer's first finding here: it
        // reached the local stack before the frontend dropped runts).
        Program runt(0x1f);
        rx_rsp(runt, 0, 0, 10);
        rx_publish(runt).fire();
        v.emplace_back("rx-runt", runt);
        Program chain(0x1f);
        rx_rsp(chain, 0, 4 /* more_data */, 4096);
        rx_rsp(chain, 1, 0, 904);
        rx_publish(chain).fire();
        v.emplace_back("rx-chain", chain);
        Program gso(0x1f);
        rx_rsp(gso, 0, 2 /* csum_blank */ | 8 /* extra_info */, 1454);
        gso.u8(0).u8(1).u8(0).u16(1000).u8(1).u8(0).u16(0);  // the GSO extra
        rx_publish(gso).fire();
        v.emplace_back("rx-gso", gso);
        Program tx(0x1f);
        tx.frame(tcp, 1454).fire();
        tx_rsp(tx, 0, 0).fire();
        tx.frame(partial, 3000, 1, true, 1400, start, offset).fire();
        v.emplace_back("tx-frames", tx);
        Program cut(0x3f);
        cut.frame(tagged, 3000, 1, true, 1400, start + 4, offset).fire();
        v.emplace_back("tx-tagged-cut", cut);
    }
    return v;
}

}  // namespace xt
