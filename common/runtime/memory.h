#pragma once
// What the process holds in memory, for the control request "memory": the
// leak checks compare these figures before and after many attacks.

#include <cstddef>
#include <string>

namespace xnet {

struct MemoryUse {
    // Bytes the allocator has handed out and not been given back. Under
    // AddressSanitizer its own allocator's count (freed blocks sit in its
    // quarantine, so the resident size grows without any leak).
    std::size_t heap_bytes = 0;
    std::size_t rss_kib = 0;  // VmRSS of /proc/self/status
};

MemoryUse memory_use();

// {"memory":{"heap_bytes":N,"rss_kib":M}}
std::string memory_reply();

}  // namespace xnet
