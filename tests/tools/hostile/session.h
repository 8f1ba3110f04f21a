// xnet-hostile's frontend: the xenbus handshake done as a frontend does it,
// with hooks for breaking it (keys edited before they are written) and
// the rings of one connection to break the datapath with. It waits on the
// backend's state through a xenstore watch, so an attack costs what the
// backend takes to react, not a polling interval.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "netif/netif.h"
#include "netif/ring.h"
#include "platform/platform.h"

namespace hostile {

using namespace xnet;
using netif::State;
using TxRing = ring::FrontRing<netif::TxSring>;
using RxRing = ring::FrontRing<netif::RxSring>;

inline constexpr auto kDeadline = std::chrono::seconds(10);
inline constexpr unsigned kDataPages = 4;

// The frontend's keys, in the order they are written; an attack may
// change, add or remove any before the handshake writes them.
using Keys = std::vector<std::pair<std::string, std::string>>;
void set_key(Keys& k, std::string_view key, std::string value);
void drop_key(Keys& k, std::string_view key);

// The rings and pages of one connection, and its port; released (in the
// members' destructors) once the backend has let go.
struct Conn {
    SharedPages tx_page, rx_page, data;
    Port port = 0;
    TxRing tx{nullptr};
    RxRing rx{nullptr};
    netif::TxSring* tx_sring() const { return static_cast<netif::TxSring*>(tx_page.addr()); }
    netif::RxSring* rx_sring() const { return static_cast<netif::RxSring*>(rx_page.addr()); }
    uint8_t* page(unsigned i) const { return static_cast<uint8_t*>(data.addr()) + i * 4096; }
};

class Session {
  public:
    Session(Platform& pf, XenStore xs, std::unique_ptr<GrantShare> gs,
            std::unique_ptr<EventChannels> ev, unsigned devid);

    // Finds the backend, watches its state, and starts from Initialising.
    Status init();

    // Shares the rings and data pages, writes the keys (through EDIT) and
    // Connected, and waits until the backend leaves InitWait: its state.
    // RACE, if any, runs right after Connected is written.
    Result<std::pair<Conn, State>> connect(const std::function<void(Keys&, const Conn&)>& edit,
                                           const std::function<void(const Conn&)>& race);
    // Closed, then Initialising, until the backend offers InitWait again:
    // how every attack ends, and how the first begins.
    Status start_over();

    // Until WANT holds for the backend's state, or DEADLINE.
    Result<State> wait_backend(const std::function<bool(State)>& want,
                               std::chrono::milliseconds deadline = kDeadline) const;
    Result<State> backend_state() const;

    DomId self() const { return self_; }
    DomId backend() const { return be_dom_; }
    GrantShare& gs() { return *gs_; }
    EventChannels& ev() { return *ev_; }
    const XenStore& xs() const { return xs_; }
    const std::string& dir() const { return fe_; }

  private:
    Status set_state(State s) const;

    XenStore xs_;
    std::unique_ptr<GrantShare> gs_;
    std::unique_ptr<EventChannels> ev_;
    DomId self_;
    std::string fe_, be_;
    DomId be_dom_ = 0;
};

}  // namespace hostile
