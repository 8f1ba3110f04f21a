// Grant-entry checks with Xen's v1 semantics, shared by the sim daemon (map,
// unmap) and the sim platform client (grant copy): what Xen's grant_table.c
// does in _set_status_v1() and reduce_status_for_pin(), on entries that live
// in shared memory.
#pragma once

#include <cstdint>

#include "platform/sim/sim_proto.h"

#include <xen/grant_table.h>
#include <xen/xen.h>

namespace xnet::simgrant {

// A domain's grant table and active entries, as mapped into this process.
struct Table {
    grant_entry_v1* entries = nullptr;
    simproto::ActiveTable* active = nullptr;
};

// Pin operations on one table, holding its lock from construction to
// destruction. Hold one at a time: a thread that needs two tables takes
// them in turn, so there is no lock order to get wrong.
class LockedTable {
  public:
    explicit LockedTable(Table t);
    ~LockedTable();
    LockedTable(const LockedTable&) = delete;
    LockedTable& operator=(const LockedTable&) = delete;

    // Pins REF for domain SELF, for reading or for writing: checks the
    // entry is GTF_permit_access, granted to SELF, writable if WRITE, and
    // that its frame is inside the granter's memory; sets GTF_reading (and
    // GTF_writing) on first pin. Returns GNTST_okay with *FRAME set, or the
    // GNTST_* status Xen gives.
    int16_t acquire(uint32_t ref, uint16_t self, bool write, uint32_t* frame);

    // Drops a pin taken by acquire(); clears the in-use flags on the last.
    void release(uint32_t ref, bool write);

  private:
    Table t_;
};

// The granter's side (gnttab_end_foreign_access_ref): revokes REF unless it
// is mapped or being copied. Returns false, leaving the entry, if in use.
bool end_access(grant_entry_v1* entries, uint32_t ref);

// Writes an entry the way a granting guest does: domid and frame first,
// then the flags (a reader that sees GTF_permit_access sees the rest).
void grant_access(grant_entry_v1* entries, uint32_t ref, uint16_t dom, uint32_t frame,
                  bool readonly);

}  // namespace xnet::simgrant
