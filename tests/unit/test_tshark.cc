// An independent judge: frames whose checksums libxnet completed are written
// to a pcap and tshark, with checksum validation on for IPv4, TCP and UDP,
// must call every checksum good; after a deliberate corruption, bad.
// tshark missing is a failure, not a skip: `make deps` installs it.
#include <doctest/doctest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

#include "frames.h"
#include "packet/frame_csum.h"
#include "pcap.h"

using xt::Bytes;

namespace {

// Status values tshark prints for *.checksum.status fields.
constexpr char kBad = '0';
constexpr char kGood = '1';

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/xnet-tshark-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

std::string run(const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::array<char, 4096> buf;
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p))
        out.append(buf.data(), n);
    const int status = pclose(p);
    INFO("command: " << cmd << "\noutput: " << out);
    REQUIRE(status == 0);
    return out;
}

struct Row {
    std::string ip, tcp, udp;
};

// One row per frame: the checksum statuses of every IPv4, TCP and UDP header
// in it (comma-separated when a tunnel has two).
std::vector<Row> tshark_statuses(const std::string& pcap) {
    const std::string out =
        run("tshark -n -r '" + pcap +
            "' -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE"
            " -o ip.defragment:FALSE -o ipv6.defragment:FALSE"
            " -T fields -E separator=/t -e ip.checksum.status -e tcp.checksum.status"
            " -e udp.checksum.status 2>/dev/null");
    std::vector<Row> rows;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        Row r;
        std::istringstream fields(line);
        std::getline(fields, r.ip, '\t');
        std::getline(fields, r.tcp, '\t');
        std::getline(fields, r.udp, '\t');
        rows.push_back(r);
    }
    return rows;
}

bool has(const std::string& s, char status) {
    return s.find(status) != std::string::npos;
}

}  // namespace

TEST_CASE("tshark finds every checksum libxnet completed good, and corrupted ones bad") {
    REQUIRE_MESSAGE(std::system("command -v tshark >/dev/null 2>&1") == 0,
                    "tshark is required (make deps installs it)");
    TempDir dir;
    std::vector<Bytes> good, bad;
    std::vector<std::string> names;
    for (const auto& [name, spec] : xt::catalogue()) {
        if (spec.frag != xt::Frag::none) continue;
        if (spec.l4 != 6 && spec.l4 != 17 && spec.tunnel == xt::Tun::none) continue;
        if (spec.udp_zero && spec.tunnel == xt::Tun::none) continue;
        const auto b = xt::build(spec);
        // From a partial frame, as a stack with checksum offload hands it over.
        Bytes f = xt::partial_of(b);
        REQUIRE(xnet::pkt::complete(std::span<std::uint8_t>(f)).has_value());
        good.push_back(f);
        names.push_back(name);
        // And through make_partial + complete_at, the virtio way.
        Bytes g = b.bytes;
        auto loc = xnet::pkt::make_partial(std::span<std::uint8_t>(g));
        REQUIRE(loc.has_value());
        REQUIRE(xnet::pkt::complete_at(std::span<std::uint8_t>(g), *loc).has_value());
        good.push_back(g);
        names.push_back(name + " (virtio)");
        if (spec.payload > 0 || spec.tunnel != xt::Tun::none) {
            f[f.size() - 1] ^= 0x01;  // the last payload byte, after completion
            bad.push_back(f);
        }
    }
    REQUIRE(good.size() > 500);
    xt::write_pcap((dir.path / "good.pcap").string(), good);
    xt::write_pcap((dir.path / "bad.pcap").string(), bad);

    const auto rows = tshark_statuses((dir.path / "good.pcap").string());
    REQUIRE(rows.size() == good.size());
    std::size_t judged = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CAPTURE(names[i]);
        CAPTURE(rows[i].ip);
        CAPTURE(rows[i].tcp);
        CAPTURE(rows[i].udp);
        CHECK_FALSE(has(rows[i].ip, kBad));
        CHECK_FALSE(has(rows[i].tcp, kBad));
        CHECK_FALSE(has(rows[i].udp, kBad));
        CHECK((has(rows[i].tcp, kGood) || has(rows[i].udp, kGood)));
        judged += has(rows[i].tcp, kGood) || has(rows[i].udp, kGood);
    }
    CHECK(judged == good.size());

    const auto bad_rows = tshark_statuses((dir.path / "bad.pcap").string());
    REQUIRE(bad_rows.size() == bad.size());
    std::size_t caught = 0;
    for (const Row& r : bad_rows)
        caught += has(r.tcp, kBad) || has(r.udp, kBad);
    CHECK(caught == bad.size());
}
