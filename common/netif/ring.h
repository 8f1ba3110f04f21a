// Both ends of a Xen shared ring (xen/io/ring.h) over a ring page laid
// out by DEFINE_RING_TYPES, e.g. netif_tx_sring / netif_rx_sring.
//
// The page is shared with the peer, who is not trusted: every index read
// from it is checked before use ("the peer moved req_prod past the ring"
// is an error, not an assumption), and requests are copied out of the page
// before they are looked at (ring.h's RING_COPY_REQUEST), so the peer
// cannot change one between its check and its use. Shared fields are
// accessed through std::atomic_ref with the orders ring.h's barriers give.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include <xen/xen.h>
// xen.h first: ring.h uses its types.
#include <xen/io/ring.h>

#include "platform/gnttab.h"
#include "runtime/error.h"

namespace xnet::ring {

inline constexpr size_t kPageBytes = kPageSize;  // a shared ring is one granted page

// __CONST_RING_SIZE: the entries that fit in one page after the header,
// rounded down to a power of two.
template <class Sring>
constexpr RING_IDX ring_size() {
    size_t n = (kPageBytes - offsetof(Sring, ring)) / sizeof(std::declval<Sring&>().ring[0]);
    size_t p = 1;
    while (p * 2 <= n)
        p *= 2;
    return RING_IDX(p);
}

namespace detail {
inline RING_IDX load(const RING_IDX& f, std::memory_order o) {
    return std::atomic_ref<RING_IDX>(const_cast<RING_IDX&>(f)).load(o);
}
inline void store(RING_IDX& f, RING_IDX v, std::memory_order o) {
    std::atomic_ref<RING_IDX>(f).store(v, o);
}

// RING_PUSH_*_AND_CHECK_NOTIFY, for either end: publishes NOW in PROD and
// says whether the peer's EVENT threshold lies in what was just published.
inline bool push(RING_IDX& prod, RING_IDX now, const RING_IDX& event) {
    RING_IDX old = load(prod, std::memory_order_relaxed);
    // release: the entries /then/ the index that publishes them.
    store(prod, now, std::memory_order_release);
    // The index /then/ reading the event: else we could miss a peer that
    // set it after reading the old index, and both would sleep.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    RING_IDX ev = load(event, std::memory_order_relaxed);
    return RING_IDX(now - ev) < RING_IDX(now - old);
}

// Asks to be notified once the producer publishes more than HAVE entries
// after CONS, and looks once more (PENDING) so none slips in between:
// whether it already has.
template <class Pending>
Result<bool> notify_beyond(RING_IDX& event, RING_IDX cons, RING_IDX have, Pending pending) {
    store(event, cons + have + 1, std::memory_order_relaxed);
    // The event /then/ re-reading the producer index (ring.h's xen_mb()).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    XNET_TRY_ASSIGN(auto n, pending());
    return n > have;
}

// RING_FINAL_CHECK_FOR_*, for either end: before going idle, asks to be
// notified of the entry after CONS, unless one is already there.
template <class Pending>
Result<bool> final_check(RING_IDX& event, RING_IDX cons, Pending pending) {
    XNET_TRY_ASSIGN(auto n, pending());
    if (n > 0) return true;
    return notify_beyond(event, cons, 0, pending);
}
}  // namespace detail

// SHARED_RING_INIT: what the frontend does to a fresh page. Rings start
// at index 0; START exists so tests can exercise the wrap at 2^32.
template <class Sring>
void init_shared(Sring* s, RING_IDX start = 0) {
    std::memset(static_cast<void*>(s), 0, kPageBytes);
    s->req_prod = s->rsp_prod = start;
    s->req_event = s->rsp_event = start + 1;
}

// The backend: consumes requests, produces responses.
template <class Sring>
class BackRing {
  public:
    using Req = std::remove_cvref_t<decltype(std::declval<Sring&>().ring[0].req)>;
    using Rsp = std::remove_cvref_t<decltype(std::declval<Sring&>().ring[0].rsp)>;
    static constexpr RING_IDX kSize = ring_size<Sring>();

    explicit BackRing(Sring* s, RING_IDX start = 0)
        : s_(s), req_cons_(start), rsp_prod_pvt_(start) {}

    // Requests the frontend has published and we have not taken. Fails if
    // the frontend claims more than the ring holds, or more than it could
    // have made room for given the responses we have produced.
    Result<RING_IDX> pending() const {
        // acquire: the requests are read after the index that publishes them.
        RING_IDX prod = detail::load(s_->req_prod, std::memory_order_acquire);
        RING_IDX n = prod - req_cons_;
        if (n > kSize || prod - rsp_prod_pvt_ > kSize) {
            return fail(EPROTO, "frontend moved req_prod past the ring (req_prod " +
                                    std::to_string(prod) + ", req_cons " +
                                    std::to_string(req_cons_) + ")");
        }
        return n;
    }

