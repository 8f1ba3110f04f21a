// The ring path alone: xnetfront's queue code in a guest process reads
// frames from a generator (where a TAP would be) and puts them on the TX
// ring; xnetback's queue code in dom0 grant-copies them out and hands them
// to a sink (where the vif's TAP would be). Everything between the two
// ports is the real datapath on xnet-sim: rings, grants, event channels,
// the checksum rules, the counters. One queue, offload on both ends.
//
// Workloads: 60-byte UDP frames with their checksums complete (pktgen's
// 64 B on the wire), 1514-byte TCP frames with partial checksums, and
// 64 KiB TCP GSO frames with partial checksums, as a stack with offloads
// hands them over.
//
// In the same run, the bare ceiling: the same two processes passing
// 16-byte descriptors through a shared-memory single-producer ring with
// batched publication and no packet work. Its ratio lets figures from
// noisy machines be compared.
//
// Prints a table and "name value unit" lines for `make bench`.
#include <fmt/format.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <vector>

#include "netback/queue.h"
#include "netfront/queue.h"
#include "packet/csum.h"
#include "platform/platform.h"
#include "platform/sim/sim_conn.h"
#include "runtime/reactor.h"
#include "sim/daemon.h"
#include "tests/bench/bench_util.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace xnet;

constexpr double kWindow = 0.6;  // seconds measured per trial
constexpr int kTrials = 3;       // per workload; the median is reported
// The daemons' default (--busy-poll-us); XNET_BENCH_POLL_US overrides it.
std::chrono::microseconds busy_poll{50};

using bench::die;
using bench::must;

// ---- frames ----------------------------------------------------------------

struct Workload {
    const char* name;  // figure name part: 64, 1500, gso64k
    std::vector<uint8_t> frame;
    vnet::Hdr hdr;
};

void put16(std::vector<uint8_t>& b, size_t off, uint16_t host) {
    b[off] = uint8_t(host >> 8);
    b[off + 1] = uint8_t(host);
}

// An Ethernet + IPv4 + UDP/TCP frame with L4_PAYLOAD bytes of data. With
// PARTIAL the L4 checksum field holds the folded pseudo-header sum and HDR
// says NEEDS_CSUM, as a stack with checksum offload hands a frame over;
// otherwise every checksum is complete.
Workload make_workload(const char* name, uint8_t proto, size_t l4_payload, bool partial,
                       uint16_t gso_size = 0) {
    const size_t l3 = 14, l4 = l3 + 20, l4_hdr = proto == 6 ? 20 : 8;
    const size_t len = l4 + l4_hdr + l4_payload;
    std::vector<uint8_t> f(len);
    const uint8_t macs[12] = {0x00, 0x16, 0x3e, 0, 0, 1, 0x00, 0x16, 0x3e, 0, 0, 2};
    std::memcpy(f.data(), macs, sizeof macs);
    put16(f, 12, 0x0800);
    f[l3] = 0x45;
    put16(f, l3 + 2, uint16_t(len - l3));
    put16(f, l3 + 6, 0x4000);  // DF
    f[l3 + 8] = 64;
    f[l3 + 9] = proto;
    const uint8_t addrs[8] = {10, 0, 0, 1, 10, 0, 0, 2};
    std::memcpy(&f[l3 + 12], addrs, sizeof addrs);
    uint16_t ipsum = csum::finish(csum::partial(&f[l3], 20));
    std::memcpy(&f[l3 + 10], &ipsum, 2);

    put16(f, l4, 40000);
    put16(f, l4 + 2, 5001);
    size_t csum_field;
    if (proto == 6) {
        f[l4 + 12] = 5 << 4;
        f[l4 + 13] = 0x18;  // PSH ACK
        put16(f, l4 + 14, 0xffff);
        csum_field = 16;
    } else {
        put16(f, l4 + 4, uint16_t(l4_hdr + l4_payload));
        csum_field = 6;
    }
    for (size_t i = l4 + l4_hdr; i < len; ++i)
        f[i] = uint8_t(i * 7);
    csum::Partial pseudo = csum::pseudo_v4(&f[l3 + 12], &f[l3 + 16], proto, uint32_t(len - l4));
    uint16_t field =
        partial ? csum::fold(pseudo) : csum::finish(csum::partial(&f[l4], len - l4, pseudo));
    std::memcpy(&f[l4 + csum_field], &field, 2);

    vnet::Hdr h;
    if (partial) {
        h.flags = vnet::kNeedsCsum;
        h.csum_start = uint16_t(l4);
        h.csum_offset = uint16_t(csum_field);
        h.hdr_len = uint16_t(l4 + l4_hdr);
    }
    if (gso_size) {
        h.gso_type = vnet::kGsoTcpv4;
        h.gso_size = gso_size;
    }
    return {name, std::move(f), h};
}

