// The sim platform's service constructors (internal to libxnet).
#pragma once

#include <memory>
#include <string>

#include "platform/evtchn.h"
#include "platform/gnttab.h"
#include "platform/sim/sim_conn.h"

namespace xnet::sim_client {

Result<std::unique_ptr<EventChannels>> open_evtchn(const std::string& dir, DomId dom);
Result<std::unique_ptr<GrantTable>> open_gnttab(const std::string& dir, DomId dom);
Result<std::unique_ptr<GrantShare>> open_gntshr(const std::string& dir, DomId dom);

}  // namespace xnet::sim_client
