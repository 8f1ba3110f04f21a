// A minimal pcap file writer (the classic libpcap format, Ethernet link
// type), for handing frames to tshark.
#pragma once

#include <string>
#include <vector>

#include "frames.h"

namespace xt {

// Writes `frames` to `path`; throws std::runtime_error naming the path on failure.
void write_pcap(const std::string& path, const std::vector<Bytes>& frames);

}  // namespace xt
