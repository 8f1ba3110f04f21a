// What the files of one frontend queue share (queue.cc: grants, events and
// faults; tx.cc: guest transmit; rx.cc: guest receive): the limits of a
// round of work and of a frame.
#pragma once

#include <cstddef>

#include "queue.h"

namespace xnet::netfront {

using netif::kPage;

inline constexpr unsigned kMaxFramePages = 17;  // 64 KiB of frame and its headers
inline constexpr unsigned kBudget = 256;        // frames per direction per wakeup
// Requests are published every this many bytes of frames, so the backend
// copies big frames while we read the next ones, rather than after.
inline constexpr size_t kPushBytes = 64u << 10;
// The pool page this many frames ahead is fetched for writing as each
// frame goes on the ring (tx.cc, prefetch_tx_page).
inline constexpr unsigned kPrefetchFrames = 2;

}  // namespace xnet::netfront
