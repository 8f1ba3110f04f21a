// Where one queue's rings and event channels are, as the frontend writes
// them and the backend reads them (io/netif.h, "Multi-queue"): flat in
// the frontend's directory for one queue, in queue-N/ for more, each with
// tx-ring-ref, rx-ring-ref and either event-channel or, with split
// channels, event-channel-tx and event-channel-rx. Both ends and the
// hostile tool go through these, so the layout is written once.
#pragma once

#include <optional>
#include <string>

#include "platform/evtchn.h"
#include "platform/gnttab.h"
#include "platform/xenstore.h"
#include "runtime/error.h"

namespace xnet::netif {

struct QueueKeys {
    GrantRef tx_ref = 0, rx_ref = 0;
    Port tx_port = 0, rx_port = 0;  // equal unless split event channels
    bool operator==(const QueueKeys&) const = default;
};

// The directory of queue I of QUEUES in DIR.
std::string queue_dir(const std::string& dir, unsigned queues, unsigned i);

// Queue I's keys from DIR; an error names the key. Split channels where
// event-channel-tx exists; then -tx and -rx must differ.
Result<QueueKeys> read_queue_keys(const XenStore& xs, const std::string& dir, unsigned queues,
                                  unsigned i);

// Writes queue I's keys in transaction TX; SPLIT: the two ports apart.
Status write_queue_keys(const XenStore& xs, const std::string& dir, unsigned queues, unsigned i,
                        const QueueKeys& k, bool split, XenStore::Tx tx);

// Whether KEY (a name in a frontend's directory) belongs to the queue
// layout: what a reconnecting frontend removes before writing its new one.
bool is_queue_key(const std::string& key);

// DIR/mtu as the link's MTU: nullopt if absent (or unreadable: the
// toolstack's default stands); an error naming the key if it is not a
// number in 68..65535 (RFC 791's minimum up to netif's largest).
Result<std::optional<unsigned>> read_mtu(const XenStore& xs, const std::string& dir);

}  // namespace xnet::netif
