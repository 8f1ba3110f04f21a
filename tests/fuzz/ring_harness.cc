// The input is a little program for the hostile peer: each operation puts
// a request or response on a ring (bytes from the input, any value), moves
// a producer index (where it says, even past the ring), writes into a page,
// hands the local stack a frame, or fires the event channel and lets the
// reactor run. After every run the harness checks what the other side
// produced against netif.h and aborts on a violation.
#include "ring_harness.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "netback/queue.h"
#include "netfront/queue.h"
#include "runtime/reactor.h"

namespace xt {
namespace {

using namespace xnet;

[[noreturn]] void broken(const char* what, int line) {
    std::fprintf(stderr, "ring harness: property broken at line %d: %s\n", line, what);
    std::abort();
}
#define PROP(cond) ((cond) ? void(0) : broken(#cond, __LINE__))

constexpr DomId kPeer = 7;
constexpr size_t kPage = 4096;

// The fuzz input, read as it is needed; zeros past its end.
class Input {
  public:
    Input(const uint8_t* p, size_t n) : p_(p), n_(n) {}
    bool done() const { return i_ >= n_; }
    uint8_t u8() { return i_ < n_ ? p_[i_++] : 0; }
    uint16_t u16() { return uint16_t(u8() | u8() << 8); }
    uint32_t u32() { return uint32_t(u16() | uint32_t(u16()) << 16); }
    void bytes(void* out, size_t n) {
        auto* o = static_cast<uint8_t*>(out);
        for (size_t k = 0; k < n; ++k)
            o[k] = u8();
    }

  private:
    const uint8_t* p_;
    size_t n_, i_ = 0;
};

using Page = std::array<uint8_t, kPage>;

// Event channels that fire when the harness says so; every port is one
// port, always bound.
class FakeEvents final : public EventChannels {
  public:
    FakeEvents() : fd_(eventfd(0, EFD_NONBLOCK)) {}
    int fd() const override { return fd_.get(); }
    Result<Port> alloc_unbound(DomId) override { return Port(next_++); }
    Result<Port> bind_interdomain(DomId, Port) override { return Port(next_++); }
    Status unbind(Port) override { return {}; }
    Status notify(Port) override {
        ++notified;
        return {};
    }
    Result<std::optional<Port>> pending() override {
        uint64_t v;
        if (::read(fd_.get(), &v, sizeof v) != sizeof v) return std::optional<Port>();
        return std::optional<Port>(Port(1));  // the first port it handed out
    }
    Status unmask(Port) override { return {}; }
    Result<bool> peer_bound(Port) override { return true; }
    void fire() {
        uint64_t one = 1;
        (void)!::write(fd_.get(), &one, sizeof one);
    }
    uint64_t notified = 0;

  private:
    UniqueFd fd_;
    Port next_ = 1;
};

// The local stack: frames to hand the datapath, frames it wrote, and the
// rules a frame written must follow whatever came off the ring.
class FakePort final : public LocalPort {
  public:
    explicit FakePort(const offload::RxRules& rules)
        : fd_(eventfd(0, EFD_NONBLOCK)), rules_(rules) {}
    int fd() const override { return fd_.get(); }
    Result<size_t> read(vnet::Hdr& h, std::span<const iovec> iov) override {
        if (inbox_.empty()) {
            uint64_t v;
            (void)!::read(fd_.get(), &v, sizeof v);
            return size_t(0);
        }
        auto f = std::move(inbox_.front());
        inbox_.pop_front();
        size_t n = std::min(f.second.size(), iov[0].iov_len);  // a TAP truncates, too
        if (n) std::memcpy(iov[0].iov_base, f.second.data(), n);
        h = f.first;
        return n;
    }
    Status write(const vnet::Hdr& h, std::span<const iovec> frame) override {
        size_t len = 0;
        for (const auto& v : frame)
            len += v.iov_len;
        PROP(len >= 14 && len <= netif::kMaxPacket);
        if (h.flags & vnet::kNeedsCsum) {
            PROP(size_t(h.csum_start) + h.csum_offset + 2 <= len);
            PROP(rules_.checksum.any());  // rx-checksum off: every checksum was finished here
        }
        if (h.gso_type != vnet::kGsoNone) PROP(h.gso_size > 0 && rules_.checksum.any());
        ++written;
        return {};
    }
    void send(const vnet::Hdr& h, std::vector<uint8_t> bytes) {
        inbox_.emplace_back(h, std::move(bytes));
        uint64_t one = 1;
        (void)!::write(fd_.get(), &one, sizeof one);
    }
    uint64_t written = 0;