    // RING_COPY_REQUEST: the next request, copied out of the shared page.
    // Only after pending() said there is one.
    Req take() {
        Req r;
        std::memcpy(&r, &s_->ring[req_cons_ & (kSize - 1)].req, sizeof r);
        ++req_cons_;
        return r;
    }

    // Request I after the next one, copied into INTO without taking it (a
    // packet's slots are looked at together before any is consumed). Only
    // for I < pending(). Straight into where the caller keeps it: a request
    // returned by value and copied again is read back with loads that
    // straddle the first copy's stores (12 bytes go as 8 + 4), and each such
    // load waits for the stores to drain, which cost the backend a third of
    // its time per 64-byte packet (docs/performance.md).
    void peek(RING_IDX i, Req& into) const {
        std::memcpy(&into, &s_->ring[(req_cons_ + i) & (kSize - 1)].req, sizeof into);
    }
    // Takes N requests already looked at with peek().
    void skip(RING_IDX n) { req_cons_ += n; }

    // Asks to be notified once more than AVAIL requests are published (the
    // rest of a packet whose first slots are here), and says whether they
    // already are.
    Result<bool> wait_beyond(RING_IDX avail) {
        return detail::notify_beyond(s_->req_event, req_cons_, avail, [this] { return pending(); });
    }

    // The slot for the next response; published by push().
    void put(const Rsp& r) {
        std::memcpy(&s_->ring[rsp_prod_pvt_ & (kSize - 1)].rsp, &r, sizeof r);
        ++rsp_prod_pvt_;
    }

    // RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: publishes the responses put so
    // far; true if the frontend asked to be notified of them.
    bool push() { return detail::push(s_->rsp_prod, rsp_prod_pvt_, s_->rsp_event); }

    // RING_FINAL_CHECK_FOR_REQUESTS: before going idle, asks to be notified
    // of the next request and looks once more, so none slips in between.
    Result<bool> final_check() {
        return detail::final_check(s_->req_event, req_cons_, [this] { return pending(); });
    }

    RING_IDX req_cons() const { return req_cons_; }
    RING_IDX rsp_prod_pvt() const { return rsp_prod_pvt_; }

  private:
    Sring* s_;
    RING_IDX req_cons_ = 0;
    RING_IDX rsp_prod_pvt_ = 0;
};

// The frontend: produces requests, consumes responses.
template <class Sring>
class FrontRing {
  public:
    using Req = std::remove_cvref_t<decltype(std::declval<Sring&>().ring[0].req)>;
    using Rsp = std::remove_cvref_t<decltype(std::declval<Sring&>().ring[0].rsp)>;
    static constexpr RING_IDX kSize = ring_size<Sring>();

    explicit FrontRing(Sring* s, RING_IDX start = 0)
        : s_(s), req_prod_pvt_(start), rsp_cons_(start) {}

    // RING_FREE_REQUESTS.
    RING_IDX free_slots() const { return kSize - (req_prod_pvt_ - rsp_cons_); }

    // The next request; published by push(). Only when free_slots() > 0.
    void put(const Req& r) {
        std::memcpy(&s_->ring[req_prod_pvt_ & (kSize - 1)].req, &r, sizeof r);
        ++req_prod_pvt_;
    }

    // RING_PUSH_REQUESTS_AND_CHECK_NOTIFY.
    bool push() { return detail::push(s_->req_prod, req_prod_pvt_, s_->req_event); }

    // Responses published and not yet taken. Fails if the backend claims
    // to have answered more requests than were made.
    Result<RING_IDX> pending() const {
        RING_IDX prod = detail::load(s_->rsp_prod, std::memory_order_acquire);
        RING_IDX n = prod - rsp_cons_;
        if (n > req_prod_pvt_ - rsp_cons_) {
            return fail(EPROTO, "backend moved rsp_prod past the requests (rsp_prod " +
                                    std::to_string(prod) + ", rsp_cons " +
                                    std::to_string(rsp_cons_) + ")");
        }
        return n;
    }

    // The next response, copied out. Only after pending() said there is one.
    Rsp take() {
        Rsp r;
        std::memcpy(&r, &s_->ring[rsp_cons_ & (kSize - 1)].rsp, sizeof r);
        ++rsp_cons_;
        return r;
    }

    // Response I after the next one, copied out without taking it.
    Rsp peek(RING_IDX i) const {
        Rsp r;
        std::memcpy(&r, &s_->ring[(rsp_cons_ + i) & (kSize - 1)].rsp, sizeof r);
        return r;
    }
    void skip(RING_IDX n) { rsp_cons_ += n; }

    // RING_FINAL_CHECK_FOR_RESPONSES.
    Result<bool> final_check() {
        return detail::final_check(s_->rsp_event, rsp_cons_, [this] { return pending(); });
    }

    RING_IDX req_prod_pvt() const { return req_prod_pvt_; }
    RING_IDX rsp_cons() const { return rsp_cons_; }

  private:
    Sring* s_;
    RING_IDX req_prod_pvt_ = 0;
    RING_IDX rsp_cons_ = 0;
};

}  // namespace xnet::ring