// ---- the two ports -----------------------------------------------------------

// Where the guest's TAP would be: always has the workload's frame to read.
class Generator final : public LocalPort {
  public:
    explicit Generator(const Workload& w) : w_(w), fd_(eventfd(1, EFD_NONBLOCK)) {
        if (!fd_) die("eventfd");
    }
    int fd() const override { return fd_.get(); }  // always readable
    Result<size_t> read(vnet::Hdr& h, std::span<const iovec> iov) override {
        size_t len = std::min(w_.frame.size(), iov[0].iov_len);
        std::memcpy(iov[0].iov_base, w_.frame.data(), len);  // what the TAP read copies
        h = w_.hdr;
        return len;
    }
    Status write(const vnet::Hdr&, std::span<const iovec>) override { return {}; }

  private:
    const Workload& w_;
    UniqueFd fd_;
};

// Where the vif's TAP would be: counts what arrives, and measures the rate
// over kWindow seconds after a warm-up.
class Sink final : public LocalPort {
  public:
    explicit Sink(EpollReactor& r) : r_(r), fd_(eventfd(0, EFD_NONBLOCK)) {
        if (!fd_) die("eventfd");
    }
    int fd() const override { return fd_.get(); }  // never readable
    Result<size_t> read(vnet::Hdr&, std::span<const iovec>) override { return size_t(0); }
    Status write(const vnet::Hdr& h, std::span<const iovec> frame) override {
        ++packets_;
        for (const auto& v : frame)
            bytes_ += v.iov_len;
        if (h.flags & vnet::kNeedsCsum) ++partials_;
        if ((packets_ & 255) == 0) tick();
        return {};
    }

    struct Rate {
        double pps = 0, bps = 0;  // bits per second of frame bytes
        uint64_t partials = 0, packets = 0;
        uint64_t notified = 0, woken = 0;  // backend notifications sent, received
    };
    Rate& rate() { return rate_; }

  private:
    void tick() {
        auto now = Clock::now();
        if (!started_) {
            if (packets_ < kWarmup) return;
            started_ = true;
            t0_ = now;
            p0_ = packets_;
            b0_ = bytes_;
            return;
        }
        double s = std::chrono::duration<double>(now - t0_).count();
        if (s < kWindow) return;
        rate_ = {double(packets_ - p0_) / s, double(bytes_ - b0_) * 8 / s, partials_, packets_};
        r_.stop();
    }
    static constexpr uint64_t kWarmup = 4096;
    EpollReactor& r_;
    UniqueFd fd_;
    uint64_t packets_ = 0, bytes_ = 0, partials_ = 0;
    bool started_ = false;
    Clock::time_point t0_;
    uint64_t p0_ = 0, b0_ = 0;
    Rate rate_;
};

// ---- one trial: a guest process and a dom0 process --------------------------

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        if (pipe(fds) != 0) die("pipe");
        r = fds[0];
        w = fds[1];
    }
    ~Pipe() {
        close_read();
        close_write();
    }
    void close_read() {
        if (r >= 0) close(r);
        r = -1;
    }
    void close_write() {
        if (w >= 0) close(w);
        w = -1;
    }
    template <class T>
    void send(const T& v) const {
        if (::write(w, &v, sizeof v) != sizeof v) die("writing a pipe");
    }
    template <class T>
    T receive() const {
        T v;
        if (::read(r, &v, sizeof v) != sizeof v) die("reading a pipe");
        return v;
    }
};

[[noreturn]] void run_guest(const std::string& dir, DomId dom, const Workload& w, const Pipe& keys,
                            const Pipe& go) {
    auto platform = must(open_sim_platform(dir, dom));
    auto gs = must(platform->open_gntshr());
    DeviceShared f;
    f.name = "bench";
    f.peer = 0;
    f.tx = offload::kEveryTxOffload;
    f.rx.checksum = offload::kEveryProto;
    f.gso_accepted_v4 = f.gso_accepted_v6 = true;
    f.busy_poll = busy_poll;
    f.fault = [](const Error& e, bool) { die(fmt::format("frontend fault: {}", e.message())); };
    auto q = must(netfront::FrontQueue::create(*gs, must(platform->open_evtchn()), f, 0, false));
    keys.send(q->keys());
    (void)go.receive<char>();  // the backend has mapped and bound
    auto r = must(EpollReactor::create());
    must(r->stop_on_signals());
    Generator gen(w);
    must(q->start(*r, gen));
    must(r->run());
    q.reset();
    _exit(0);
}