  private:
    UniqueFd fd_;
    const offload::RxRules& rules_;
    std::deque<std::pair<vnet::Hdr, std::vector<uint8_t>>> inbox_;
};

// A frame for the local stack to hand over: a header and bytes, from the input.
void local_frame(Input& in, FakePort& port) {
    vnet::Hdr h;
    h.flags = in.u8() & 3;
    h.gso_type = in.u8() % 3 == 0 ? vnet::kGsoTcpv4 : vnet::kGsoNone;
    h.gso_size = in.u16();
    h.csum_start = in.u8();
    h.csum_offset = in.u8() & 31;
    size_t len = in.u8() < 32 ? in.u16() : in.u8() * 8;
    std::vector<uint8_t> b(len);
    size_t head = std::min<size_t>(len, 64);
    in.bytes(b.data(), head);
    for (size_t k = head; k < len; ++k)
        b[k] = uint8_t(k);
    port.send(h, std::move(b));
}

template <class T>
T* as(Page& p) {
    return reinterpret_cast<T*>(p.data());
}

RING_IDX load(const RING_IDX& f) {
    return std::atomic_ref<RING_IDX>(const_cast<RING_IDX&>(f)).load(std::memory_order_acquire);
}
void publish(RING_IDX& f, RING_IDX v) {
    std::atomic_ref<RING_IDX>(f).store(v, std::memory_order_release);
}

void run(EpollReactor& r) {
    for (int i = 0; i < 4; ++i)
        PROP(r.run_once(0).has_value());
}

// ---- the backend, against a hostile frontend ----------------------------

// The frontend's memory as the backend reaches it: ring pages at refs 1
// and 2, data pages from kData, the last of them read-only; any other ref
// was never granted.
class FakeGrants final : public GrantTable {
  public:
    static constexpr GrantRef kTxRing = 1, kRxRing = 2, kData = 8;
    static constexpr unsigned kDataPages = 24;
    FakeGrants() : pages_(kData + kDataPages) {}
    Page& page(GrantRef r) { return pages_[r]; }

    Result<GrantMapping> map(DomId dom, std::span<const GrantRef> refs, bool writable) override {
        if (dom != kPeer || refs.size() != 1 || (refs[0] != kTxRing && refs[0] != kRxRing)) {
            return fail(EINVAL, "mapping a grant that is not a ring");
        }
        return GrantMapping(this, pages_[refs[0]].data(), dom, {refs[0]}, writable);
    }
    Status copy(std::span<CopySegment> segs) override {
        for (auto& s : segs) {
            PROP(s.src.foreign != s.dst.foreign);
            CopySide& f = s.src.foreign ? s.src : s.dst;
            PROP(f.dom == kPeer);
            // A backend must never ask for a copy that leaves its page (Xen
            // would refuse it): the offsets it uses come from checked fields.
            PROP(s.len > 0 && size_t(f.offset) + s.len <= kPage);
            if (f.ref < kData || f.ref >= kData + kDataPages) {
                s.status = GNTST_bad_gntref;
                continue;
            }
            if (s.dst.foreign && f.ref == kData + kDataPages - 1) {
                s.status = GNTST_general_error;  // read-only: Xen's answer
                continue;
            }
            uint8_t* at = pages_[f.ref].data() + f.offset;
            if (s.src.foreign) {
                std::memcpy(s.dst.virt, at, s.len);
            } else {
                std::memcpy(at, s.src.virt, s.len);
            }
            s.status = GNTST_okay;
        }
        return {};
    }

