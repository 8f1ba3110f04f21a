// What the files of one backend queue share (queue.cc: wiring, events and
// faults; tx.cc: guest TX; rx.cc: guest RX): the batch limits and the
// record each direction keeps per packet while its batch is copied.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "queue.h"

namespace xnet::netback {

inline constexpr size_t kBatch = 64;  // packets per grant copy
// How long a failed grant copy waits for the peer's channels to close
// before it is blamed on the peer (BackQueue::copy_failed).
inline constexpr std::chrono::milliseconds kTeardownGrace{200};
inline constexpr unsigned kRounds = 4;      // batches per wakeup before yielding
inline constexpr size_t kMaxFrame = 65536;  // read buffer per frame (kMaxPacket + 1)
inline constexpr size_t kArena = 2u << 20;  // per direction
// Bytes per guest TX batch: a frontend can keep only about 16 64 KiB
// frames in flight (its ring's slots), so answering them a few at a time
// lets it refill while we copy the rest, instead of waiting for all.
inline constexpr size_t kTxBatchBytes = 256u << 10;
static_assert(kTxBatchBytes + kMaxFrame <= kArena, "a batch's last frame fits the arena");

constexpr size_t align64(size_t n) {
    return (n + 63) & ~size_t(63);
}

struct BackQueue::TxPacket {
    uint16_t ids[netif::kFatalSlots] = {};
    uint8_t nslots = 0, nextras = 0;
    std::optional<Drop> refused;  // answered with an error, nothing copied: why
    netif::Meta meta;
    uint32_t off = 0, len = 0;
    uint32_t seg_first = 0, seg_count = 0;
};

struct BackQueue::RxFrame {
    uint8_t* data = nullptr;
    uint32_t len = 0;
    bool dropped = false;
    netif::Meta meta;
    unsigned data_slots = 0;
    unsigned slots() const { return data_slots + (meta.gso != netif::Gso::none ? 1 : 0); }
    uint32_t rsp_first = 0, rsp_count = 0;
    uint32_t seg_first = 0, seg_count = 0;
};

// What filling one RX batch ended on.
struct BackQueue::RxBatch {
    bool port_empty = false;
    std::optional<RxFrame> no_room;  // read, but the frontend has no buffers for it
};

}  // namespace xnet::netback
