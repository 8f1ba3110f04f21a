// Reading the numbers and flags the netif protocol keeps in xenstore, the
// same strict way on both ends: a decimal number and nothing else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "platform/xenstore.h"
#include "runtime/error.h"

namespace xnet {

// PATH as a number up to MAX. Missing: DEF, or an error without one.
// Anything else is an error naming the key and its value.
Result<uint64_t> read_number(const XenStore& xs, const std::string& path, uint64_t max,
                             std::optional<uint64_t> def = std::nullopt);

// A feature flag: missing or "0" is off, any other number on.
Result<bool> read_flag(const XenStore& xs, const std::string& path);
// A flag the protocol makes mandatory: off is an EOPNOTSUPP error, WHY.
Status require_flag(const XenStore& xs, const std::string& path, const std::string& why);

}  // namespace xnet