  protected:
    void unmap(GrantMapping&) override {}

  private:
    std::vector<Page> pages_;
};

}  // namespace

int fuzz_backend_rings(const uint8_t* data, size_t size) {
    Input in(data, size);
    auto reactor = EpollReactor::create();
    PROP(reactor.has_value());
    auto& r = **reactor;
    FakeGrants gt;
    auto* txs = as<netif::TxSring>(gt.page(FakeGrants::kTxRing));
    auto* rxs = as<netif::RxSring>(gt.page(FakeGrants::kRxRing));
    ring::init_shared(txs);
    ring::init_shared(rxs);

    DeviceShared vif;
    uint8_t cfg = in.u8();
    vif.name = "vif7.0";
    vif.peer = kPeer;
    // Every kind, IPv4's only (rules that differ by kind) or none.
    vif.rx.checksum = cfg & 1    ? offload::kEveryProto
                      : cfg & 64 ? offload::kIpv4Protos
                                 : offload::Protos{};
    vif.gso_accepted_v4 = vif.rx.checksum.any() && (cfg & 2);  // only with partials accepted
    vif.gso_accepted_v6 = vif.rx.checksum.all() && (cfg & 4);
    if (cfg & 8) vif.tx = offload::kEveryTxOffload;
    vif.tx.sg = cfg & 16;
    if (cfg & 32) vif.tx.tagged = false;  // as for Linux's netfront: tagged GSO is cut
    bool faulted = false;
    vif.fault = [&](const Error&, bool) { faulted = true; };
    FakePort port(vif.rx);
    auto ev = std::make_unique<FakeEvents>();
    FakeEvents* events = ev.get();
    auto q =
        netback::BackQueue::start(r, gt, std::move(ev), port, vif, 0,
                                  {FakeGrants::kTxRing, FakeGrants::kRxRing, Port(40), Port(40)});
    PROP(q.has_value());

    RING_IDX tx_pvt = 0, rx_pvt = 0;     // what the frontend wrote
    RING_IDX tx_seen = 0, rx_seen = 0;   // responses checked so far
    std::vector<uint16_t> tx_ids;        // ids of TX requests written
    std::array<uint16_t, 256> rx_ids{};  // the id of the RX request in each slot
    bool rx_extra_next = false;
    // Once a producer index was moved past what was written, the backend
    // may read slots never written (or its own responses): what it answers
    // then is not checked against the requests.
    bool tx_wild = false, rx_wild = false;
    constexpr RING_IDX kSize = 256;

    auto check = [&] {
        // TX: never more responses than requests published; each answers
        // one of them (or is an extra's NULL).
        RING_IDX prod = load(txs->rsp_prod);
        if (tx_wild) tx_seen = prod;
        PROP(RING_IDX(prod - tx_seen) <= RING_IDX(tx_pvt - tx_seen));
        for (; tx_seen != prod; ++tx_seen) {
            netif::TxResponse rsp;
            std::memcpy(&rsp, &txs->ring[tx_seen & (kSize - 1)].rsp, sizeof rsp);
            PROP(rsp.status == NETIF_RSP_OKAY || rsp.status == NETIF_RSP_ERROR ||
                 rsp.status == NETIF_RSP_NULL);
            if (rsp.status == NETIF_RSP_NULL) continue;
            auto it = std::find(tx_ids.begin(), tx_ids.end(), rsp.id);
            PROP(it != tx_ids.end());
            tx_ids.erase(it);
        }
        // RX: response I answers request I, and says where its data is.
        prod = load(rxs->rsp_prod);
        if (rx_wild) rx_seen = prod;
        PROP(RING_IDX(prod - rx_seen) <= RING_IDX(rx_pvt - rx_seen));
        for (; rx_seen != prod; ++rx_seen) {
            netif::RxResponse rsp;
            std::memcpy(&rsp, &rxs->ring[rx_seen & (kSize - 1)].rsp, sizeof rsp);
            if (rx_extra_next) {  // the GSO extra after a first slot
                netif::ExtraInfo e;
                std::memcpy(&e, &rsp, sizeof e);
                PROP(e.type == XEN_NETIF_EXTRA_TYPE_GSO && e.u.gso.size > 0);
                rx_extra_next = false;
                continue;
            }
            PROP(rsp.id == rx_ids[rx_seen & (kSize - 1)]);
            PROP(rsp.status > 0 && size_t(rsp.offset) + size_t(rsp.status) <= kPage);
            rx_extra_next = rsp.flags & netif::rxf::extra_info;
        }
    };

    for (unsigned ops = 0; ops < 256 && !in.done() && !faulted; ++ops) {
        switch (in.u8() % 8) {
            case 0: {  // a TX request, any bytes; refs mostly near the granted ones
                netif::TxRequest req;
                in.bytes(&req, sizeof req);
                if (!(req.flags & 0x80)) req.gref = FakeGrants::kData + req.gref % 28;
                if (!(req.flags & 0x40)) req.offset %= 4096;
                req.flags &= 0x3f;
                std::memcpy(&txs->ring[tx_pvt++ & (kSize - 1)].req, &req, sizeof req);
                tx_ids.push_back(req.id);
                break;
            }
            case 1:  // publish the TX requests, or move req_prod anywhere
                if (in.u8() < 16) {
                    publish(txs->req_prod, tx_pvt + in.u32());
                    tx_wild = true;
                } else {
                    publish(txs->req_prod, tx_pvt);
                }
                break;
            case 2: {  // an RX buffer
                netif::RxRequest req;
                req.id = in.u16();
                uint8_t g = in.u8();
                req.gref = g < 240 ? FakeGrants::kData + g % 28 : in.u32();
                rx_ids[rx_pvt & (kSize - 1)] = req.id;
                std::memcpy(&rxs->ring[rx_pvt++ & (kSize - 1)].req, &req, sizeof req);
                if (in.u8() < 8) {
                    publish(rxs->req_prod, rx_pvt + in.u32());
                    rx_wild = true;
                } else {
                    publish(rxs->req_prod, rx_pvt);
                }
                break;
            }
            case 3:  // the event fields, set to anything
                publish(txs->rsp_event, in.u32());
                publish(rxs->req_event, in.u32());
                break;
            case 4: {  // data in a page the requests point at
                Page& p = gt.page(FakeGrants::kData + in.u8() % FakeGrants::kDataPages);
                size_t at = in.u8() * 16;
                in.bytes(p.data() + at, std::min<size_t>(64, kPage - at));
                break;
            }
            case 5:
                local_frame(in, port);
                run(r);
                break;
            default:
                events->fire();
                run(r);
                break;
        }
        check();
    }
    q->reset();
    return 0;
}

// ---- the frontend, against a hostile backend ---------------------------

namespace {

// The guest's own pages, shared with "the backend" (this harness), which
// reaches them by ref.
class FakeShare final : public GrantShare {
  public:
    Result<SharedPages> share(DomId dom, size_t count, bool) override {
        auto mem = std::make_unique<Page[]>(count);
        std::vector<GrantRef> refs;
        for (size_t i = 0; i < count; ++i) {
            refs.push_back(next_);
            by_ref_[next_++] = &mem[i];
        }
        void* addr = mem.get();
        blocks_[addr] = std::move(mem);
        return SharedPages(this, addr, dom, std::move(refs));
    }
    Page* page(GrantRef r) {
        auto it = by_ref_.find(r);
        return it == by_ref_.end() ? nullptr : it->second;
    }

