// The Xen platform: libxenevtchn, libxengnttab and libxengntshr behind
// xnet's interfaces. Exercised for real by tests/xen (Xen under QEMU).
#include <fcntl.h>
#include <sys/mman.h>

#include <cerrno>
#include <vector>

#include <fmt/format.h>
// The libraries' headers have no C++ linkage guards.
extern "C" {
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>
}

#include "platform/xen/xen_platform.h"
#include "runtime/blocking.h"

namespace xnet::xen {
namespace {

class XenEventChannels final : public EventChannels {
  public:
    explicit XenEventChannels(xenevtchn_handle* h) : h_(h) {}
    ~XenEventChannels() override {
        if (xc_) xc_interface_close(xc_);
        xenevtchn_close(h_);
    }

    int fd() const override { return xenevtchn_fd(h_); }

    Result<Port> alloc_unbound(DomId remote) override {
        blocking::Scope wait(blocking::Service::events);
        xenevtchn_port_or_error_t p = xenevtchn_bind_unbound_port(h_, remote);
        if (p < 0)
            return fail(errno, fmt::format("allocating an event channel for domain {}", remote));
        return Port(p);
    }
    Result<Port> bind_interdomain(DomId remote, Port remote_port) override {
        blocking::Scope wait(blocking::Service::events);
        xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(h_, remote, remote_port);
        if (p < 0) {
            return fail(errno, fmt::format("binding to port {} of domain {}", remote_port, remote));
        }
        return Port(p);
    }
    Status unbind(Port port) override {
        blocking::Scope wait(blocking::Service::events);
        if (xenevtchn_unbind(h_, port) != 0)
            return fail(errno, fmt::format("unbinding port {}", port));
        return {};
    }
    Status notify(Port port) override {
        if (xenevtchn_notify(h_, port) != 0)
            return fail(errno, fmt::format("notifying port {}", port));
        return {};
    }
    Result<std::optional<Port>> pending() override {
        xenevtchn_port_or_error_t p = xenevtchn_pending(h_);
        if (p < 0) {
            if (errno == EAGAIN) return std::optional<Port>();
            return fail(errno, "reading pending event channels");
        }
        return std::optional<Port>(Port(p));
    }
    Status unmask(Port port) override {
        if (xenevtchn_unmask(h_, port) != 0)
            return fail(errno, fmt::format("unmasking port {}", port));
        return {};
    }

    Result<bool> peer_bound(Port port) override {
        // libxenevtchn has no status call; libxenctrl's is EVTCHNOP_status,
        // which any domain may ask about its own ports.
        if (!xc_ && !(xc_ = xc_interface_open(nullptr, nullptr, 0))) {
            return fail(errno, "opening libxenctrl (for event channel status)");
        }
        blocking::Scope wait(blocking::Service::events);
        xc_evtchn_status_t st{};
        st.dom = DOMID_SELF;
        st.port = port;
        if (xc_evtchn_status(xc_, &st) != 0) {
            return fail(errno, fmt::format("reading the status of port {}", port));
        }
        return st.status == EVTCHNSTAT_interdomain;
    }

  private:
    xenevtchn_handle* h_;
    xc_interface* xc_ = nullptr;
};

class XenGrantTable final : public GrantTable {
  public:
    explicit XenGrantTable(xengnttab_handle* h) : h_(h) {}
    ~XenGrantTable() override { xengnttab_close(h_); }

    Result<GrantMapping> map(DomId dom, std::span<const GrantRef> refs, bool writable) override {
        std::vector<uint32_t> r(refs.begin(), refs.end());
        int prot = PROT_READ | (writable ? PROT_WRITE : 0);
        blocking::Scope wait(blocking::Service::grants);
        void* a = xengnttab_map_domain_grant_refs(h_, uint32_t(r.size()), dom, r.data(), prot);
        if (!a) return fail(errno, fmt::format("mapping {} grant(s) of domain {}", r.size(), dom));
        return GrantMapping(this, a, dom, std::move(r), writable);
    }

    Status copy(std::span<CopySegment> segs) override {
        std::vector<xengnttab_grant_copy_segment_t> x(segs.size());
        for (size_t i = 0; i < segs.size(); ++i) {
            const CopySegment& s = segs[i];
            auto& o = x[i];
            o = {};
            if (s.src.foreign) {
                o.source.foreign = {s.src.ref, s.src.offset, uint16_t(s.src.dom)};
                o.flags |= GNTCOPY_source_gref;
            } else {
                o.source.virt = s.src.virt;
            }
            if (s.dst.foreign) {
                o.dest.foreign = {s.dst.ref, s.dst.offset, uint16_t(s.dst.dom)};
                o.flags |= GNTCOPY_dest_gref;
            } else {
                o.dest.virt = s.dst.virt;
            }
            o.len = s.len;
        }
        blocking::Scope wait(blocking::Service::grants);
        if (xengnttab_grant_copy(h_, uint32_t(x.size()), x.data()) != 0) {
            return fail(errno, fmt::format("copying {} grant segment(s)", x.size()));
        }
        for (size_t i = 0; i < segs.size(); ++i)
            segs[i].status = x[i].status;
        return {};
    }

  protected:
    void unmap(GrantMapping& m) override {
        blocking::Scope wait(blocking::Service::grants);
        xengnttab_unmap(h_, m.addr(), uint32_t(m.pages()));
    }

  private:
    xengnttab_handle* h_;
};

class XenGrantShare final : public GrantShare {
  public:
    explicit XenGrantShare(xengntshr_handle* h) : h_(h) {}
    ~XenGrantShare() override { xengntshr_close(h_); }

    Result<SharedPages> share(DomId dom, size_t count, bool writable) override {
        std::vector<GrantRef> refs(count);
        blocking::Scope wait(blocking::Service::grants);
        void* a = xengntshr_share_pages(h_, dom, int(count), refs.data(), writable);
        if (!a) return fail(errno, fmt::format("sharing {} page(s) with domain {}", count, dom));
        return SharedPages(this, a, dom, std::move(refs));
    }

  protected:
    void unshare(SharedPages& s) override {
        blocking::Scope wait(blocking::Service::grants);
        xengntshr_unshare(h_, s.addr(), uint32_t(s.pages()));
    }

  private:
    xengntshr_handle* h_;
};

}  // namespace

Result<std::unique_ptr<EventChannels>> open_evtchn() {
    xenevtchn_handle* h = xenevtchn_open(nullptr, 0);
    if (!h) return fail(errno, "opening /dev/xen/evtchn");
    // The library opens the device blocking; xenevtchn_pending() would then
    // wait for the next event where we ask whether there is one (our loop
    // drains pending ports until EAGAIN, and the reactor polls the fd).
    int fd = xenevtchn_fd(h);
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        int e = errno;
        xenevtchn_close(h);
        return fail(e, "making /dev/xen/evtchn non-blocking");
    }
    return std::unique_ptr<EventChannels>(new XenEventChannels(h));
}

Result<std::unique_ptr<GrantTable>> open_gnttab() {
    xengnttab_handle* h = xengnttab_open(nullptr, 0);
    if (!h) return fail(errno, "opening /dev/xen/gntdev");
    return std::unique_ptr<GrantTable>(new XenGrantTable(h));
}

Result<std::unique_ptr<GrantShare>> open_gntshr() {
    xengntshr_handle* h = xengntshr_open(nullptr, 0);
    if (!h) return fail(errno, "opening /dev/xen/gntalloc");
    return std::unique_ptr<GrantShare>(new XenGrantShare(h));
}

}  // namespace xnet::xen
