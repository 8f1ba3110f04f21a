// The protocol between libxnet's sim platform and the xnet-sim daemon, and
// the shared-memory layouts both sides use. Slow-path operations (sharing,
// mapping, binding) are requests on a per-domain SOCK_SEQPACKET socket whose
// connection *is* the handle, as a libxengnttab or libxenevtchn handle is an
// open file: closing it releases what it holds. Hot-path operations (grant
// copy, notify) touch only shared memory and eventfds.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "platform/gnttab.h"

namespace xnet::simproto {

constexpr uint32_t kPageBytes = uint32_t(kPageSize);  // a domain's frames are Xen pages
constexpr uint32_t kMemPages = 16384;                 // a domain's memory: 64 MiB, sparse
constexpr uint32_t kGrantEntries = 16384;             // 32 v1 grant frames, Xen's default
constexpr uint32_t kMaxPorts = 4096;                  // event channels per domain (2-level ABI)
constexpr uint32_t kMaxDomains = 32752;               // DOMID_FIRST_RESERVED
constexpr uint32_t kMaxBatch = 256;                   // refs per map/share request

// Per-ref bookkeeping that Xen keeps in the hypervisor (the "active" grant
// entry): pin counts, and the frame and domain fixed by the first pin
// (Xen's act->mfn and act->domid), so a granter rewriting its entry while
// it is in use redirects nothing. The granting domain never touches it.
struct ActiveEntry {
    uint16_t read_pins;  // every pin reads; writers also count here
    uint16_t write_pins;
    uint32_t frame;
    uint16_t domid;
    uint16_t pad;
};
static_assert(sizeof(ActiveEntry) == 12);

// A domain's active entries and the one lock that guards them all, shared
// by every process that maps or copies its grants. Xen has a per-table
// lock and a lock per entry; one lock per table lets a batch of pins on
// one domain take it once, which is most of what a grant copy costs.
struct ActiveTable {
    std::atomic<uint32_t> lock;
    uint32_t pad[15];  // the lock has its own cache line
    ActiveEntry entries[kGrantEntries];
};

enum class Op : uint32_t {
    hello = 1,         // -> fds: domains table; a.. = own domid
    domain_fds,        // a=domid -> fds: memory, grant table, active table; a=epoch
    share,             // a=remote domid, b=writable, count -> refs[], frames[]
    unshare,           // count, refs[] -> status (EBUSY: still mapped, deferred)
    map,               // a=granter, b=writable, count, refs[] -> frames[], status GNTST
    unmap,             // a=granter, count, refs[]
    alloc_unbound,     // a=remote domid -> a=port, b=generation; fd: the port's eventfd
    bind_interdomain,  // a=remote domid, b=remote port -> a=port, b=gen; fds: own, peer
    unbind,            // a=port
    peer,              // a=port -> b=gen; fd: the peer port's eventfd (none if unbound)
    domain_create,     // dom0 only: a=domid
    domain_destroy,    // dom0 only: a=domid
    domain_list,       // a = the first domid to list -> count, refs[] = domids from a on
                       // (at most kMaxBatch), b = 1 if there are more
};

struct Request {
    Op op;
    uint32_t a = 0, b = 0;
    uint32_t count = 0;
    uint32_t refs[kMaxBatch] = {};
};

struct Reply {
    int32_t status = 0;  // 0, -errno, or a GNTST_* code for grant operations
    uint32_t a = 0, b = 0;
    uint32_t count = 0;
    uint32_t refs[kMaxBatch] = {};
    uint32_t frames[kMaxBatch] = {};
};

// Paths inside the sim's directory.
// The sim's directory as its clients find it: XNET_SIM_DIR if set and not
// empty, else /run/xnet-sim (the one resolver: xnet-sim's --dir aside).
inline std::string dir_from_env() {
    const char* env = std::getenv("XNET_SIM_DIR");
    return env && *env ? env : "/run/xnet-sim";
}

inline std::string domain_dir(const std::string& dir, uint32_t dom) {
    return dir + "/dom" + std::to_string(dom);
}
inline std::string xenstore_socket(const std::string& dir, uint32_t dom) {
    return domain_dir(dir, dom) + "/xenstore.sock";
}
inline std::string platform_socket(const std::string& dir, uint32_t dom) {
    return domain_dir(dir, dom) + "/platform.sock";
}

}  // namespace xnet::simproto
