#include "runtime/memory.h"

#include <malloc.h>

#include <cstdio>
#include <cstring>

#include "runtime/json.h"

#if defined(__SANITIZE_ADDRESS__)
#define XNET_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XNET_ASAN 1
#endif
#endif

#ifdef XNET_ASAN
// From the ASan runtime (clang's <sanitizer/allocator_interface.h>; GCC
// ships the library without the header).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace xnet {
namespace {

std::size_t heap_in_use() {
#ifdef XNET_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    // glibc: bytes in use in the arenas plus the blocks it mmapped alone.
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
#endif
}

std::size_t resident_kib() {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    std::size_t kib = 0;
    while (std::fgets(line, sizeof line, f)) {
        if (std::strncmp(line, "VmRSS:", 6) == 0) {
            kib = std::strtoull(line + 6, nullptr, 10);
            break;
        }
    }
    std::fclose(f);
    return kib;
}

}  // namespace

MemoryUse memory_use() {
    return {heap_in_use(), resident_kib()};
}

std::string memory_reply() {
    const MemoryUse m = memory_use();
    JsonWriter w;
    w.begin_object().key("memory").begin_object();
    w.field("heap_bytes", m.heap_bytes).field("rss_kib", m.rss_kib);
    w.end_object().end_object();
    return w.take();
}

}  // namespace xnet
