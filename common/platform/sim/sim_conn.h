// A connection to xnet-sim's platform socket for one domain: the handle
// behind a sim event-channel or grant-table object.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "platform/sim/sim_proto.h"
#include "runtime/error.h"
#include "runtime/fd.h"

namespace xnet::sim_client {

// A shared-memory mapping owned by its holder.
class ShmMap {
  public:
    ShmMap() = default;
    ShmMap(void* addr, size_t len) : addr_(addr), len_(len) {}
    ShmMap(ShmMap&& o) noexcept : addr_(std::exchange(o.addr_, nullptr)), len_(o.len_) {}
    ShmMap& operator=(ShmMap&& o) noexcept;
    ~ShmMap();
    static Result<ShmMap> map(int fd, size_t len, bool writable, const char* what);

    void* get() const { return addr_; }
    template <class T>
    T* as() const {
        return static_cast<T*>(addr_);
    }

  private:
    void* addr_ = nullptr;
    size_t len_ = 0;
};

class SimConn {
  public:
    // Connects as domain DOM and says hello: learns the domains table and
    // the domain's event-channel generations.
    static Result<SimConn> open(const std::string& dir, uint32_t dom);

    // One request and its reply; descriptors the daemon attached go to FDS.
    Result<simproto::Reply> call(const simproto::Request& req, std::vector<UniqueFd>* fds = nullptr,
                                 const char* what = "calling xnet-sim");

    uint32_t dom() const { return dom_; }
    // The current incarnation of domain D, 0 if it does not exist.
    uint32_t epoch(uint32_t d) const {
        if (d >= simproto::kMaxDomains) return 0;
        return std::atomic_ref<uint32_t>(domains_.as<uint32_t>()[d])
            .load(std::memory_order_acquire);
    }
    uint32_t port_generation(uint32_t port) const {
        return std::atomic_ref<uint32_t>(generations_.as<uint32_t>()[port])
            .load(std::memory_order_acquire);
    }

  private:
    UniqueFd sock_;
    uint32_t dom_ = 0;
    ShmMap domains_;
    ShmMap generations_;
};

}  // namespace xnet::sim_client
