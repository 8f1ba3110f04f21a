// Domains, grants and event channels of xnet-sim. Status codes and error
// numbers are those Xen's grant_table.c and event_channel.c give.
#include "hypervisor.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include <fmt/format.h>
#include <xen/grant_table.h>
#include <xen/xen.h>

#include "platform/sim/sim_grant.h"

namespace xnet::sim {
namespace {

using namespace simproto;

constexpr uint32_t kFirstRef = 8;  // GNTTAB_NR_RESERVED_ENTRIES: console, xenstore

Result<UniqueFd> make_shm(const std::string& name, size_t len) {
    UniqueFd fd(memfd_create(name.c_str(), MFD_CLOEXEC));
    if (!fd) return fail(errno, "creating " + name);
    if (ftruncate(fd.get(), off_t(len)) != 0) return fail(errno, "sizing " + name);
    return fd;
}

template <class T>
Result<T*> map_shm(int fd, size_t len, const std::string& name) {
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return fail(errno, "mapping " + name);
    return static_cast<T*>(p);
}

Reply status(int32_t s) {
    Reply r;
    r.status = s;
    return r;
}

void publish(uint32_t* word, uint32_t value) {
    // release: the state a reader fetches after seeing VALUE is in place.
    std::atomic_ref<uint32_t>(*word).store(value, std::memory_order_release);
}

void kick(const UniqueFd& efd) {
    uint64_t one = 1;
    (void)!write(efd.get(), &one, sizeof one);
}

}  // namespace

Result<Hypervisor> Hypervisor::create(Hooks hooks) {
    Hypervisor h;
    h.hooks_ = std::move(hooks);
    XNET_TRY_ASSIGN(h.domains_fd_, make_shm("xnet-sim-domains", kMaxDomains * 4));
    XNET_TRY_ASSIGN(h.epochs_,
                    map_shm<uint32_t>(h.domains_fd_.get(), kMaxDomains * 4, "the domain table"));
    return h;
}

Hypervisor::~Hypervisor() {
    if (!domains_fd_) return;  // moved from
    for (auto& [id, d] : domains_)
        unmap_shared(d);
    munmap(epochs_, kMaxDomains * 4);
}

// The daemon's own views of a domain's tables (the memory it never maps).
void Hypervisor::unmap_shared(Domain& d) {
    if (d.entries) munmap(d.entries, kGrantEntries * sizeof(grant_entry_v1));
    if (d.active) munmap(d.active, sizeof(ActiveTable));
    if (d.gen) munmap(d.gen, kMaxPorts * 4);
    d.entries = nullptr;
    d.active = nullptr;
    d.gen = nullptr;
}

std::vector<DomId> Hypervisor::domains() const {
    std::vector<DomId> out;
    for (const auto& [id, d] : domains_)
        out.push_back(id);
    return out;
}

Hypervisor::Domain* Hypervisor::find(DomId dom) {
    auto it = domains_.find(dom);
    return it == domains_.end() ? nullptr : &it->second;
}

Status Hypervisor::create_domain(DomId dom) {
    auto what = fmt::format("creating domain {}", dom);
    if (dom >= kMaxDomains) return fail(EINVAL, what + ": id out of range");
    if (exists(dom)) return fail(EEXIST, what + ": it exists");
    Domain d;
    std::string tag = fmt::format("xnet-sim-dom{}", dom);
    auto mem = make_shm(tag + "-memory", size_t(kMemPages) * kPageBytes);
    auto ent = make_shm(tag + "-grants", kGrantEntries * sizeof(grant_entry_v1));
    auto act = make_shm(tag + "-active", sizeof(ActiveTable));
    auto gen = make_shm(tag + "-evtchn", kMaxPorts * 4);
    for (auto* r : {&mem, &ent, &act, &gen}) {
        if (!*r) return Unexpected{r->error()};
    }
    auto pe = map_shm<grant_entry_v1>(ent->get(), kGrantEntries * sizeof(grant_entry_v1), tag);
    auto pa = map_shm<ActiveTable>(act->get(), sizeof(ActiveTable), tag);
    auto pg = map_shm<uint32_t>(gen->get(), kMaxPorts * 4, tag);
    d.entries = pe ? *pe : nullptr;
    d.active = pa ? *pa : nullptr;
    d.gen = pg ? *pg : nullptr;
    if (!pe || !pa || !pg) {
        unmap_shared(d);
        return fail(ENOMEM, what);
    }
    d.mem = std::move(*mem);
    d.entries_fd = std::move(*ent);
    d.active_fd = std::move(*act);
    d.gen_fd = std::move(*gen);
    d.ref_used.assign(kGrantEntries, false);
    d.frame_used.assign(kMemPages, false);
    d.ports.resize(kMaxPorts);
    d.epoch = next_epoch_++;
    Domain& added = domains_.emplace(dom, std::move(d)).first->second;
    if (hooks_.on_create) {
        if (auto r = hooks_.on_create(dom); !r) {
            unmap_shared(added);
            domains_.erase(dom);
            return r;
        }
    }
    publish(&epochs_[dom], added.epoch);
    return {};
}

// Destruction: peers' channels fall back to unbound and are woken, as on
// Xen; the domain's own handles die with it (the caller closes them).
Status Hypervisor::destroy_domain(DomId dom) {
    Domain* d = find(dom);
    if (!d) return fail(ESRCH, fmt::format("destroying domain {}: no such domain", dom));
    publish(&epochs_[dom], 0);
    for (auto& [id, other] : domains_) {
        if (id == dom) continue;
        for (uint32_t p = 1; p < kMaxPorts; ++p) {
            Port& port = other.ports[p];
            if (port.state == Port::kInterdomain && port.remote == dom) {
                port.state = Port::kUnbound;
                bump(other, p);
                kick(port.efd);
            }
        }
    }
    unmap_shared(*d);
    domains_.erase(dom);
    if (hooks_.on_destroy) hooks_.on_destroy(dom);
    return {};
}

void Hypervisor::bump(Domain& d, uint32_t port) {
    uint32_t* g = &d.gen[port];
    publish(g, std::atomic_ref<uint32_t>(*g).load(std::memory_order_relaxed) + 1);
}

Reply Hypervisor::handle(HandleId h, DomId dom, const Request& req, std::vector<int>& fds) {
    Domain* self = find(dom);
    if (!self) return status(-ESRCH);
    if (req.count > kMaxBatch) return status(-EINVAL);
    switch (req.op) {
        case Op::hello: {
            fds = {domains_fd_.get(), self->gen_fd.get()};
            Reply r;
            r.a = dom;
            return r;
        }
        case Op::domain_fds: {
            Domain* d = find(req.a);
            if (!d) return status(-ESRCH);
            fds = {d->mem.get(), d->entries_fd.get(), d->active_fd.get()};
            Reply r;
            r.a = d->epoch;
            return r;
        }
        case Op::share:
            return share(h, *self, req);
        case Op::unshare:
            return unshare(h, *self, req);
        case Op::map:
            return map(h, dom, req);
        case Op::unmap:
            return unmap(h, req);
        case Op::alloc_unbound:
            return alloc_unbound(h, dom, req, fds);
        case Op::bind_interdomain:
            return bind_interdomain(h, dom, req, fds);
        case Op::unbind:
            return unbind(h, dom, req.a);
        case Op::peer:
            return peer(h, dom, req.a, fds);
        case Op::domain_create:
        case Op::domain_destroy: {
            // The toolstack's operations: dom0 only.
            if (dom != 0) return status(-EPERM);
            if (req.a == 0) return status(-EINVAL);
            auto r = req.op == Op::domain_create ? create_domain(req.a) : destroy_domain(req.a);
            return status(r ? 0 : -r.error().code);
        }
        case Op::domain_list: {
            if (dom != 0) return status(-EPERM);
            Reply r;
            for (auto it = domains_.lower_bound(DomId(std::min<uint32_t>(req.a, 0xffff)));
                 it != domains_.end(); ++it) {
                if (r.count == kMaxBatch) {
                    r.b = 1;  // more: the caller asks again from the next id
                    break;
                }
                r.refs[r.count++] = it->first;
            }
            return r;
        }
    }
    return status(-ENOSYS);
}

// --- grants --------------------------------------------------------------

// Like gntalloc: fresh refs and frames, granted to REMOTE.
Reply Hypervisor::share(HandleId h, Domain& d, const Request& req) {
    if (req.count == 0) return status(-EINVAL);
    Reply r;
    uint32_t ref = kFirstRef, frame = 0;
    for (uint32_t i = 0; i < req.count; ++i) {
        while (ref < kGrantEntries && d.ref_used[ref])
            ++ref;
        while (frame < kMemPages && d.frame_used[frame])
            ++frame;
        if (ref == kGrantEntries || frame == kMemPages) {
            for (uint32_t j = 0; j < i; ++j) {
                d.ref_used[r.refs[j]] = false;
                d.frame_used[r.frames[j]] = false;
                d.ref_frame.erase(r.refs[j]);
                d.ref_owner.erase(r.refs[j]);
            }
            return status(-ENOSPC);
        }
        d.ref_used[ref] = d.frame_used[frame] = true;
        d.ref_frame[ref] = frame;
        d.ref_owner[ref] = h;
        r.refs[i] = ref;
        r.frames[i] = frame;
    }
    for (uint32_t i = 0; i < req.count; ++i) {
        simgrant::grant_access(d.entries, r.refs[i], uint16_t(req.a), r.frames[i], req.b == 0);
    }
    r.count = req.count;
    return r;
}

// Ends access now, or later if still mapped (Linux defers the same way).
void Hypervisor::end_share(Domain& d, uint32_t ref) {
    if (!simgrant::end_access(d.entries, ref)) {
        d.deferred.push_back(ref);
        return;
    }
    uint32_t frame = d.ref_frame[ref];
    // Give the page back zeroed, so a later share cannot leak it.
    (void)fallocate(d.mem.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    off_t(frame) * kPageBytes, kPageBytes);
    d.ref_used[ref] = false;
    d.frame_used[frame] = false;
    d.ref_frame.erase(ref);
    d.ref_owner.erase(ref);
}

Reply Hypervisor::unshare(HandleId h, Domain& d, const Request& req) {
    for (uint32_t i = 0; i < req.count; ++i) {
        uint32_t ref = req.refs[i];
        auto it = d.ref_owner.find(ref);
        if (it == d.ref_owner.end() || it->second != h) return status(-EINVAL);
    }
    for (uint32_t i = 0; i < req.count; ++i) {
        d.ref_owner[req.refs[i]] = 0;  // no longer the handle's
        end_share(d, req.refs[i]);
    }
    return status(0);
}

void Hypervisor::retry_deferred() {
    for (auto& [id, d] : domains_) {
        std::vector<uint32_t> again = std::move(d.deferred);
        d.deferred.clear();
        for (uint32_t ref : again)
            end_share(d, ref);
    }
}

// GNTTABOP_map_grant_ref for a batch, all or nothing; the first failure's
// index goes back in A.
Reply Hypervisor::map(HandleId h, DomId dom, const Request& req) {
    Domain* g = find(req.a);
    if (!g) return status(GNTST_bad_domain);
    simgrant::LockedTable t({g->entries, g->active});
    bool write = req.b != 0;
    Reply r;
    for (uint32_t i = 0; i < req.count; ++i) {
        int16_t st = t.acquire(req.refs[i], uint16_t(dom), write, &r.frames[i]);
        if (st != GNTST_okay) {
            for (uint32_t j = 0; j < i; ++j)
                t.release(req.refs[j], write);
            r.status = st;
            r.a = req.refs[i];
            return r;
        }
    }
    auto& pins = pins_[h];
    for (uint32_t i = 0; i < req.count; ++i)
        pins.push_back(Pin{req.a, g->epoch, req.refs[i], write});
    r.count = req.count;
    return r;
}

Reply Hypervisor::unmap(HandleId h, const Request& req) {
    auto& pins = pins_[h];
    for (uint32_t i = 0; i < req.count; ++i) {
        auto it = std::find_if(pins.begin(), pins.end(), [&](const Pin& p) {
            return p.granter == req.a && p.ref == req.refs[i];
        });
        if (it == pins.end()) continue;
        Domain* g = find(it->granter);
        if (g && g->epoch == it->epoch) {
            simgrant::LockedTable({g->entries, g->active}).release(it->ref, it->write);
        }
        pins.erase(it);
    }
    retry_deferred();
    return status(0);
}

// --- event channels ----------------------------------------------------------

Reply Hypervisor::alloc_unbound(HandleId h, DomId dom, const Request& req, std::vector<int>& fds) {
    if (!exists(req.a)) return status(-ESRCH);
    Domain& d = *find(dom);
    uint32_t p = 1;
    while (p < kMaxPorts && d.ports[p].state != Port::kFree)
        ++p;
    if (p == kMaxPorts) return status(-ENOSPC);
    UniqueFd efd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!efd) return status(-errno);
    Port& port = d.ports[p];
    port = Port{Port::kUnbound, h, req.a, 0, std::move(efd)};
    bump(d, p);
    fds = {port.efd.get()};
    Reply r;
    r.a = p;
    r.b = d.gen[p];
    return r;
}

