// The xenstore wire protocol (xen/io/xs_wire.h) over byte streams: requests
// in, replies and watch events out. Socket-agnostic, so the daemon binds it
// to Unix sockets and the fuzzer feeds it bytes directly.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store.h"

namespace xnet::sim {

class XsServer {
  public:
    // Queues bytes for a connection; the daemon writes them out.
    using Send = std::function<void(ConnId, std::string)>;

    XsServer(Store& store, Send send) : store_(store), send_(std::move(send)) {}

    // Feeds bytes read from a connection. Returns false when the client broke
    // the protocol badly enough that xenstored drops it (an oversized
    // message): the caller closes the connection.
    bool input(ConnId conn, std::string_view bytes);

    // Called by the store's sink.
    void watch_event(const WatchEvent& ev);

    void forget(ConnId conn) { inbuf_.erase(conn); }

  private:
    void handle(ConnId conn, uint32_t type, uint32_t req_id, uint32_t tx_id,
                std::string_view payload);
    void reply(ConnId conn, uint32_t type, uint32_t req_id, uint32_t tx_id, std::string_view body);
    void reply_error(ConnId conn, uint32_t req_id, uint32_t tx_id, int err);

    Store& store_;
    Send send_;
    std::unordered_map<ConnId, std::string> inbuf_;
};

// The wire name of an errno ("ENOENT"), as xsd_errors spells it.
const char* xs_error_name(int err);

}  // namespace xnet::sim
