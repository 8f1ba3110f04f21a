// Programs for the ring fuzz harnesses (ring_harness.cc) that move real
// frames both ways: the seeds of `make fuzz` (make_seeds) and the starting
// points of the unit tests' replay (test_ring_fuzz.cc).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace xt {

// A program for the ring harnesses: operation codes and their operands,
// little-endian, as ring_harness.cc reads them.
class Program {
  public:
    explicit Program(uint8_t cfg) { u8(cfg); }
    Program& u8(uint8_t v) {
        b_.push_back(char(v));
        return *this;
    }
    Program& u16(uint16_t v) { return u8(uint8_t(v)).u8(uint8_t(v >> 8)); }
    Program& u32(uint32_t v) { return u16(uint16_t(v)).u16(uint16_t(v >> 16)); }
    Program& bytes(const std::vector<uint8_t>& b, size_t n) {
        for (size_t i = 0; i < n; ++i)
            u8(i < b.size() ? b[i] : 0);
        return *this;
    }
    Program& fire() { return u8(7); }
    // Operation 5 of both: the local stack hands over a frame of LEN bytes
    // whose first 64 are HEAD's.
    Program& frame(const std::vector<uint8_t>& head, uint16_t len, uint8_t flags = 0,
                   bool gso = false, uint16_t gso_size = 0, uint8_t csum_start = 0,
                   uint8_t csum_offset = 0) {
        u8(5).u8(flags).u8(gso ? 0 : 1).u16(gso_size).u8(csum_start).u8(csum_offset);
        return u8(0).u16(len).bytes(head, 64);
    }
    const std::string& str() const { return b_; }

  private:
    std::string b_;
};

std::vector<std::pair<std::string, Program>> ring_programs(bool backend);

}  // namespace xt
