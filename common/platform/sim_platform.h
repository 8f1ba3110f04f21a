// The sim platform's service constructors (internal to libxnet).
#pragma once

#include <memory>
#include <string>

#include "sim_conn.h"
#include "xnet/platform/evtchn.h"
#include "xnet/platform/gnttab.h"

namespace xnet::sim_client {

Result<std::unique_ptr<EventChannels>> open_evtchn(const std::string& dir, DomId dom);
Result<std::unique_ptr<GrantTable>> open_gnttab(const std::string& dir, DomId dom);
Result<std::unique_ptr<GrantShare>> open_gntshr(const std::string& dir, DomId dom);

}  // namespace xnet::sim_client
