// A link device standing where a TAP would be, for the state machine
// tests: it records what the handshake asked of it, and its queues are
// fake ports.
#pragma once

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "device/link.h"
#include "fake_port.h"

namespace xt {

class FakeLink final : public xnet::Link {
  public:
    explicit FakeLink(std::string name) : name_(std::move(name)) {}
    const std::string& name() const override { return name_; }
    xnet::Result<xnet::LocalPort*> queue(unsigned i) override {
        while (ports.size() <= i)
            ports.push_back(std::make_unique<FakePort>());
        return ports[i].get();
    }
    void drop_queues() override { ports.resize(std::min<size_t>(ports.size(), 1)); }
    bool has_extra_queues() const override { return ports.size() > 1; }
    xnet::Status set_offload(xnet::TapOffload o) override {
        offload = o;
        wanted = o;  // as TUNSETOFFLOAD does
        return {};
    }
    xnet::Result<xnet::TapOffload> wanted_offload() override { return wanted; }
    xnet::Status set_carrier(bool up) override {
        carrier = up;
        return {};
    }
    xnet::Status set_up(bool on) override {
        up = on;
        return {};
    }
    xnet::Status set_mtu(unsigned m) override {
        mtu = m;
        return {};
    }
    xnet::Status set_mac(const std::array<uint8_t, 6>& m) override {
        mac = m;
        return {};
    }
    xnet::Status set_gso_max_size(unsigned bytes) override {
        gso_max = bytes;
        return {};
    }
    void remove() override { *removed = true; }

    std::string name_;
    std::vector<std::unique_ptr<FakePort>> ports;
    xnet::TapOffload offload;
    xnet::TapOffload wanted;  // a test changes it as ethtool -K would
    bool carrier = true, up = false;
    unsigned mtu = 0, gso_max = 0;
    std::array<uint8_t, 6> mac{};
    std::shared_ptr<bool> removed = std::make_shared<bool>(false);
};

}  // namespace xt
