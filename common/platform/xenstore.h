// A xenstore client: libxenstore behind a small RAII interface. One
// implementation serves both platforms, because xnet-sim speaks xenstore's
// own wire protocol: on Xen the library finds xenstored itself, under the
// sim XENSTORED_PATH (or an explicit path) names the domain's socket.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/error.h"

struct xs_handle;

namespace xnet {

// One permission entry as xenstore-chmod writes it ("r5" = domain 5 may read).
struct XsPerm {
    enum Access : uint8_t { none = 0, read = 1, write = 2, both = 3 };
    uint32_t dom = 0;
    Access access = none;
    bool operator==(const XsPerm&) const = default;
};

struct XsWatchEvent {
    std::string path;
    std::string token;
};

class XenStore {
  public:
    using Tx = uint32_t;  // 0: no transaction
    static constexpr Tx kNoTx = 0;

    // PATH empty: libxenstore's default (XENSTORED_PATH, else /dev/xen/xenbus
    // or xenstored's socket).
    static Result<XenStore> open(const std::string& path = {});

    Result<std::string> read(std::string_view path, Tx tx = kNoTx) const;
    // The value if the node exists, nullopt if it does not (other errors fail).
    Result<std::optional<std::string>> try_read(std::string_view path, Tx tx = kNoTx) const;
    Status write(std::string_view path, std::string_view value, Tx tx = kNoTx) const;
    Status mkdir(std::string_view path, Tx tx = kNoTx) const;
    Status rm(std::string_view path, Tx tx = kNoTx) const;
    Result<std::vector<std::string>> directory(std::string_view path, Tx tx = kNoTx) const;
    Result<std::vector<XsPerm>> get_perms(std::string_view path, Tx tx = kNoTx) const;
    Status set_perms(std::string_view path, const std::vector<XsPerm>& perms, Tx tx = kNoTx) const;

    // Runs BODY inside a transaction, again from the start while the commit
    // reports a conflict (EAGAIN), up to a bound; BODY's error aborts.
    Status transact(const std::function<Status(Tx)>& body) const;

    Status watch(std::string_view path, std::string_view token) const;
    Status unwatch(std::string_view path, std::string_view token) const;
    // Readable when a watch event is queued; for the caller's event loop.
    int fd() const;
    // The next queued event without blocking, or nullopt.
    std::optional<XsWatchEvent> next_event() const;

    Status introduce(uint32_t dom) const;
    Status release(uint32_t dom) const;
    Result<std::string> domain_path(uint32_t dom) const;

  private:
    struct Close {
        void operator()(xs_handle* h) const;
    };
    explicit XenStore(xs_handle* h) : h_(h) {}
    std::unique_ptr<xs_handle, Close> h_;
};

// "r5" and back, as the xenstore tools print them.
std::string format_perm(const XsPerm& p);
std::optional<XsPerm> parse_perm(std::string_view s);

}  // namespace xnet
