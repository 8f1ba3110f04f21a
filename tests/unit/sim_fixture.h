// A private xnet-sim daemon for a test: forked, in its own temporary
// directory, stopped and removed when the fixture goes away.
#pragma once

#include <sys/types.h>
#include <string>

#include "platform/platform.h"

namespace xt {

class SimDaemon {
  public:
    SimDaemon();
    ~SimDaemon();
    SimDaemon(const SimDaemon&) = delete;
    SimDaemon& operator=(const SimDaemon&) = delete;

    const std::string& dir() const { return dir_; }
    // Creates a domain through the toolstack's platform call.
    void create_domain(uint32_t dom);
    void destroy_domain(uint32_t dom);
    std::unique_ptr<xnet::Platform> platform(uint32_t dom);

  private:
    std::string dir_;
    pid_t pid_ = -1;
};

}  // namespace xt
