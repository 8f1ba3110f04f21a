#include "platform/sim/sim_grant.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include <xen/grant_table.h>
#include <xen/xen.h>

namespace xnet::simgrant {
namespace {

// The flags and the domid form one 32-bit word (flags low, domid high on
// x86), updated together by cmpxchg as Xen does with its "scombo".
std::atomic_ref<uint32_t> combo(grant_entry_v1& e) {
    static_assert(offsetof(grant_entry_v1, flags) == 0 && offsetof(grant_entry_v1, domid) == 2);
    return std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(&e));
}

uint16_t flags_of(uint32_t word) {
    return uint16_t(word & 0xffff);
}
uint16_t domid_of(uint32_t word) {
    return uint16_t(word >> 16);
}

}  // namespace

namespace {

// This process's pid, cached (getpid() is a system call) and forgotten in
// a forked child.
std::atomic<uint32_t> cached_pid{0};
[[maybe_unused]] const int fork_hook =
    pthread_atfork(nullptr, nullptr, [] { cached_pid.store(0, std::memory_order_relaxed); });

uint32_t self_pid() {
    uint32_t pid = cached_pid.load(std::memory_order_relaxed);
    if (pid == 0) {
        pid = uint32_t(getpid());
        cached_pid.store(pid, std::memory_order_relaxed);
    }
    return pid;
}

bool process_gone(uint32_t pid) {
    return kill(pid_t(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

// A spinlock in shared memory whose word holds the holder's pid: a sim
// client killed while holding it (it is held for a run of pin operations,
// a few loads and stores each) would otherwise stop every other user of
// the domain's grants, the daemon included, so a waiter that has spun for
// a while checks and takes the lock over from a dead holder.
LockedTable::LockedTable(Table t) : t_(t) {
    auto& lock = t_.active->lock;
    const uint32_t me = self_pid();
    for (uint32_t spins = 1;; ++spins) {
        uint32_t holder = 0;
        if (lock.compare_exchange_weak(holder, me, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
            return;
        }
        if (holder != 0 && spins % (1u << 16) == 0 && process_gone(holder) &&
            lock.compare_exchange_strong(holder, me, std::memory_order_acquire)) {
            return;
        }
        __builtin_ia32_pause();
    }
}

LockedTable::~LockedTable() {
    t_.active->lock.store(0, std::memory_order_release);
}

int16_t LockedTable::acquire(uint32_t ref, uint16_t self, bool write, uint32_t* frame) {
    if (ref >= simproto::kGrantEntries) return GNTST_bad_gntref;
    simproto::ActiveEntry& a = t_.active->entries[ref];
    // Xen's pin counters are bytes with an overflow check; ours are wider.
    if (a.read_pins == UINT16_MAX || (write && a.write_pins == UINT16_MAX)) {
        return GNTST_general_error;
    }
    const bool first = a.read_pins == 0;
    if (first || (write && a.write_pins == 0)) {
        // _set_status_v1(): the entry is checked and the in-use flags set
        // in one cmpxchg, so the granter's end-access (a cmpxchg that needs
        // the flags clear) either sees them or has already revoked.
        grant_entry_v1& e = t_.entries[ref];
        auto word = combo(e);
        uint16_t set = GTF_reading | (write ? GTF_writing : 0);
        uint32_t old = word.load(std::memory_order_acquire);
        for (;;) {
            uint16_t f = flags_of(old);
            // Wrong type, another domain's grant, or a write through a
            // read-only one are all "general error".
            if ((f & (GTF_type_mask | GTF_sub_page)) != GTF_permit_access) {
                return GNTST_general_error;
            }
            if (domid_of(old) != self) return GNTST_general_error;
            if (write && (f & GTF_readonly)) return GNTST_general_error;
            // acquire: the frame is read after the flags that publish it.
            if (word.compare_exchange_weak(old, old | set, std::memory_order_acq_rel)) break;
        }
        if (first) {
            uint32_t fr = std::atomic_ref<uint32_t>(e.frame).load(std::memory_order_relaxed);
            if (fr >= simproto::kMemPages) {
                word.fetch_and(~uint32_t(set), std::memory_order_release);
                return GNTST_bad_page;
            }
            a.frame = fr;
            a.domid = self;
        }
    } else if (a.domid != self) {
        // Pinned already, by the domain the entry names; its flags are set,
        // so a granter keeping to the protocol cannot have changed it.
        return GNTST_general_error;
    }
    ++a.read_pins;
    if (write) ++a.write_pins;
    *frame = a.frame;
    return GNTST_okay;
}

void LockedTable::release(uint32_t ref, bool write) {
    if (ref >= simproto::kGrantEntries) return;
    simproto::ActiveEntry& a = t_.active->entries[ref];
    uint16_t clear = 0;
    if (write && a.write_pins > 0 && --a.write_pins == 0) clear |= GTF_writing;
    if (a.read_pins > 0 && --a.read_pins == 0) clear |= GTF_reading | GTF_writing;
    if (clear == 0) return;
    // A load and a store rather than a locked fetch_and: the granter writes
    // an entry only while its in-use flags are clear (end-access is a
    // cmpxchg that fails on them) and other pinners wait for the lock, so
    // nothing changes the word in between. A granter breaking the protocol
    // can lose its own write, nothing more.
    auto word = combo(t_.entries[ref]);
    word.store(word.load(std::memory_order_relaxed) & ~uint32_t(clear), std::memory_order_release);
}

bool end_access(grant_entry_v1* entries, uint32_t ref) {
    auto word = combo(entries[ref]);
    uint32_t old = word.load(std::memory_order_acquire);
    do {
        if (flags_of(old) & (GTF_reading | GTF_writing)) return false;
    } while (!word.compare_exchange_weak(old, old & 0xffff0000u, std::memory_order_acq_rel));
    return true;
}

void grant_access(grant_entry_v1* entries, uint32_t ref, uint16_t dom, uint32_t frame,
                  bool readonly) {
    grant_entry_v1& e = entries[ref];
    std::atomic_ref<uint32_t>(e.frame).store(frame, std::memory_order_relaxed);
    uint16_t flags = GTF_permit_access | (readonly ? GTF_readonly : 0);
    // release: domid and frame /then/ the flags that make them valid.
    combo(e).store(uint32_t(dom) << 16 | flags, std::memory_order_release);
}

}  // namespace xnet::simgrant