  protected:
    void unshare(SharedPages& s) override {
        for (GrantRef r : s.refs())
            by_ref_.erase(r);
        blocks_.erase(s.addr());
    }

  private:
    GrantRef next_ = 10;
    std::map<GrantRef, Page*> by_ref_;
    std::map<void*, std::unique_ptr<Page[]>> blocks_;
};

}  // namespace

int fuzz_frontend_rings(const uint8_t* data, size_t size) {
    Input in(data, size);
    auto reactor = EpollReactor::create();
    PROP(reactor.has_value());
    auto& r = **reactor;
    FakeShare gs;

    DeviceShared f;
    uint8_t cfg = in.u8();
    f.name = "eth0";
    f.peer = 0;
    f.rx.checksum = cfg & 1    ? offload::kEveryProto
                    : cfg & 64 ? offload::kIpv6Protos
                               : offload::Protos{};
    f.gso_accepted_v4 = f.rx.checksum.all() && (cfg & 2);
    f.gso_accepted_v6 = f.rx.checksum.any() && (cfg & 4);
    if (cfg & 8) f.tx = offload::kEveryTxOffload;
    f.tx.sg = cfg & 16;
    if (cfg & 32) f.tx.tagged = false;  // as for Linux's netback: tagged GSO is cut
    bool faulted = false;
    f.fault = [&](const Error&, bool) { faulted = true; };
    FakePort port(f.rx);
    auto ev = std::make_unique<FakeEvents>();
    FakeEvents* events = ev.get();
    auto q = netfront::FrontQueue::create(gs, std::move(ev), f, 0, false);
    PROP(q.has_value());
    auto* txs = reinterpret_cast<netif::TxSring*>(gs.page((*q)->keys().tx_ref));
    auto* rxs = reinterpret_cast<netif::RxSring*>(gs.page((*q)->keys().rx_ref));
    PROP(txs && rxs);
    PROP((*q)->start(r, port).has_value());

    constexpr RING_IDX kSize = 256;
    RING_IDX tx_pvt = 0, rx_pvt = 0;  // what the backend wrote
    RING_IDX tx_req_seen = 0;         // the frontend's TX requests checked
    bool extra_next = false;
    auto check = [&] {
        // The frontend points its requests at pages it granted, inside
        // their page, one packet's data per chain.
        RING_IDX prod = load(txs->req_prod);
        if (RING_IDX(prod - tx_req_seen) > kSize) tx_req_seen = prod - kSize;
        for (; tx_req_seen != prod; ++tx_req_seen) {
            netif::TxRequest req;
            std::memcpy(&req, &txs->ring[tx_req_seen & (kSize - 1)].req, sizeof req);
            if (extra_next) {  // the GSO extra after a first slot
                extra_next = false;
                continue;
            }
            PROP(gs.page(req.gref) != nullptr);
            PROP(req.offset == 0 && req.size > 0);
            extra_next = req.flags & netif::txf::extra_info;
        }
    };

    for (unsigned ops = 0; ops < 256 && !in.done() && !faulted; ++ops) {
        switch (in.u8() % 8) {
            case 0: {  // an RX response, any bytes
                netif::RxResponse rsp;
                in.bytes(&rsp, sizeof rsp);
                std::memcpy(&rxs->ring[rx_pvt++ & (kSize - 1)].rsp, &rsp, sizeof rsp);
                break;
            }
            case 1:  // publish them, or move rsp_prod anywhere
                publish(rxs->rsp_prod, in.u8() < 16 ? rx_pvt + in.u32() : rx_pvt);
                break;
            case 2: {  // a TX response, any id and status
                netif::TxResponse rsp;
                in.bytes(&rsp, sizeof rsp);
                std::memcpy(&txs->ring[tx_pvt++ & (kSize - 1)].rsp, &rsp, sizeof rsp);
                publish(txs->rsp_prod, in.u8() < 16 ? tx_pvt + in.u32() : tx_pvt);
                break;
            }
            case 3:
                publish(txs->req_event, in.u32());
                publish(rxs->rsp_event, in.u32());
                break;
            case 4: {  // "copy" into an RX buffer the frontend posted
                netif::RxRequest req;
                std::memcpy(&req, &rxs->ring[in.u8()].req, sizeof req);
                if (Page* p = gs.page(req.gref)) {
                    size_t at = in.u8() * 16;
                    in.bytes(p->data() + at, std::min<size_t>(64, kPage - at));
                }
                break;
            }
            case 5:
                local_frame(in, port);
                run(r);
                break;
            default:
                events->fire();
                run(r);
                break;
        }
        check();
    }
    q->reset();
    return 0;
}

}  // namespace xt
