// Grant tables: mapping and copying another domain's granted pages
// (libxengnttab), and granting one's own pages to another domain
// (libxengntshr). Mappings and shares are RAII owners.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "platform/evtchn.h"
#include "runtime/error.h"

namespace xnet {

using GrantRef = uint32_t;
// XEN_PAGE_SIZE: what a grant covers, and so a ring's page and a buffer's.
// The one definition; netif's kPage and the sim's layouts name it.
constexpr size_t kPageSize = 4096;

class GrantTable;
class GrantShare;

// Granted pages of another domain, mapped contiguously.
class GrantMapping {
  public:
    GrantMapping() = default;
    GrantMapping(GrantTable* owner, void* addr, DomId dom, std::vector<GrantRef> refs,
                 bool writable)
        : owner_(owner), addr_(addr), dom_(dom), refs_(std::move(refs)), writable_(writable) {}
    GrantMapping(GrantMapping&& o) noexcept { *this = std::move(o); }
    GrantMapping& operator=(GrantMapping&& o) noexcept;
    ~GrantMapping() { reset(); }

    void* addr() const { return addr_; }
    size_t pages() const { return refs_.size(); }
    DomId dom() const { return dom_; }
    const std::vector<GrantRef>& refs() const { return refs_; }
    bool writable() const { return writable_; }
    explicit operator bool() const { return addr_ != nullptr; }
    void reset();

  private:
    GrantTable* owner_ = nullptr;
    void* addr_ = nullptr;
    DomId dom_ = 0;
    std::vector<GrantRef> refs_;
    bool writable_ = false;
};

// One side of a grant copy: a foreign granted page, or local memory.
struct CopySide {
    bool foreign = false;
    void* virt = nullptr;  // local side
    GrantRef ref = 0;      // foreign side
    uint16_t offset = 0;
    DomId dom = 0;
};

// Mirrors xengnttab_grant_copy_segment: STATUS gets a GNTST_* code.
struct CopySegment {
    CopySide src, dst;
    uint16_t len = 0;
    int16_t status = 0;
};

class GrantTable {
  public:
    virtual ~GrantTable() = default;
    GrantTable() = default;
    GrantTable(const GrantTable&) = delete;
    GrantTable& operator=(const GrantTable&) = delete;

    virtual Result<GrantMapping> map(DomId dom, std::span<const GrantRef> refs, bool writable) = 0;
    // Performs every segment; each one's status says whether it happened.
    // Fails as a whole only when the operation could not be issued at all.
    virtual Status copy(std::span<CopySegment> segs) = 0;
    // DOM's devices are gone here: whatever is kept to reach its grants
    // quickly may go (found again if it is named later). Not while a copy
    // runs. Nothing is kept on Xen; xnet-sim keeps each domain's memory.
    virtual void forget(DomId dom) { (void)dom; }

  protected:
    friend class GrantMapping;
    virtual void unmap(GrantMapping& m) = 0;
};

// Own pages granted to another domain; access ends on destruction (deferred
// by the platform while the peer still maps them, as Linux does).
class SharedPages {
  public:
    SharedPages() = default;
    SharedPages(GrantShare* owner, void* addr, DomId dom, std::vector<GrantRef> refs)
        : owner_(owner), addr_(addr), dom_(dom), refs_(std::move(refs)) {}
    SharedPages(SharedPages&& o) noexcept { *this = std::move(o); }
    SharedPages& operator=(SharedPages&& o) noexcept;
    ~SharedPages() { reset(); }

    void* addr() const { return addr_; }
    size_t pages() const { return refs_.size(); }
    DomId dom() const { return dom_; }
    const std::vector<GrantRef>& refs() const { return refs_; }
    explicit operator bool() const { return addr_ != nullptr; }
    void reset();

  private:
    GrantShare* owner_ = nullptr;
    void* addr_ = nullptr;
    DomId dom_ = 0;
    std::vector<GrantRef> refs_;
};

class GrantShare {
  public:
    virtual ~GrantShare() = default;
    GrantShare() = default;
    GrantShare(const GrantShare&) = delete;
    GrantShare& operator=(const GrantShare&) = delete;

    virtual Result<SharedPages> share(DomId dom, size_t count, bool writable) = 0;

  protected:
    friend class SharedPages;
    virtual void unshare(SharedPages& s) = 0;
};

// "GNTST_bad_gntref" for -3, as in grant_table.h.
const char* gntst_name(int16_t status);

}  // namespace xnet
