// The TAP's features and an end's policy, both ways: what `ethtool -k` on
// the TAP shows for the rules in force (so that it tells the truth), and
// what a user's `ethtool -K` on it asks of the policy (so that it changes
// it, through the same keys xnetctl writes).
//
// Only the kernel can say what a TAP shows, and on a TAP the features a
// stack sees are what its reader takes: with tx-checksumming off the
// kernel completes every checksum before the frame reaches us, with TSO
// off it segments. So the TAP is set to what this end puts on the ring;
// a mixed setting (some protocols on) shows as on, xnet completing the
// rest (xnetctl -k says which). rx-checksumming has no TAP feature to
// show it (frames we write are taken as they come), nor have the per-
// version checksum bits (tx-checksum-ipv4/-ipv6 are fixed off on a TAP).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "device/ethtool.h"
#include "device/link.h"
#include "device/tap.h"
#include "netif/offload.h"
#include "netif/policy.h"
#include "platform/xenstore.h"

namespace xnet::offload {

// What the TAP shows under policy P with RULES toward the peer.
TapOffload shown(const Policy& p, const TxRules& rules);

// One setting a user asked for with ethtool -K, by the feature's name.
struct Request {
    const Setting* setting = nullptr;
    bool on = false;
    bool operator==(const Request&) const = default;
};

// What differs between what the TAP was last set to (APPLIED) and what
// its user now asks for (WANTED), as settings: our own writes produce no
// requests, which is what keeps the two from chasing each other. Parts
// that together make a group with one value come as the group (ethtool
// -K tso off changes both TSO bits: written as tcp-segmentation-offload).
std::vector<Request> requests(const TapOffload& applied, const TapOffload& wanted);

struct Verdict {
    std::vector<Request> accepted;
    std::vector<std::pair<Request, std::string>> refused;  // with why
};
// Which of REQS the policy P can take toward a peer that advertised PEER
// (PEER_NAME: "frontend", "backend" in the reasons): a request is taken
// when, written with the others taken, the TAP would show it.
Verdict judge(const Policy& p, const Features& peer, std::string_view peer_name,
              const std::vector<Request>& reqs);

// "tx-tcp-segmentation on": a request as ethtool says it.
std::string describe(const Request& r);

// Writes REQS as the settings under DIR/offload/ (write_setting: a group
// removes its parts' keys), in TX.
Status write_requests(const XenStore& xs, const std::string& dir, const std::vector<Request>& reqs,
                      XenStore::Tx tx);

// Every feature: the peer before it has said what it takes, so that the
// TAP shows what the policy allows until then.
inline constexpr Features kEveryFeature{
    .sg = true, .gso4 = true, .gso6 = true, .ipv6_csum = true, .no_csum = false, .tagged = true};

// Keeps one end's TAP showing its policy, and turns its user's ethtool -K
// into settings. Lives on the end's control loop.
class TapSync {
  public:
    using WriteSettings = std::function<Status(const std::vector<Request>&)>;
    // NAME (the TAP's) starts the log lines; PEER names the other end.
    TapSync(std::string name, std::string_view peer) : name_(std::move(name)), peer_(peer) {}

    // PEER is what the other end advertised; none while it has not
    // connected (kEveryFeature: the TAP shows what the policy allows).

    // Sets L to what P shows toward PEER; remembered as ours. The one
    // place an end sets its TAP's offloads.
    Status apply(Link& l, const Policy& p, const Features* peer);

    // Calls CHANGED whenever the TAP's features may have changed, from M
    // (none: not followed); once, however often it is called, until
    // unfollow(). A TAP that cannot be watched is logged and not followed.
    void follow(ethtool::Monitor* m, std::function<void()> changed);
    void unfollow() { watch_.reset(); }

    // L's features may have changed. What its user changed (not we) is
    // judged against P toward PEER: what can be taken is written with
    // WRITE, to come back as a policy change; what cannot is logged with
    // why and the TAP put back.
    void on_changed(Link& l, const Policy& p, const Features* peer, const WriteSettings& write);

  private:
    std::string name_;
    std::string_view peer_;
    std::optional<TapOffload> applied_;
    ethtool::Watch watch_;
};

}  // namespace xnet::offload
