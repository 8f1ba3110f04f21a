#include "device/store_watchdog.h"

#include <cerrno>

namespace xnet {

StoreWatchdog::StoreWatchdog(Reactor& r, const XenStore& xs, std::string probe,
                             std::function<void(const Error&)> lost)
    : r_(r), xs_(xs), probe_(std::move(probe)), lost_(std::move(lost)) {}

Status StoreWatchdog::start() {
    XNET_TRY_ASSIGN(timer_, r_.after(kInterval, [this] { tick(); }));
    return {};
}

bool StoreWatchdog::connection_lost(int code) {
    switch (code) {
        case EPIPE:
        case ECONNRESET:
        case ENOTCONN:
        case ESHUTDOWN:
        case EBADF:
        case EIO:
            return true;
        default:
            return false;
    }
}

void StoreWatchdog::tick() {
    auto v = xs_.try_read(probe_);
    if (!v && connection_lost(v.error().code)) {
        return lost_(Error{0, "lost the connection to xenstore: " + v.error().message()});
    }
    if (auto st = start(); !st) lost_(st.error());
}

}  // namespace xnet
