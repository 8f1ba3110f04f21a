// The offload policy keys an end reads from its own xenstore directory
// (docs/xenstore-keys.md):
//
//   <dir>/offload/profile   a profile's name (kProfiles)
//   <dir>/offload/<key>     on | off, for each setting's key (kSettings)
//
// The profile is the base and each explicit key overrides it; with nothing
// written, the daemon's own default (its --profile, `safe` unless told).
// Nothing here looks at who the peer is.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "netif/offload.h"
#include "platform/xenstore.h"
#include "runtime/error.h"

namespace xnet::offload {

struct KeyedPolicy {
    Policy policy;
    // One per rejected key, naming it: "/local/.../offload/rx-checksum:
    // 'maybe' is not on or off". Its setting kept its PREVIOUS value.
    std::vector<Error> errors;
};

// Reads DIR/offload/. FALLBACK applies where nothing is written; a key with
// a bad value (or a profile that is not one) leaves its setting(s) as in
// PREVIOUS, the policy in force until now.
KeyedPolicy read_policy_keys(const XenStore& xs, const std::string& dir, const Policy& fallback,
                             const Policy& previous);

// Writes S's key in DIR/offload/ as VALUE ("on" or "off"), in transaction
// TX, and removes the keys of the settings narrower than S: a group written
// now means all of its parts (xnetctl -K tx on after tx-checksum-udpv4 off
// turns UDPv4 on too), as ethtool -K does.
Status write_setting(const XenStore& xs, const std::string& dir, const Setting& s,
                     std::string_view value, XenStore::Tx tx);

// The feature keys (kFeatureKeys) an end wrote in DIR: what it takes from
// the ring. Absent keys are off; a malformed one is an error naming it.
Result<Features> read_features(const XenStore& xs, const std::string& dir);
// Writes F's keys in DIR, in transaction TX.
Status write_features(const XenStore& xs, const std::string& dir, const Features& f,
                      XenStore::Tx tx);
// {"feature-sg":true,...}: F by its keys, for the control socket.
std::string json(const Features& f);

// The policy keys as one end follows them: re-read on every change of its
// directory, each new set of errors reported once (not at every event).
class PolicyFollower {
  public:
    explicit PolicyFollower(const Policy& fallback) : fallback_(fallback), policy_(fallback) {}
    const Policy& policy() const { return policy_; }
    // Re-reads DIR/offload/; REPORT gets the errors when they differ from
    // the last time. True if the policy in force changed.
    bool update(const XenStore& xs, const std::string& dir,
                const std::function<void(const Error&)>& report);

  private:
    Policy fallback_, policy_;
    std::string errors_;
};

}  // namespace xnet::offload
