// Asking the CPU for a cache line ahead of a write.
//
// Pages shared with the other end (a pool page the backend copied out of,
// a ring slot it answered in) are, when we come back to write them, held
// by the other CPU's cache. A plain store then waits for the line to be
// fetched and the other copy invalidated, and the stores queued behind it
// wait too: at 64-byte frames that one fetch per frame was half of the
// frontend's time (docs/performance.md, "The 64-byte regression").
// PREFETCHW starts that fetch, with ownership, a few frames early.
#pragma once

namespace xnet {

inline void prefetch_for_write(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
    // __builtin_prefetch(p, 1) emits PREFETCHW only when the target flags
    // say the CPU has it (-mprfchw); otherwise a read prefetch, which
    // brings the line in shared and leaves the store to wait. Every x86-64
    // CPU decodes the instruction; those without it treat it as a NOP.
    asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p, 1);
#endif
}

}  // namespace xnet
