#include "netif/xs_keys.h"

#include <fmt/format.h>

#include "netif/netif.h"

namespace xnet {

Result<uint64_t> read_number(const XenStore& xs, const std::string& path, uint64_t max,
                             std::optional<uint64_t> def) {
    XNET_TRY_ASSIGN(auto v, xs.try_read(path));
    if (!v) {
        if (def) return *def;
        return fail(ENOENT, "reading " + path + ": missing");
    }
    auto n = netif::parse_number(*v, max);
    if (!n) {
        return fail(EINVAL, fmt::format("reading {}: '{}' is not a number up to {}", path,
                                        v->substr(0, 64), max));
    }
    return *n;
}

Result<bool> read_flag(const XenStore& xs, const std::string& path) {
    XNET_TRY_ASSIGN(auto n, read_number(xs, path, UINT32_MAX, 0));
    return n != 0;
}

Status require_flag(const XenStore& xs, const std::string& path, const std::string& why) {
    XNET_TRY_ASSIGN(auto f, read_flag(xs, path));
    if (!f) return fail(EOPNOTSUPP, why);
    return {};
}

}  // namespace xnet
