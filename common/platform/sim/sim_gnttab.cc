// Grant tables on xnet-sim. Each domain's memory, grant table and active
// (pin) table are memfds the daemon made; this process maps a peer's once
// and revalidates against the domain's epoch on every use, so a destroyed
// or re-created domain is noticed. Map and share go through the daemon,
// which tracks them per handle and releases them when the handle closes;
// grant copy runs entirely here, checking and pinning each entry exactly as
// the daemon would (platform/sim/sim_grant.h).
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <xen/grant_table.h>
#include <xen/xen.h>

#include "platform/sim/sim_grant.h"
#include "platform/sim/sim_platform.h"

namespace xnet::sim_client {
namespace {

using namespace simproto;

// A peer domain's shared memory as mapped here.
struct DomainView {
    uint32_t epoch = 0;
    UniqueFd mem_fd;
    ShmMap mem, entries, active;
    simgrant::Table table() const {
        return {entries.as<grant_entry_v1>(), active.as<ActiveTable>()};
    }
    uint8_t* page(uint32_t frame) const { return mem.as<uint8_t>() + size_t(frame) * kPageSize; }
};

// Fetches and caches the views of domains, revalidated by epoch. A view
// replaced because its domain was re-created stays mapped until
// end_batch(), so pins taken through it can still be dropped.
class DomainCache {
  public:
    explicit DomainCache(SimConn& conn) : conn_(conn) {}

    // nullptr with *STATUS = GNTST_bad_domain when DOM does not exist.
    DomainView* get(DomId dom, int16_t* status) {
        uint32_t epoch = conn_.epoch(dom);
        if (epoch == 0) {
            *status = GNTST_bad_domain;
            return nullptr;
        }
        // A batch mostly names one domain: the last one found is checked
        // first.
        if (last_ && last_dom_ == dom && last_->epoch == epoch) return last_;
        auto& slot = views_[dom];
        if (!slot || slot->epoch != epoch) {
            auto v = fetch(dom);
            if (!v) {
                *status = GNTST_bad_domain;
                return nullptr;
            }
            if (slot) retired_.push_back(std::move(slot));
            slot = std::make_unique<DomainView>(std::move(*v));
        }
        last_dom_ = dom;
        last_ = slot.get();
        return last_;
    }

    void end_batch() { retired_.clear(); }

    void forget(DomId dom) {
        views_.erase(dom);
        if (last_dom_ == dom) last_ = nullptr;
    }

  private:
    Result<DomainView> fetch(DomId dom) {
        std::vector<UniqueFd> fds;
        auto what = fmt::format("getting the memory of domain {}", dom);
        XNET_TRY_ASSIGN(auto r, conn_.call(Request{Op::domain_fds, dom}, &fds, what.c_str()));
        if (r.status != 0 || fds.size() != 3) return fail(ESRCH, what);
        DomainView v;
        v.epoch = r.a;
        auto mem = ShmMap::map(fds[0].get(), size_t(kMemPages) * kPageSize, true, "domain memory");
        auto ent =
            ShmMap::map(fds[1].get(), kGrantEntries * sizeof(grant_entry_v1), true, "grant table");
        auto act = ShmMap::map(fds[2].get(), sizeof(ActiveTable), true, "active grants");
        if (!mem) return Unexpected{mem.error()};
        if (!ent) return Unexpected{ent.error()};
        if (!act) return Unexpected{act.error()};
        v.mem = std::move(*mem);
        v.entries = std::move(*ent);
        v.active = std::move(*act);
        v.mem_fd = std::move(fds[0]);
        return v;
    }