// evtchn_bind_interdomain(): the remote port must be unbound and offered to
// this domain; the new local port starts pending, since notifications sent
// to the unbound port may have been lost.
Reply Hypervisor::bind_interdomain(HandleId h, DomId dom, const Request& req,
                                   std::vector<int>& fds) {
    Domain* rd = find(req.a);
    if (!rd) return status(-ESRCH);
    uint32_t rp = req.b;
    if (rp == 0 || rp >= kMaxPorts) return status(-EINVAL);
    Port& remote = rd->ports[rp];
    if (remote.state != Port::kUnbound || remote.remote != dom) return status(-EINVAL);
    Domain& d = *find(dom);
    uint32_t p = 1;
    while (p < kMaxPorts && (d.ports[p].state != Port::kFree || (&d == rd && p == rp)))
        ++p;
    if (p == kMaxPorts) return status(-ENOSPC);
    UniqueFd efd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!efd) return status(-errno);
    Port& local = d.ports[p];
    local = Port{Port::kInterdomain, h, req.a, rp, std::move(efd)};
    remote.state = Port::kInterdomain;
    remote.remote = dom;
    remote.remote_port = p;
    bump(d, p);
    bump(*rd, rp);
    kick(local.efd);
    fds = {local.efd.get(), remote.efd.get()};
    Reply r;
    r.a = p;
    r.b = d.gen[p];
    return r;
}

