// libFuzzer: xnetback's queue against a hostile frontend's rings
// (tests/fuzz/ring_harness.cc).
#include "ring_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return xt::fuzz_backend_rings(data, size);
}
