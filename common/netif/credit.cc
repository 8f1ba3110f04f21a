#include "netif/credit.h"

#include <algorithm>
#include <cerrno>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "netif/netif.h"

namespace xnet::netif {
namespace {

// The decimal digits at the front of S, taken off it, as a number
// (netif.h's strict parse_number): none if there are none or too many.
std::optional<uint64_t> take_number(std::string_view& s) {
    auto digits = std::min(s.find_first_not_of("0123456789"), s.size());
    auto n = parse_number(s.substr(0, digits), std::numeric_limits<uint64_t>::max());
    s.remove_prefix(digits);
    return n;
}

Unexpected<Error> bad_rate(std::string_view v, std::string_view why) {
    return fail(EINVAL, fmt::format("rate '{}': {}", v.substr(0, 64), why));
}

// Bytes per second of xl's RATE ("10Mb/s", "2000000B/s", "5KB/s").
Result<uint64_t> parse_bytes_per_second(std::string_view whole, std::string_view s) {
    auto n = take_number(s);
    if (!n) return bad_rate(whole, "expected a number, then B/s or b/s");
    uint64_t scale = 1;
    if (!s.empty() && (s[0] == 'K' || s[0] == 'M' || s[0] == 'G')) {
        scale = s[0] == 'K' ? 1000 : s[0] == 'M' ? 1000 * 1000 : 1000 * 1000 * 1000;
        s.remove_prefix(1);
    }
    if (s != "B/s" && s != "b/s") return bad_rate(whole, "the unit is B/s or b/s (with K, M or G)");
    if (*n > std::numeric_limits<uint64_t>::max() / scale) return bad_rate(whole, "too large");
    uint64_t bytes = *n * scale;
    return s[0] == 'b' ? bytes / 8 : bytes;
}

Result<uint32_t> parse_interval_usec(std::string_view whole, std::string_view s) {
    auto n = take_number(s);
    if (!n) return bad_rate(whole, "the interval is a number of s, ms or us");
    uint64_t scale = s == "s" ? 1000 * 1000 : s == "ms" ? 1000 : s == "us" ? 1 : 0;
    if (!scale) return bad_rate(whole, "the interval's unit is s, ms or us");
    if (*n == 0 || *n > std::numeric_limits<uint32_t>::max() / scale) {
        return bad_rate(whole, "the interval is above 0 and at most 4294 s");
    }
    return uint32_t(*n * scale);
}

}  // namespace

uint64_t Rate::bits_per_second() const {
    if (!limited()) return 0;
    // bytes * 8e6 / usec, without overflowing for any bytes a key can hold.
    return uint64_t(static_cast<long double>(bytes) * 8e6L / usec);
}

Result<Rate> parse_rate_key(std::string_view v) {
    auto comma = v.find(',');
    if (comma == std::string_view::npos) return bad_rate(v, "expected BYTES,USECS");
    auto bytes = parse_number(v.substr(0, comma), std::numeric_limits<uint64_t>::max());
    auto usec = parse_number(v.substr(comma + 1), std::numeric_limits<uint64_t>::max());
    if (!bytes || !usec) return bad_rate(v, "expected BYTES,USECS");
    if (*bytes == 0 || *usec == 0) return bad_rate(v, "bytes and interval must be above 0");
    if (*usec > std::numeric_limits<uint32_t>::max()) return bad_rate(v, "interval too long");
    return Rate{*bytes, uint32_t(*usec)};
}

std::string rate_key(Rate r) {
    return fmt::format("{},{}", r.bytes, r.usec);
}

Result<Rate> parse_xl_rate(std::string_view v) {
    if (v == "off" || v == "unlimited") return Rate{};
    auto at = v.find('@');
    XNET_TRY_ASSIGN(uint64_t per_second, parse_bytes_per_second(v, v.substr(0, at)));
    uint32_t usec = 50000;  // xl's default
    if (at != std::string_view::npos) {
        XNET_TRY_ASSIGN(usec, parse_interval_usec(v, v.substr(at + 1)));
    }
    if (per_second > std::numeric_limits<uint64_t>::max() / usec) return bad_rate(v, "too large");
    uint64_t bytes = per_second * usec / 1000000;
    if (bytes == 0) return bad_rate(v, "less than a byte per interval");
    return Rate{bytes, usec};
}

std::string describe(Rate r) {
    if (!r.limited()) return "unlimited";
    uint64_t bps = r.bits_per_second();
    std::string speed = bps >= 1000000000 && bps % 1000000 == 0
                            ? fmt::format("{} Gbit/s", double(bps) / 1e9)
                        : bps >= 1000000 ? fmt::format("{} Mbit/s", double(bps) / 1e6)
                        : bps >= 1000    ? fmt::format("{} kbit/s", double(bps) / 1e3)
                                         : fmt::format("{} bit/s", bps);
    std::string interval =
        r.usec % 1000 == 0 ? fmt::format("{} ms", r.usec / 1000) : fmt::format("{} us", r.usec);
    return fmt::format("{} ({} bytes per {})", speed, r.bytes, interval);
}

uint64_t max_burst(Rate r) {
    return std::max<uint64_t>(128 * 1024, r.bytes);
}

void Credit::set(Rate r, Clock::time_point now) {
    bool was_limited = rate_.limited();
    rate_ = r;
    remaining_ = was_limited ? std::min(remaining_, r.bytes) : r.bytes;
    window_start_ = now;
    waiting_ = false;
}

void Credit::add_credit() {
    // remaining_ <= max_burst, so this sum cannot wrap.
    uint64_t burst = max_burst(rate_);
    remaining_ = std::min(burst, remaining_ + std::min(rate_.bytes, burst));
}

bool Credit::allows(uint64_t size, Clock::time_point now) {
    if (!rate_.limited() || size <= remaining_) return true;
    const std::chrono::microseconds interval(rate_.usec);
    if (waiting_) {
        if (now < window_start_) return false;
        waiting_ = false;  // the credit Linux's timer adds at the interval's start
        add_credit();
    } else if (now >= window_start_ + interval) {
        window_start_ = now;
        add_credit();
    }
    if (size <= remaining_) return true;
    window_start_ += interval;
    waiting_ = true;
    return false;
}

void Credit::charge(uint64_t size) {
    if (rate_.limited()) remaining_ -= std::min(size, remaining_);
}

}  // namespace xnet::netif
