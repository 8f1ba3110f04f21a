// The Xen platform's service constructors (internal to libxnet).
#pragma once

#include <memory>

#include "platform/evtchn.h"
#include "platform/gnttab.h"

namespace xnet::xen {

Result<std::unique_ptr<EventChannels>> open_evtchn();
Result<std::unique_ptr<GrantTable>> open_gnttab();
Result<std::unique_ptr<GrantShare>> open_gntshr();

}  // namespace xnet::xen