void Hypervisor::free_port(Domain& d, uint32_t p) {
    Port& port = d.ports[p];
    if (port.state == Port::kInterdomain) {
        // evtchn_close(): the other end becomes unbound, offered to us again.
        if (Domain* rd = find(port.remote)) {
            Port& other = rd->ports[port.remote_port];
            if (other.state == Port::kInterdomain) {
                other.state = Port::kUnbound;
                bump(*rd, port.remote_port);
            }
        }
    }
    port = Port{};
    bump(d, p);
}

Reply Hypervisor::unbind(HandleId h, DomId dom, uint32_t p) {
    Domain& d = *find(dom);
    if (p == 0 || p >= kMaxPorts || d.ports[p].state == Port::kFree || d.ports[p].owner != h) {
        return status(-ENOTCONN);  // the Linux evtchn driver's answer
    }
    free_port(d, p);
    return status(0);
}

Reply Hypervisor::peer(HandleId h, DomId dom, uint32_t p, std::vector<int>& fds) {
    const Domain& d = *find(dom);
    if (p == 0 || p >= kMaxPorts || d.ports[p].owner != h) return status(-ENOTCONN);
    const Port& port = d.ports[p];
    Reply r;
    r.b = d.gen[p];
    if (port.state == Port::kInterdomain) {
        if (Domain* rd = find(port.remote)) fds = {rd->ports[port.remote_port].efd.get()};
    }
    return r;
}

void Hypervisor::close_handle(HandleId h) {
    if (auto it = pins_.find(h); it != pins_.end()) {
        for (const Pin& pin : it->second) {
            Domain* g = find(pin.granter);
            if (g && g->epoch == pin.epoch) {
                simgrant::LockedTable({g->entries, g->active}).release(pin.ref, pin.write);
            }
        }
        pins_.erase(it);
    }
    for (auto& [id, d] : domains_) {
        for (uint32_t p = 1; p < kMaxPorts; ++p) {
            if (d.ports[p].state != Port::kFree && d.ports[p].owner == h) free_port(d, p);
        }
        std::vector<uint32_t> refs;
        for (const auto& [ref, owner] : d.ref_owner) {
            if (owner == h) refs.push_back(ref);
        }
        for (uint32_t ref : refs) {
            d.ref_owner[ref] = 0;
            end_share(d, ref);
        }
    }
    retry_deferred();
}

}  // namespace xnet::sim
