// A local stack standing where a TAP would be, for the queue tests: frames
// queued for the datapath to read, and what the datapath wrote.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <deque>

#include <doctest/doctest.h>

#include "device/tap.h"
#include "frames.h"
#include "runtime/error.h"
#include "runtime/fd.h"

namespace xt {

template <class T>
T take(xnet::Result<T> r) {
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message()));
    return std::move(*r);
}

class FakePort final : public xnet::LocalPort {
  public:
    struct Frame {
        xnet::vnet::Hdr hdr;
        Bytes bytes;
    };
    FakePort() : fd_(eventfd(0, EFD_NONBLOCK)) {}
    int fd() const override { return fd_.get(); }
    xnet::Result<size_t> read(xnet::vnet::Hdr& h, std::span<const iovec> iov) override {
        if (inbox.empty()) {
            uint64_t v;
            (void)!::read(fd_.get(), &v, sizeof v);  // not readable until the next send
            return size_t(0);
        }
        Frame f = std::move(inbox.front());
        inbox.pop_front();
        REQUIRE(f.bytes.size() <= iov[0].iov_len);
        std::memcpy(iov[0].iov_base, f.bytes.data(), f.bytes.size());
        h = f.hdr;
        return f.bytes.size();
    }
    xnet::Status write(const xnet::vnet::Hdr& h, std::span<const iovec> frame) override {
        Frame f{h, {}};
        for (auto& v : frame) {
            auto* p = static_cast<const uint8_t*>(v.iov_base);
            f.bytes.insert(f.bytes.end(), p, p + v.iov_len);
        }
        outbox.push_back(std::move(f));
        return {};
    }
    void send(Frame f) {
        inbox.push_back(std::move(f));
        uint64_t one = 1;
        (void)!::write(fd_.get(), &one, sizeof one);
    }
    std::deque<Frame> inbox, outbox;

  private:
    xnet::UniqueFd fd_;
};

}  // namespace xt