[[noreturn]] void run_backend(const std::string& dir, DomId guest, const Pipe& keys, const Pipe& go,
                              const Pipe& result) {
    auto platform = must(open_sim_platform(dir, 0));
    auto gt = must(platform->open_gnttab());
    auto r = must(EpollReactor::create());
    DeviceShared vif;
    vif.name = "vifbench";
    vif.peer = guest;
    vif.tx = offload::kEveryTxOffload;
    vif.rx.checksum = offload::kEveryProto;
    vif.gso_accepted_v4 = vif.gso_accepted_v6 = true;
    vif.busy_poll = busy_poll;
    vif.fault = [](const Error& e, bool) { die(fmt::format("backend fault: {}", e.message())); };
    auto k = keys.receive<netfront::QueueKeys>();
    netback::QueueKeys bk{k.tx_ref, k.rx_ref, k.tx_port, k.rx_port};
    Sink sink(*r);
    auto q =
        must(netback::BackQueue::start(*r, *gt, must(platform->open_evtchn()), sink, vif, 0, bk));
    go.send('g');
    q->kick();
    must(r->run());
    sink.rate().notified = vif.counters.notifications_sent;
    sink.rate().woken = vif.counters.notifications_received;
    result.send(sink.rate());
    q.reset();
    _exit(0);
}

Sink::Rate trial(const std::string& dir, DomId dom, const Workload& w) {
    {
        auto c = must(sim_client::SimConn::open(dir, 0));
        auto rep = must(c.call(simproto::Request{simproto::Op::domain_create, dom}));
        if (rep.status != 0) die(fmt::format("creating domain {}", dom));
    }
    Pipe keys, go, result;
    pid_t guest = fork();
    if (guest == 0) run_guest(dir, dom, w, keys, go);
    pid_t back = fork();
    if (back == 0) run_backend(dir, dom, keys, go, result);
    // Only the children write: a child that dies ends the reads with EOF.
    keys.close_write();
    go.close_write();
    result.close_write();
    auto rate = result.receive<Sink::Rate>();
    waitpid(back, nullptr, 0);
    kill(guest, SIGTERM);
    waitpid(guest, nullptr, 0);
    auto c = must(sim_client::SimConn::open(dir, 0));
    (void)c.call(simproto::Request{simproto::Op::domain_destroy, dom});
    return rate;
}

// ---- the ceiling: bare descriptors through a shared SPSC ring ----------------

struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t id, flags;
};
static_assert(sizeof(Desc) == 16);

struct alignas(64) SharedRing {
    static constexpr uint32_t kSize = 256;  // as many slots as a netif ring
    alignas(64) uint32_t prod;
    alignas(64) uint32_t cons;
    alignas(64) Desc slots[kSize];
    alignas(64) double mpps;
};

