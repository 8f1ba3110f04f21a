// Writes the starting corpora of the fuzz targets, one directory per target
// under DIR (named as the target without "fuzz_"):
//   parse/    every small frame of the unit tests' catalogue;
//   xs_wire/  short xenstore conversations in fuzz_xs_wire's record format;
//   backend_rings/, frontend_rings/  programs for the ring harnesses
//             (tests/fuzz/ring_harness.cc) that move real frames, so the
//             fuzzer starts from a working exchange.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <xen/io/xs_wire.h>

#include "../unit/frames.h"
#include "ring_programs.h"

namespace {

bool save(const std::filesystem::path& path, const void* data, size_t size) {
    std::ofstream out(path, std::ios::binary);
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) std::fprintf(stderr, "make_seeds: cannot write %s\n", path.c_str());
    return bool(out);
}

// fuzz_xs_wire's input: records of [connection][length][bytes].
class Conversation {
  public:
    // Connection 0 is dom0, 1 and 2 are guests.
    Conversation& send(uint8_t conn, uint32_t type, const std::string& payload, uint32_t tx = 0) {
        xsd_sockmsg h{type, ++req_, tx, uint32_t(payload.size())};
        std::string msg(reinterpret_cast<const char*>(&h), sizeof h);
        msg += payload;
        for (size_t off = 0; off < msg.size(); off += 255) {
            std::string part = msg.substr(off, 255);
            bytes_.push_back(char(conn));
            bytes_.push_back(char(part.size()));
            bytes_ += part;
        }
        return *this;
    }
    const std::string& bytes() const { return bytes_; }

  private:
    uint32_t req_ = 0;
    std::string bytes_;
};

std::string z(std::string s) {
    s.push_back('\0');
    return s;
}

std::vector<std::pair<std::string, Conversation>> conversations() {
    std::vector<std::pair<std::string, Conversation>> v;
    v.emplace_back("guest-home", Conversation()
                                     .send(1, XS_WRITE, z("data") + "hello")
                                     .send(1, XS_READ, z("data"))
                                     .send(1, XS_DIRECTORY, z("/local/domain/5"))
                                     .send(1, XS_GET_PERMS, z("data"))
                                     .send(1, XS_SET_PERMS, z("data") + z("n5") + z("r7"))
                                     .send(2, XS_READ, z("/local/domain/5/data"))
                                     .send(1, XS_RM, z("data")));
    v.emplace_back("guest-private", Conversation()
                                        .send(1, XS_READ, z("/tool/secret"))
                                        .send(1, XS_DIRECTORY, z("/tool"))
                                        .send(2, XS_WRITE, z("/tool/secret") + "x"));
    v.emplace_back("watches", Conversation()
                                  .send(2, XS_WATCH, z("/local/domain/5") + z("tok"))
                                  .send(1, XS_MKDIR, z("dir/sub"))
                                  .send(2, XS_WATCH, z("@releaseDomain") + z("r"))
                                  .send(2, XS_UNWATCH, z("/local/domain/5") + z("tok"))
                                  .send(2, XS_RESET_WATCHES, ""));
    v.emplace_back("transaction", Conversation()
                                      .send(1, XS_TRANSACTION_START, z(""))
                                      .send(1, XS_WRITE, z("a") + "1", 1)
                                      .send(1, XS_WRITE, z("a") + "2")
                                      .send(1, XS_TRANSACTION_END, z("T"), 1)
                                      .send(1, XS_DIRECTORY_PART, z("/local/domain/5") + z("0")));
    v.emplace_back("dom0", Conversation()
                               .send(0, XS_WRITE, z("/vm/1/name") + "guest")
                               .send(0, XS_GET_DOMAIN_PATH, z("7"))
                               .send(0, XS_INTRODUCE, z("9") + z("0") + z("1"))
                               .send(0, XS_IS_DOMAIN_INTRODUCED, z("9"))
                               .send(0, XS_RELEASE, z("9"))
                               .send(1, XS_INTRODUCE, z("9") + z("0") + z("1")));
    v.emplace_back("limits", Conversation()
                                 .send(1, XS_WRITE, z("big") + std::string(400, 'v'))
                                 .send(1, XS_WRITE, z(std::string(3000, 'p')) + "v")
                                 .send(2, 99, ""));
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    std::error_code ec;
    std::filesystem::create_directories(dir / "parse", ec);
    std::filesystem::create_directories(dir / "xs_wire", ec);
    std::filesystem::create_directories(dir / "backend_rings", ec);
    std::filesystem::create_directories(dir / "frontend_rings", ec);
    int n = 0;
    for (const auto& [name, spec] : xt::catalogue()) {
        if (spec.payload > 40) continue;  // the headers are what matters
        const auto b = xt::build(spec);
        if (!save(dir / "parse" / name, b.bytes.data(), b.bytes.size())) return 1;
        ++n;
    }
    for (const auto& [name, conv] : conversations()) {
        if (!save(dir / "xs_wire" / name, conv.bytes().data(), conv.bytes().size())) return 1;
        ++n;
    }
    for (bool backend : {true, false}) {
        for (const auto& [name, prog] : xt::ring_programs(backend)) {
            auto path = dir / (backend ? "backend_rings" : "frontend_rings") / name;
            if (!save(path, prog.str().data(), prog.str().size())) return 1;
            ++n;
        }
    }
    std::printf("make_seeds: %d seeds in %s\n", n, dir.c_str());
    return 0;
}
