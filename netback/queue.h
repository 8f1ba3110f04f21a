// One queue of a vif in the backend: a TX ring (guest -> dom0) and an RX
// ring (dom0 -> guest) with their event channel(s) and the local port (a
// TAP queue). Event driven and batched: each wakeup takes up to a batch
// of packets from a ring, issues one grant copy for all of them, and
// publishes the responses together.
#pragma once

#include <bitset>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "device/queue_keys.h"
#include "device/shared.h"
#include "device/tap.h"
#include "netif/busy_poll.h"
#include "netif/counters.h"
#include "netif/netif.h"
#include "netif/notify_throttle.h"
#include "netif/offload.h"
#include "netif/ring.h"
#include "platform/evtchn.h"
#include "platform/gnttab.h"
#include "runtime/reactor.h"

namespace xnet::netback {

struct TxChain;

// Where the frontend's rings and channels are, from its xenstore keys.
using netif::QueueKeys;

class BackQueue {
  public:
    static Result<std::unique_ptr<BackQueue>> start(Reactor& r, GrantTable& gt,
                                                    std::unique_ptr<EventChannels> ev,
                                                    LocalPort& port, DeviceShared& vif,
                                                    unsigned index, const QueueKeys& keys);
    ~BackQueue();
    BackQueue(const BackQueue&) = delete;
    BackQueue& operator=(const BackQueue&) = delete;

    // Runs both directions now (after connecting, the frontend may have
    // queued work before our channel was bound).
    void kick();
    // The vif's rate changed (DeviceShared::tx_credit): a wait for credit
    // under the old one ends, and the ring is looked at again.
    void credit_changed();
    // Frames this queue moved, both directions (the vif's counters have
    // the rest; this shows how a multi-queue vif spreads its flows).
    uint64_t packets() const { return packets_; }
    // Whether the frontend still holds its end of our event channel(s).
    Result<bool> peer_bound() const;

  private:
    using TxRing = ring::BackRing<netif::TxSring>;
    using RxRing = ring::BackRing<netif::RxSring>;

    struct TxPacket;
    struct RxFrame;

    BackQueue(Reactor& r, GrantTable& gt, std::unique_ptr<EventChannels> ev, LocalPort& port,
              DeviceShared& vif, unsigned index, const QueueKeys& keys);
    Status attach();
    void on_event();
    bool news();
    void on_port();
    void run_tx();
    void run_rx();
    void schedule(bool tx, bool rx);

    // Guest TX (tx.cc). Looks at the chain starting at the next request, of
    // AVAIL published ones: its slot count, 0 if incomplete, or a protocol
    // error.
    Result<unsigned> gather_tx(RING_IDX avail, TxPacket& p);
    Status take_ids(const TxChain& c, TxPacket& p);
    void plan_tx_copy(const TxChain& c, TxPacket& p);
    Status gather_tx_batch(RING_IDX& avail);
    void finish_tx(std::vector<TxPacket>& batch);
    void deliver_tx(const TxPacket& p);
    void respond_tx(const TxPacket& p, int16_t status);
    void release_ids(const TxPacket& p);
    bool credit_allows(uint64_t& size);
    void wait_for_credit();

    // Guest RX (rx.cc).
    enum class Next { frame, skipped, none };
    struct RxBatch;
    Next next_rx_frame(RxFrame& f, size_t arena_off);
    Result<bool> read_frame(RxFrame& f, size_t arena_off);
    void next_segment(RxFrame& f, size_t arena_off);
    void admit(RxFrame& f);  // its slots; dropped if it needs sg the peer lacks
    void place_rx(RxFrame& f);
    RxBatch fill_rx_batch(RING_IDX avail);
    void hold(const RxFrame& f);
    void watch_port(bool on);
    void finish_rx(std::vector<RxFrame>& batch);

    // Marks the queue broken and tells the vif, once. QUIET: see DeviceShared.
    void fault(const Error& e, bool quiet = false);
    bool copy_failed(const CopySegment& s, const char* what);

    Reactor& r_;
    GrantTable& gt_;
    std::unique_ptr<EventChannels> ev_;
    LocalPort& port_;
    DeviceShared& vif_;
    unsigned index_;
    QueueKeys keys_;
    GrantMapping tx_map_, rx_map_;
    TxRing tx_{nullptr};
    RxRing rx_{nullptr};
    Port tx_local_ = 0, rx_local_ = 0;
    bool broken_ = false;
    uint64_t packets_ = 0;
    bool port_watched_ = true;  // EPOLLIN on the port; off while a frame waits for room
    bool tx_scheduled_ = false, rx_scheduled_ = false;
    BusyPoll tx_poll_, rx_poll_;  // requests; buffers for a held frame
    NotifyThrottle throttle_;
    Timer pause_;    // while throttled: when the ports are unmasked again
    Timer verdict_;  // after a failed grant copy: blame the peer, or not
    Timer credit_;   // guest TX waits for its rate's next interval
    bool credit_waiting_ = false;
    RING_IDX rx_prod_seen_ = 0;  // the RX ring's req_prod at the last wakeup
    Registration ev_watch_, port_watch_;
    DeferredWork work_;

    // Frames between the ring and the port, per direction. Left
    // uninitialised: a vif's memory is then the pages its traffic touched,
    // not the whole arenas zeroed up front.
    std::unique_ptr<uint8_t[]> tx_arena_, rx_arena_;
    std::vector<CopySegment> segs_;
    std::vector<TxPacket> tx_batch_;
    // TX request ids taken and not yet answered. netif.h lets a frontend
    // reuse an id only after its response: two in flight at once would
    // make our responses ambiguous, so that is a protocol violation.
    std::bitset<1u << 16> tx_ids_in_flight_;
    std::vector<RxFrame> rx_batch_;
    std::unique_ptr<RxFrame> held_;  // read from the port, waiting for guest buffers
    std::vector<uint8_t> held_buf_;
    // Segments of a tagged GSO frame the guest cannot take whole
    // (offload::must_cut), sent before the port is read again.
    pkt::Segments cut_;
    netif::Meta cut_meta_;
};

}  // namespace xnet::netback
