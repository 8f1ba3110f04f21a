// Writes every frame of the unit tests' catalogue into a directory, one file
// each, as the starting corpus of the parser fuzzer.
#include <cstdio>
#include <fstream>
#include <string>

#include "../unit/frames.h"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    int n = 0;
    for (const auto& [name, spec] : xt::catalogue()) {
        if (spec.payload > 40) continue;  // the headers are what matters
        const auto b = xt::build(spec);
        std::ofstream out(std::string(argv[1]) + "/" + name, std::ios::binary);
        out.write(reinterpret_cast<const char*>(b.bytes.data()),
                  static_cast<std::streamsize>(b.bytes.size()));
        if (!out) {
            std::fprintf(stderr, "make_seeds: cannot write %s/%s\n", argv[1], name.c_str());
            return 1;
        }
        ++n;
    }
    std::printf("make_seeds: %d seeds in %s\n", n, argv[1]);
    return 0;
}
