// The hypervisor half of xnet-sim: domains, their memory and grant tables,
// and event channels. It answers the platform protocol (platform/sim/sim_proto.h);
// each connection is one handle of one domain, and what a handle holds
// (mappings, shared pages, ports) is released when it closes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "platform/sim/sim_proto.h"
#include "runtime/error.h"
#include "runtime/fd.h"

#include <xen/grant_table.h>
#include <xen/xen.h>

namespace xnet::sim {

using DomId = uint32_t;
using HandleId = uint64_t;

class Hypervisor {
  public:
    // What the daemon attaches to a domain's life: on_create opens its
    // sockets (a failure undoes the creation); on_destroy closes its
    // connections and has xenstore release it.
    struct Hooks {
        std::function<Status(DomId)> on_create;
        std::function<void(DomId)> on_destroy;
    };

    static Result<Hypervisor> create(Hooks hooks);
    Hypervisor(Hypervisor&&) = default;
    ~Hypervisor();

    Status create_domain(DomId dom);
    Status destroy_domain(DomId dom);
    bool exists(DomId dom) const { return domains_.count(dom) != 0; }
    std::vector<DomId> domains() const;

    // One request from handle H of domain DOM. FDS receives descriptors to
    // send with the reply (borrowed: valid until the next call).
    simproto::Reply handle(HandleId h, DomId dom, const simproto::Request& req,
                           std::vector<int>& fds);
    // Releases everything handle H holds.
    void close_handle(HandleId h);
    // Retries ending access to pages whose unshare found them still mapped.
    void retry_deferred();

  private:
    struct Port {
        enum State : uint8_t { kFree, kUnbound, kInterdomain } state = kFree;
        HandleId owner = 0;
        DomId remote = 0;
        uint32_t remote_port = 0;
        UniqueFd efd;
    };
    struct Domain {
        uint32_t epoch = 0;
        UniqueFd mem, entries_fd, active_fd, gen_fd;
        grant_entry_v1* entries = nullptr;
        simproto::ActiveTable* active = nullptr;
        uint32_t* gen = nullptr;
        std::vector<bool> ref_used, frame_used;
        std::vector<Port> ports;
        std::vector<uint32_t> deferred;  // refs whose unshare waits for unmaps
        std::map<uint32_t, uint32_t> ref_frame;
        std::map<uint32_t, HandleId> ref_owner;
    };
    struct Pin {
        DomId granter;
        uint32_t epoch;
        uint32_t ref;
        bool write;
    };

    Hypervisor() = default;
    Domain* find(DomId dom);
    static void unmap_shared(Domain& d);
    void bump(Domain& d, uint32_t port);
    void free_port(Domain& d, uint32_t port);
    void end_share(Domain& d, uint32_t ref);

    simproto::Reply share(HandleId h, Domain& d, const simproto::Request& req);
    simproto::Reply unshare(HandleId h, Domain& d, const simproto::Request& req);
    simproto::Reply map(HandleId h, DomId dom, const simproto::Request& req);
    simproto::Reply unmap(HandleId h, const simproto::Request& req);
    simproto::Reply alloc_unbound(HandleId h, DomId dom, const simproto::Request& req,
                                  std::vector<int>& fds);
    simproto::Reply bind_interdomain(HandleId h, DomId dom, const simproto::Request& req,
                                     std::vector<int>& fds);
    simproto::Reply unbind(HandleId h, DomId dom, uint32_t port);
    simproto::Reply peer(HandleId h, DomId dom, uint32_t port, std::vector<int>& fds);

    Hooks hooks_;
    UniqueFd domains_fd_;
    uint32_t* epochs_ = nullptr;
    uint32_t next_epoch_ = 1;
    std::map<DomId, Domain> domains_;
    std::map<HandleId, std::vector<Pin>> pins_;
};

}  // namespace xnet::sim
