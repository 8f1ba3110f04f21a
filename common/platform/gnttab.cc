// The RAII owners of grant mappings and shares, and status names.
#include "platform/gnttab.h"

#include <utility>

#include <xen/grant_table.h>
#include <xen/xen.h>

namespace xnet {

GrantMapping& GrantMapping::operator=(GrantMapping&& o) noexcept {
    if (this != &o) {
        reset();
        owner_ = std::exchange(o.owner_, nullptr);
        addr_ = std::exchange(o.addr_, nullptr);
        dom_ = o.dom_;
        refs_ = std::move(o.refs_);
        writable_ = o.writable_;
    }
    return *this;
}

void GrantMapping::reset() {
    if (addr_ && owner_) owner_->unmap(*this);
    addr_ = nullptr;
    owner_ = nullptr;
    refs_.clear();
}

SharedPages& SharedPages::operator=(SharedPages&& o) noexcept {
    if (this != &o) {
        reset();
        owner_ = std::exchange(o.owner_, nullptr);
        addr_ = std::exchange(o.addr_, nullptr);
        dom_ = o.dom_;
        refs_ = std::move(o.refs_);
    }
    return *this;
}

void SharedPages::reset() {
    if (addr_ && owner_) owner_->unshare(*this);
    addr_ = nullptr;
    owner_ = nullptr;
    refs_.clear();
}

const char* gntst_name(int16_t status) {
    switch (status) {
        case GNTST_okay:
            return "GNTST_okay";
        case GNTST_general_error:
            return "GNTST_general_error";
        case GNTST_bad_domain:
            return "GNTST_bad_domain";
        case GNTST_bad_gntref:
            return "GNTST_bad_gntref";
        case GNTST_bad_handle:
            return "GNTST_bad_handle";
        case GNTST_bad_virt_addr:
            return "GNTST_bad_virt_addr";
        case GNTST_bad_dev_addr:
            return "GNTST_bad_dev_addr";
        case GNTST_no_device_space:
            return "GNTST_no_device_space";
        case GNTST_permission_denied:
            return "GNTST_permission_denied";
        case GNTST_bad_page:
            return "GNTST_bad_page";
        case GNTST_bad_copy_arg:
            return "GNTST_bad_copy_arg";
        case GNTST_address_too_big:
            return "GNTST_address_too_big";
        case GNTST_eagain:
            return "GNTST_eagain";
        case GNTST_no_space:
            return "GNTST_no_space";
        default:
            return "GNTST_unknown";
    }
}

}  // namespace xnet