    SimConn& conn_;
    std::unordered_map<DomId, std::unique_ptr<DomainView>> views_;
    std::vector<std::unique_ptr<DomainView>> retired_;
    DomId last_dom_ = 0;
    DomainView* last_ = nullptr;
};

// Maps FRAMES of the memory in MEM_FD contiguously: a reserved range, then
// each page placed over it.
Result<void*> map_frames(int mem_fd, const uint32_t* frames, size_t count, bool writable,
                         const std::string& what) {
    size_t len = count * kPageSize;
    void* base = mmap(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return fail(errno, what);
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    for (size_t i = 0; i < count; ++i) {
        void* at = static_cast<uint8_t*>(base) + i * kPageSize;
        if (mmap(at, kPageSize, prot, MAP_SHARED | MAP_FIXED, mem_fd,
                 off_t(frames[i]) * kPageSize) == MAP_FAILED) {
            int e = errno;
            munmap(base, len);
            return fail(e, what);
        }
    }
    return base;
}

Request batch(Op op, uint32_t a, uint32_t b, std::span<const GrantRef> refs) {
    Request req{op, a, b, uint32_t(refs.size())};
    std::copy(refs.begin(), refs.end(), req.refs);
    return req;
}

class SimGrantTable final : public GrantTable {
  public:
    explicit SimGrantTable(SimConn conn) : conn_(std::move(conn)), cache_(conn_) {}

    Result<GrantMapping> map(DomId dom, std::span<const GrantRef> refs, bool writable) override {
        auto what = fmt::format("mapping {} grant(s) of domain {}", refs.size(), dom);
        if (refs.empty() || refs.size() > kMaxBatch) return fail(EINVAL, what);
        int16_t st = GNTST_okay;
        DomainView* v = cache_.get(dom, &st);
        if (!v) return fail(ESRCH, fmt::format("{}: {}", what, gntst_name(st)));
        XNET_TRY_ASSIGN(auto r,
                        conn_.call(batch(Op::map, dom, writable, refs), nullptr, what.c_str()));
        if (r.status != GNTST_okay) {
            return fail(EINVAL,
                        fmt::format("{}: ref {}: {}", what, r.a, gntst_name(int16_t(r.status))));
        }
        auto addr = map_frames(v->mem_fd.get(), r.frames, refs.size(), writable, what);
        if (!addr) {
            (void)conn_.call(batch(Op::unmap, dom, 0, refs), nullptr, "unmapping grants");
            return Unexpected{addr.error()};
        }
        return GrantMapping(this, *addr, dom, {refs.begin(), refs.end()}, writable);
    }

    // gnttab_copy(), a chunk of segments at a time: every side is claimed
    // (checked and pinned), then the data moves in segment order, then the
    // pins drop. Claiming and releasing a chunk's sides on one domain takes
    // that domain's table lock once, and the locked instructions are not
    // interleaved with page copies, whose stores each would wait behind.
    Status copy(std::span<CopySegment> segs) override {
        while (!segs.empty()) {
            Chunk chunk(cache_, segs.first(std::min(segs.size(), kCopyChunk)));
            segs = segs.subspan(chunk.segs.size());
            chunk.claim(uint16_t(conn_.dom()));
            chunk.move_data();
        }
        cache_.end_batch();
        return {};
    }

    void forget(DomId dom) override { cache_.forget(dom); }

  protected:
    void unmap(GrantMapping& m) override {
        munmap(m.addr(), m.pages() * kPageSize);
        (void)conn_.call(batch(Op::unmap, m.dom(), 0, m.refs()), nullptr, "unmapping grants");
    }

  private:
    static constexpr size_t kCopyChunk = 32;

    // Holds the table lock of one domain at a time, switching as
    // consecutive pins name different domains.
    class TableLock {
      public:
        simgrant::LockedTable& on(DomId dom, DomainView* v) {
            if (v != view_) {
                held_.reset();
                held_.emplace(v->table());
                view_ = v;
                dom_ = dom;
            }
            return *held_;
        }
        // The view whose lock is held if it is DOM's, else nullptr.
        DomainView* view(DomId dom) const { return view_ && dom_ == dom ? view_ : nullptr; }
        void reset() {
            held_.reset();
            view_ = nullptr;
        }

      private:
        DomainView* view_ = nullptr;
        DomId dom_ = 0;
        std::optional<simgrant::LockedTable> held_;
    };

    // A foreign page pinned for a copy.
    struct Pin {
        DomainView* view;
        DomId dom;
        uint32_t ref;
        bool write;
    };

    // The segments of one chunk, where each one's data comes from and goes
    // to, and the pins taken; the pins are dropped when the chunk goes.
    struct Chunk {
        Chunk(DomainCache& c, std::span<CopySegment> s) : cache(c), segs(s) {}
        Chunk(const Chunk&) = delete;
        Chunk& operator=(const Chunk&) = delete;
        ~Chunk() {
            TableLock lock;
            for (size_t i = 0; i < npins; ++i)
                lock.on(pins[i].dom, pins[i].view).release(pins[i].ref, pins[i].write);
        }

        // gnttab_copy_one()'s checks for every segment, setting its status:
        // the sources are claimed, then the destinations, then the ranges
        // are checked.
        void claim(uint16_t self) {
            TableLock lock;
            for (size_t i = 0; i < segs.size(); ++i)
                segs[i].status = claim_side(lock, segs[i].src, false, self, &from[i]);
            for (size_t i = 0; i < segs.size(); ++i) {
                CopySegment& s = segs[i];
                if (s.status != GNTST_okay) continue;
                s.status = claim_side(lock, s.dst, true, self, &to[i]);
                if (s.status == GNTST_okay &&
                    ((s.src.foreign && s.src.offset + s.len > kPageSize) ||
                     (s.dst.foreign && s.dst.offset + s.len > kPageSize))) {
                    s.status = GNTST_bad_copy_arg;
                }
            }
        }

        void move_data() const {
            for (size_t i = 0; i < segs.size(); ++i) {
                if (segs[i].status == GNTST_okay) std::memcpy(to[i], from[i], segs[i].len);
            }
        }

        int16_t claim_side(TableLock& lock, const CopySide& c, bool write, uint16_t self,
                           uint8_t** ptr) {
            if (!c.foreign) {
                *ptr = static_cast<uint8_t*>(c.virt);
                return GNTST_okay;
            }
            int16_t st = GNTST_okay;
            DomainView* v = lock.view(c.dom);  // checked when the lock was taken
            if (!v) {
                // get() may ask the daemon, which takes table locks too: no
                // lock may be held while it waits.
                lock.reset();
                v = cache.get(c.dom, &st);
                if (!v) return st;
            }
            uint32_t frame = 0;
            st = lock.on(c.dom, v).acquire(c.ref, self, write, &frame);
            if (st != GNTST_okay) return st;
            pins[npins++] = Pin{v, c.dom, c.ref, write};
            *ptr = v->page(frame) + c.offset;
            return GNTST_okay;
        }

        DomainCache& cache;
        std::span<CopySegment> segs;
        // Filled by claim() for the segments it passes; read only for those.
        std::array<uint8_t*, kCopyChunk> from, to;
        std::array<Pin, 2 * kCopyChunk> pins;
        size_t npins = 0;
    };

    SimConn conn_;
    DomainCache cache_;
};

class SimGrantShare final : public GrantShare {
  public:
    SimGrantShare(SimConn conn, UniqueFd mem) : conn_(std::move(conn)), mem_(std::move(mem)) {}

    Result<SharedPages> share(DomId dom, size_t count, bool writable) override {
        auto what = fmt::format("sharing {} page(s) with domain {}", count, dom);
        if (count == 0 || count > kMaxBatch) return fail(EINVAL, what);
        Request req{Op::share, dom, writable, uint32_t(count)};
        XNET_TRY_ASSIGN(auto r, conn_.call(req, nullptr, what.c_str()));
        if (r.status < 0) return fail(-r.status, what);
        auto addr = map_frames(mem_.get(), r.frames, count, true, what);
        std::vector<GrantRef> refs(r.refs, r.refs + count);
        if (!addr) {
            (void)conn_.call(batch(Op::unshare, 0, 0, refs), nullptr, "unsharing pages");
            return Unexpected{addr.error()};
        }
        return SharedPages(this, *addr, dom, std::move(refs));
    }

  protected:
    void unshare(SharedPages& s) override {
        munmap(s.addr(), s.pages() * kPageSize);
        (void)conn_.call(batch(Op::unshare, 0, 0, s.refs()), nullptr, "unsharing pages");
    }

  private:
    SimConn conn_;
    UniqueFd mem_;
};

}  // namespace

Result<std::unique_ptr<GrantTable>> open_gnttab(const std::string& dir, DomId dom) {
    XNET_TRY_ASSIGN(auto conn, SimConn::open(dir, dom));
    return std::unique_ptr<GrantTable>(new SimGrantTable(std::move(conn)));
}

Result<std::unique_ptr<GrantShare>> open_gntshr(const std::string& dir, DomId dom) {
    XNET_TRY_ASSIGN(auto conn, SimConn::open(dir, dom));
    std::vector<UniqueFd> fds;
    XNET_TRY_ASSIGN(auto r,
                    conn.call(Request{Op::domain_fds, dom}, &fds, "getting this domain's memory"));
    if (r.status != 0 || fds.size() != 3) return fail(EPROTO, "getting this domain's memory");
    return std::unique_ptr<GrantShare>(new SimGrantShare(std::move(conn), std::move(fds[0])));
}

}  // namespace xnet::sim_client
