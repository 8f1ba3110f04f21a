// libFuzzer: xnetfront's queue against a hostile backend's responses
// (tests/fuzz/ring_harness.cc).
#include "ring_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return xt::fuzz_frontend_rings(data, size);
}
