#include "host.h"

#include <fmt/format.h>

namespace xnet::netback {

Result<std::unique_ptr<WorkerHost>> WorkerHost::start(unsigned index, const Platform& p,
                                                      Reactor& control,
                                                      std::chrono::milliseconds stall_report) {
    auto gt = p.open_gnttab();
    if (!gt) {
        return fail(gt.error().code, fmt::format("worker {}: {}", index, gt.error().message()));
    }
    XNET_TRY_ASSIGN(auto w, Worker::start(fmt::format("xnetback-w{}", index), stall_report));
    return std::unique_ptr<WorkerHost>(new WorkerHost(control, std::move(*gt), std::move(w)));
}

}  // namespace xnet::netback
