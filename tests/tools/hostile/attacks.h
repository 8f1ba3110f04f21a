// The catalogue of xnet-hostile's attacks: what each one breaks and what
// a backend must do about it.
#pragma once

#include <functional>
#include <span>
#include <string>

#include "session.h"

namespace hostile {

enum class Expect {
    answered,         // a well-formed frame is answered OKAY; the vif stays Connected
    refused,          // the backend leaves Connected (it disconnects the vif)
    never_connected,  // bad keys: the backend refuses the handshake (Closing)
    survives,         // either is fine, but the backend must still serve us after
};

struct Attack {
    const char* name;
    const char* what;
    Expect expect;
    // Bad keys, written instead of the good ones (null: the standard keys).
    std::function<void(Session&, Keys&, const Conn&)> keys = nullptr;
    // What it does on the rings once connected; for Expect::answered, the
    // id its frame was sent with (the response must carry it).
    std::function<Result<uint16_t>(Session&, Conn&)> rings = nullptr;
    // Whether it needs frames toward the guest to show (RX buffers): the
    // caller sends broadcasts meanwhile.
    bool needs_traffic = false;
    // Runs right after the handshake wrote Connected, racing the backend.
    std::function<void(Session&, const Conn&)> race = nullptr;
};

std::span<const Attack> attacks();
// One well-formed frame with request id ID, published and notified.
Result<uint16_t> send_valid(Session& s, Conn& c, uint16_t id);
const Attack* find_attack(const std::string& name);
// What "all" runs: every attack but the slow event storm.
bool in_all(const Attack& a);

}  // namespace hostile
