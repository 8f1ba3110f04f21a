#include "platform/sim/sim_conn.h"

#include <sys/mman.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>

#include <fmt/format.h>

namespace xnet::sim_client {

using namespace simproto;

ShmMap& ShmMap::operator=(ShmMap&& o) noexcept {
    if (this != &o) {
        if (addr_) munmap(addr_, len_);
        addr_ = std::exchange(o.addr_, nullptr);
        len_ = o.len_;
    }
    return *this;
}

ShmMap::~ShmMap() {
    if (addr_) munmap(addr_, len_);
}

Result<ShmMap> ShmMap::map(int fd, size_t len, bool writable, const char* what) {
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    void* p = mmap(nullptr, len, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return fail(errno, fmt::format("mapping {}", what));
    return ShmMap(p, len);
}

Result<SimConn> SimConn::open(const std::string& dir, uint32_t dom) {
    std::string path = platform_socket(dir, dom);
    auto s = connect_unix(path, SOCK_SEQPACKET);
    if (!s) {
        return fail(s.error().code,
                    fmt::format("connecting to xnet-sim at {} (is it running?)", path));
    }
    SimConn c;
    c.sock_ = std::move(*s);
    c.dom_ = dom;
    std::vector<UniqueFd> fds;
    XNET_TRY(c.call(Request{Op::hello}, &fds, "greeting xnet-sim"));
    if (fds.size() != 2) return fail(EPROTO, "greeting xnet-sim: expected two descriptors");
    XNET_TRY_ASSIGN(auto domains,
                    ShmMap::map(fds[0].get(), kMaxDomains * 4, false, "the sim's domain table"));
    XNET_TRY_ASSIGN(auto gens,
                    ShmMap::map(fds[1].get(), kMaxPorts * 4, false, "the event-channel table"));
    c.domains_ = std::move(domains);
    c.generations_ = std::move(gens);
    return c;
}

Result<Reply> SimConn::call(const Request& req, std::vector<UniqueFd>* fds, const char* what) {
    size_t len = offsetof(Request, refs) + std::min(req.count, kMaxBatch) * sizeof(uint32_t);
    if (send_with_fds(sock_.get(), &req, len, {}) < 0) return fail(errno, what);
    Reply rep;
    std::vector<UniqueFd> got;
    long n = recv_with_fds(sock_.get(), &rep, sizeof rep, got);
    if (n < 0) return fail(errno, what);
    if (n == 0) return fail(ECONNRESET, fmt::format("{}: xnet-sim closed the connection", what));
    if (size_t(n) < offsetof(Reply, refs))
        return fail(EPROTO, fmt::format("{}: short reply", what));
    if (fds) *fds = std::move(got);
    return rep;
}

}  // namespace xnet::sim_client
