#include "xnet/sim_grant.h"

#include <atomic>

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

// A spinlock in shared memory; held only across a few loads and stores.
class Lock {
  public:
    explicit Lock(simproto::ActiveEntry& a) : a_(a) {
        while (a_.lock.exchange(1, std::memory_order_acquire) != 0) {
            while (a_.lock.load(std::memory_order_relaxed) != 0)
                __builtin_ia32_pause();
        }
    }
    ~Lock() { a_.lock.store(0, std::memory_order_release); }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

  private:
    simproto::ActiveEntry& a_;
};

}  // namespace

int16_t acquire(Table t, uint32_t ref, uint16_t self, bool write, uint32_t* frame) {
    if (ref >= simproto::kGrantEntries) return GNTST_bad_gntref;
    grant_entry_v1& e = t.entries[ref];
    simproto::ActiveEntry& a = t.active[ref];
    Lock lock(a);
    auto word = combo(e);
    uint16_t set = GTF_reading | (write ? GTF_writing : 0);
    uint32_t old = word.load(std::memory_order_acquire);
    for (;;) {
        uint16_t f = flags_of(old);
        // _set_status_v1(): wrong type, another domain's grant, or a write
        // through a read-only one are all "general error".
        if ((f & (GTF_type_mask | GTF_sub_page)) != GTF_permit_access) return GNTST_general_error;
        if (domid_of(old) != self) return GNTST_general_error;
        if (write && (f & GTF_readonly)) return GNTST_general_error;
        // acquire: the frame is read after the flags that publish it.
        if (word.compare_exchange_weak(old, old | set, std::memory_order_acq_rel)) break;
    }
    uint32_t fr = std::atomic_ref<uint32_t>(e.frame).load(std::memory_order_relaxed);
    if (fr >= simproto::kMemPages) {
        // The in-use flags go back as they were before this pin.
        if (a.read_pins == 0) word.fetch_and(~uint32_t(GTF_reading), std::memory_order_release);
        if (write && a.write_pins == 0) {
            word.fetch_and(~uint32_t(GTF_writing), std::memory_order_release);
        }
        return GNTST_bad_page;
    }
    ++a.read_pins;
    if (write) ++a.write_pins;
    *frame = fr;
    return GNTST_okay;
}

void release(Table t, uint32_t ref, bool write) {
    if (ref >= simproto::kGrantEntries) return;
    simproto::ActiveEntry& a = t.active[ref];
    Lock lock(a);
    auto word = combo(t.entries[ref]);
    if (write && a.write_pins > 0 && --a.write_pins == 0) {
        word.fetch_and(~uint32_t(GTF_writing), std::memory_order_release);
    }
    if (a.read_pins > 0 && --a.read_pins == 0) {
        word.fetch_and(~uint32_t(GTF_reading), std::memory_order_release);
    }
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
