// Fuzz harnesses for the two ends' ring parsers: the backend's queue fed
// with whatever a hostile frontend could put on its rings, and the
// frontend's queue with whatever a hostile backend could answer (for
// guests that do not trust their backend, netif.h's "trusted" key). Each
// runs the real BackQueue/FrontQueue on an in-process reactor, with grant
// tables, event channels and a local port faked in memory, and checks
// what a peer may rely on (docs/robustness.md lists the properties).
//
// Linked into the libFuzzer targets (tests/fuzz/fuzz_*_rings.cc) and into
// the unit tests, which replay generated inputs through them under the
// sanitizers in every CI run.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xt {

// Both return 0; a broken property aborts (so the fuzzer records it).
int fuzz_backend_rings(const uint8_t* data, size_t size);
int fuzz_frontend_rings(const uint8_t* data, size_t size);

}  // namespace xt