// Descriptors per second from producer to consumer, both spinning,
// publishing an index once per batch of up to 64 (what xnet does per
// wakeup), measured by the consumer over kWindow seconds.
double ceiling_mpps() {
    void* mem = mmap(nullptr, sizeof(SharedRing), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) die("mmap");
    auto* ring = static_cast<SharedRing*>(mem);
    new (ring) SharedRing{};
    std::atomic_ref<uint32_t> prod(ring->prod), cons(ring->cons);
    constexpr uint32_t kBatch = 64;
    pid_t producer = fork();
    if (producer == 0) {
        uint32_t p = 0;
        for (;;) {
            uint32_t room = SharedRing::kSize - (p - cons.load(std::memory_order_acquire));
            uint32_t n = std::min(room, kBatch);
            for (uint32_t i = 0; i < n; ++i)
                ring->slots[(p + i) % SharedRing::kSize] = {p + i, 60, uint16_t(p + i), 0};
            p += n;
            // The descriptors /then/ the index that publishes them.
            prod.store(p, std::memory_order_release);
            if (n == 0) __builtin_ia32_pause();
        }
    }
    uint32_t c = 0;
    uint64_t total = 0, sum = 0, start_total = 0, batches = 0;
    auto t0 = Clock::now();
    bool started = false;
    for (;;) {
        uint32_t p = prod.load(std::memory_order_acquire);  // the index /then/ its descriptors
        if (p == c) {
            __builtin_ia32_pause();
            continue;
        }
        for (; c != p; ++c)
            sum += ring->slots[c % SharedRing::kSize].len;
        cons.store(c, std::memory_order_release);  // the reads /then/ the slots' reuse
        total = sum / 60;
        if (++batches % 64) continue;  // the clock now and then
        auto now = Clock::now();
        if (!started && total > 1'000'000) {
            started = true;
            t0 = now;
            start_total = total;
        } else if (started && std::chrono::duration<double>(now - t0).count() >= kWindow) {
            double s = std::chrono::duration<double>(now - t0).count();
            ring->mpps = double(total - start_total) / s / 1e6;
            break;
        }
    }
    kill(producer, SIGKILL);
    waitpid(producer, nullptr, 0);
    double mpps = ring->mpps;
    munmap(mem, sizeof(SharedRing));
    return mpps;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

// bench_ring [WORKLOAD...]: only those workloads (64, 1500, gso64k) and no
// ceiling, for profiling one of them.
int main(int argc, char** argv) {
    if (const char* us = getenv("XNET_BENCH_POLL_US"))
        busy_poll = std::chrono::microseconds(std::strtol(us, nullptr, 10));
    char tmpl[] = "/tmp/xnet-bench-ring.XXXXXX";
    if (!mkdtemp(tmpl)) die("mkdtemp");
    std::string dir = tmpl;
    pid_t daemon = must(sim::spawn_daemon(dir));

    std::vector<Workload> loads;
    loads.push_back(make_workload("64", 17, 60 - 42, false));
    loads.push_back(make_workload("1500", 6, 1500 - 40, true));
    loads.push_back(make_workload("gso64k", 6, 44 * 1448, true, 1448));

    if (argc > 1) {
        std::vector<Workload> chosen;
        for (int i = 1; i < argc; ++i) {
            auto it = std::find_if(loads.begin(), loads.end(), [&](const Workload& w) {
                return w.name == std::string(argv[i]);
            });
            if (it != loads.end()) {
                chosen.push_back(*it);
            } else {
                die(fmt::format("no workload '{}' (64, 1500, gso64k)", argv[i]));
            }
        }
        loads = std::move(chosen);
    }
    const bool everything = argc == 1;

    DomId dom = 10;
    std::vector<std::vector<double>> mpps(loads.size()), gbps(loads.size());
    std::vector<double> ceiling;
    std::vector<uint64_t> partials(loads.size());
    for (int t = 0; t < kTrials; ++t) {  // interleaved: noise spreads over all
        if (everything) ceiling.push_back(ceiling_mpps());
        for (size_t i = 0; i < loads.size(); ++i) {
            auto r = trial(dir, dom++, loads[i]);
            mpps[i].push_back(r.pps / 1e6);
            gbps[i].push_back(r.bps / 1e9);
            partials[i] = r.partials;
            if (!everything)
                fmt::print("  {}: {} packets, {} notifications sent, {} received by the backend\n",
                           loads[i].name, r.packets, r.notified, r.woken);
        }
    }

    kill(daemon, SIGTERM);
    waitpid(daemon, nullptr, 0);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);

    if (!everything) {
        for (size_t i = 0; i < loads.size(); ++i)
            fmt::print("{}: {:.3f} Mpps {:.3f} Gbit/s\n", loads[i].name, median(mpps[i]),
                       median(gbps[i]));
        return 0;
    }
    double ceil = median(ceiling);
    fmt::print("{:<30} {:>8} {:>10} {:>10}\n", "ring path, 1 queue", "frame", "Mpps", "Gbit/s");
    for (size_t i = 0; i < loads.size(); ++i) {
        fmt::print("{:<30} {:>7}B {:>10.2f} {:>10.2f}{}\n", loads[i].name, loads[i].frame.size(),
                   median(mpps[i]), median(gbps[i]),
                   partials[i] ? "  (partial checksums kept)" : "");
    }
    fmt::print("{:<30} {:>8} {:>10.2f}\n", "ceiling: bare SPSC ring", "16B", ceil);
    fmt::print("ring.64.mpps {:.3f} Mpps\n", median(mpps[0]));
    fmt::print("ring.64.gbps {:.3f} Gbit/s\n", median(gbps[0]));
    fmt::print("ring.1500.mpps {:.3f} Mpps\n", median(mpps[1]));
    fmt::print("ring.1500.gbps {:.3f} Gbit/s\n", median(gbps[1]));
    fmt::print("ring.gso64k.mpps {:.4f} Mpps\n", median(mpps[2]));
    fmt::print("ring.gso64k.gbps {:.3f} Gbit/s\n", median(gbps[2]));
    fmt::print("ring.ceiling.mpps {:.2f} Mpps\n", ceil);
    fmt::print("ring.64.ratio_to_ceiling {:.4f} x\n", median(mpps[0]) / ceil);
    return 0;
}
