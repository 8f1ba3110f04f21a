#include "pcap.h"

#include <cstdint>
#include <fstream>
#include <stdexcept>

namespace xt {
namespace {

void put32(std::ofstream& out, std::uint32_t v) {
    out.write(reinterpret_cast<const char*>(&v), 4);
}
void put16le(std::ofstream& out, std::uint16_t v) {
    out.write(reinterpret_cast<const char*>(&v), 2);
}

}  // namespace

void write_pcap(const std::string& path, const std::vector<Bytes>& frames) {
    std::ofstream out(path, std::ios::binary);
    if (!out) throw std::runtime_error("cannot create " + path);
    // Global header, host byte order (readers detect it from the magic).
    put32(out, 0xa1b2c3d4);
    put16le(out, 2);
    put16le(out, 4);
    put32(out, 0);       // timezone
    put32(out, 0);       // timestamp accuracy
    put32(out, 262144);  // snap length
    put32(out, 1);       // LINKTYPE_ETHERNET
    std::uint32_t sec = 1700000000;
    for (const Bytes& f : frames) {
        put32(out, sec++);
        put32(out, 0);
        put32(out, static_cast<std::uint32_t>(f.size()));
        put32(out, static_cast<std::uint32_t>(f.size()));
        out.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
    }
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

}  // namespace xt
