// The transmit rate of a vif: libxl's `rate` key and the credit scheduler
// that enforces it on the guest's transmit, as Linux's netback does
// (drivers/net/xen-netback: tx_credit_exceeded, tx_add_credit).
//
// xl's `rate=10Mb/s@50ms` becomes the backend key `rate` = "BYTES,USECS"
// (62500,50000): BYTES of guest transmit per interval of USECS. A packet
// goes while its size fits the credit left; otherwise it waits for the next
// interval, which adds BYTES to what was left (the remainder carries),
// capped at a burst of max(128 KiB, BYTES) so that a 64 KiB GSO packet can
// always go and an idle vif does not store up a flood.
//
// Linux keeps a credit per queue (a vif of 4 queues may send 4 times its
// rate); xnet keeps one per vif, shared by its queues, so the rate is the
// vif's. Its queues run on one thread (device/shared.h): no lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/error.h"

namespace xnet::netif {

struct Rate {
    uint64_t bytes = 0;  // per interval
    uint32_t usec = 0;   // the interval; 0: unlimited
    bool limited() const { return usec != 0; }
    uint64_t bits_per_second() const;
    bool operator==(const Rate&) const = default;
};

// The key's value as libxl writes it, "BYTES,USECS", both above 0.
Result<Rate> parse_rate_key(std::string_view v);
std::string rate_key(Rate r);  // "62500,50000"
// xl's syntax, RATE[@INTERVAL]: RATE is a number, an optional K, M or G
// (powers of 1000), then B/s or b/s; INTERVAL a number of s, ms or us
// (50ms when left out). "off" or "unlimited" is no limit.
Result<Rate> parse_xl_rate(std::string_view v);
// "10 Mbit/s (62500 bytes per 50 ms)", or "unlimited".
std::string describe(Rate r);

// The most a vif may have in hand (Linux: 128 KiB, or one interval's
// credit if more): what an idle vif stores up.
uint64_t max_burst(Rate r);

class Credit {
  public:
    using Clock = std::chrono::steady_clock;

    // A new rate, at once (a live change of the key): the credit left is
    // cut to one interval's, and the interval starts at NOW.
    void set(Rate r, Clock::time_point now);
    Rate rate() const { return rate_; }

    // Whether a packet of SIZE bytes may go at NOW. Only when it exceeds
    // the credit left is the clock consulted: a new interval adds its
    // credit. If it still does not fit, the packet waits: retry_at() is
    // when the next interval's credit comes.
    bool allows(uint64_t size, Clock::time_point now);
    // The packet went: its size is taken from the credit.
    void charge(uint64_t size);
    Clock::time_point retry_at() const { return window_start_; }
    uint64_t remaining() const { return remaining_; }

  private:
    void add_credit();

    Rate rate_;
    uint64_t remaining_ = 0;
    Clock::time_point window_start_{};
    bool waiting_ = false;  // a packet waits for the credit due at window_start_
};

}  // namespace xnet::netif
