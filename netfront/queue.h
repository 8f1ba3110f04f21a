// One queue of the frontend: the two rings it grants, a persistent pool
// of granted pages per direction (granted once, reused for every packet),
// its event channel(s), and the datapath between them and a TAP queue.
//
// TX frames are read from the TAP straight into consecutive pool pages,
// so a frame is contiguous and the backend's grant copy is the only other
// copy. RX buffers are identified by the ring slot they were posted in,
// as netif.h requires of backends ("responses always appear in the same
// ring slot as their corresponding request").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "device/queue_keys.h"
#include "device/shared.h"
#include "device/tap.h"
#include "netif/busy_poll.h"
#include "netif/counters.h"
#include "netif/netif.h"
#include "netif/offload.h"
#include "netif/ring.h"
#include "platform/evtchn.h"
#include "platform/gnttab.h"
#include "runtime/reactor.h"

namespace xnet::netfront {

struct RxChain;

// What the frontend writes to xenstore for this queue.
using netif::QueueKeys;

class FrontQueue {
  public:
    static constexpr unsigned kPool = 256;  // pages per direction = ring slots

    // Grants the rings and pools to the backend and allocates the ports.
    static Result<std::unique_ptr<FrontQueue>> create(GrantShare& gs,
                                                      std::unique_ptr<EventChannels> ev,
                                                      DeviceShared& f, unsigned index, bool split);
    ~FrontQueue();
    FrontQueue(const FrontQueue&) = delete;
    FrontQueue& operator=(const FrontQueue&) = delete;

    const QueueKeys& keys() const { return keys_; }
    // Starts moving packets once the backend is connected.
    Status start(Reactor& r, LocalPort& port);

  private:
    using TxRing = ring::FrontRing<netif::TxSring>;
    using RxRing = ring::FrontRing<netif::RxSring>;

    FrontQueue(std::unique_ptr<EventChannels> ev, DeviceShared& f, unsigned index);
    void on_event();
    void on_port();

    // Guest transmit (tx.cc).
    struct TxFrame {
        size_t len = 0;
        netif::Meta meta;
    };
    enum class TxNext { frame, skipped, drained };
    enum class TxStop { budget, no_room, drained };
    void run_tx();
    TxStop send_tx_batch();
    bool tx_room(unsigned& first) const;
    TxNext next_tx_frame(unsigned first, TxFrame& f);
    void put_tx(unsigned first, unsigned pages, const TxFrame& f);
    void prefetch_tx_page() const;
    void reap_tx();
    bool take_tx_responses();  // frees the buffers of answered requests

    // Guest receive (rx.cc).
    void run_rx();
    void post_rx();
    void deliver_rx(const RxChain& p);
    void release_rx(const RxChain& p);

    void fault(const Error& e);
    void watch_port(bool on);
    void schedule(bool& flag, void (FrontQueue::*run)());

    uint8_t* tx_page(unsigned i) const {
        return static_cast<uint8_t*>(tx_pool_.addr()) + i * kPageSize;
    }
    uint8_t* rx_page(unsigned i) const {
        return static_cast<uint8_t*>(rx_pool_.addr()) + i * kPageSize;
    }

    std::unique_ptr<EventChannels> ev_;
    DeviceShared& f_;
    unsigned index_;
    QueueKeys keys_;
    SharedPages tx_ring_page_, rx_ring_page_, tx_pool_, rx_pool_;
    TxRing tx_{nullptr};
    RxRing rx_{nullptr};
    Reactor* r_ = nullptr;
    LocalPort* port_ = nullptr;
    bool broken_ = false;
    bool port_watched_ = false;
    bool tx_scheduled_ = false, rx_scheduled_ = false, reap_scheduled_ = false;
    BusyPoll tx_poll_, rx_poll_;  // TX responses while blocked; RX responses
    Registration ev_watch_, port_watch_;
    DeferredWork work_;

    // TX pool: pages in flight, and where the next frame starts.
    std::vector<bool> tx_busy_ = std::vector<bool>(kPool, false);
    unsigned tx_head_ = 0;
    // Segments of a tagged GSO frame the backend cannot take whole
    // (offload::must_cut), put on the ring before the port is read again.
    pkt::Segments cut_;
    netif::Meta cut_meta_;
    // RX pool: free buffers, and which buffer each ring slot holds.
    std::vector<uint16_t> rx_free_;
    std::vector<int32_t> rx_slot_ = std::vector<int32_t>(kPool, -1);
    std::vector<uint8_t> scratch_ = std::vector<uint8_t>(70000);
};

}  // namespace xnet::netfront
