// The hypervisor services a daemon needs, from Xen or from xnet-sim, chosen
// at run time (--platform xen|sim; default: xen when /dev/xen/evtchn exists).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "platform/evtchn.h"
#include "platform/gnttab.h"
#include "platform/xenstore.h"
#include "runtime/error.h"

namespace xnet {

enum class PlatformKind { xen, sim };

Result<PlatformKind> parse_platform(std::string_view name);
PlatformKind default_platform();
const char* platform_name(PlatformKind k);

class Platform {
  public:
    virtual ~Platform() = default;
    virtual PlatformKind kind() const = 0;
    // The domain this process runs in.
    virtual DomId self() const = 0;

    // Where this domain's daemons keep their control sockets: /run/xnet on
    // Xen, the domain's directory of the sim on xnet-sim.
    virtual std::string run_dir() const = 0;

    virtual Result<XenStore> open_store() const = 0;
    virtual Result<std::unique_ptr<EventChannels>> open_evtchn() const = 0;
    virtual Result<std::unique_ptr<GrantTable>> open_gnttab() const = 0;
    virtual Result<std::unique_ptr<GrantShare>> open_gntshr() const = 0;
};

// Xen: the libraries find the hypervisor themselves. Sim: XNET_SIM_DIR and
// XNET_SIM_DOMID (as `xnet-sim env` prints them) say where and who.
Result<std::unique_ptr<Platform>> open_platform(PlatformKind kind);

// The sim platform for domain DOM of the sim in DIR, for tests and tools.
Result<std::unique_ptr<Platform>> open_sim_platform(const std::string& dir, DomId dom);

}  // namespace xnet
