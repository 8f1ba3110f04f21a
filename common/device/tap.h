// The TAP device that is a vif's local end: IFF_TAP | IFF_NO_PI |
// IFF_VNET_HDR | IFF_MULTI_QUEUE, one descriptor per queue, a virtio net
// header before every frame. And the few link settings the daemons make
// (up, MTU, MAC, carrier, GSO size), in the caller's network namespace.
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "packet/vnet.h"
#include "runtime/error.h"
#include "runtime/fd.h"

namespace xnet {

// What the reader of a TAP accepts (TUNSETOFFLOAD): partial checksums,
// TCP GSO frames; and whether the kernel may hand it fragmented frames
// (scatter-gather, the one of these a TAP takes from ethtool alone).
// ethtool -k on the TAP shows these four as the kernel's tx-checksum-
// ip-generic, tx-tcp-segmentation, tx-tcp6-segmentation, tx-scatter-gather.
struct TapOffload {
    bool csum = false;
    bool tso4 = false;
    bool tso6 = false;
    bool sg = true;
    bool operator==(const TapOffload&) const = default;
};

// The local stack's side of one queue: frames with a virtio header.
class LocalPort {
  public:
    virtual ~LocalPort() = default;
    // Readable when a frame waits; -1 when there is never anything to read.
    virtual int fd() const = 0;
    // Reads one frame into IOV; its length, or 0 when none waits.
    virtual Result<size_t> read(vnet::Hdr& h, std::span<const iovec> iov) = 0;
    virtual Status write(const vnet::Hdr& h, std::span<const iovec> frame) = 0;
};

// One queue's descriptor of the TAP NAME. Closed off the caller's thread
// (closer.h): the close of the last one removes the device, which the
// kernel takes its time over.
class TapQueue final : public LocalPort {
  public:
    TapQueue(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
    TapQueue(TapQueue&&) = default;
    ~TapQueue() override;
    int fd() const override { return fd_.get(); }
    Result<size_t> read(vnet::Hdr& h, std::span<const iovec> iov) override;
    Status write(const vnet::Hdr& h, std::span<const iovec> frame) override;

  private:
    UniqueFd fd_;
    std::string name_;
};

class Tap {
  public:
    // Creates NAME, or attaches to it if it exists (a persistent TAP left
    // by a previous run), with one queue.
    static Result<Tap> open(const std::string& name);

    const std::string& name() const { return name_; }
    // Queue I of a vif's queues: 0 lives as long as the Tap, the others are
    // attached on first use and detached by drop_queues().
    Result<LocalPort*> queue(unsigned i);
    void drop_queues() { extra_.clear(); }
    bool has_extra_queues() const { return !extra_.empty(); }

    // Sets all four; the TSO bits count only with csum (the kernel's rule).
    Status set_offload(TapOffload o);
    // A persistent TAP survives the daemon (kill -9, restart) with its
    // bridge membership; remove() ends that.
    Status set_persist(bool on);
    Status set_carrier(bool up);
    // Drops persistence so the device goes with the last descriptor.
    void remove();

  private:
    Result<std::unique_ptr<TapQueue>> add_queue() const;
    Tap(std::string name, UniqueFd fd) : name_(name), first_(std::move(fd), std::move(name)) {}
    std::string name_;
    TapQueue first_;
    bool granted_ = false;                          // TUNSETOFFLOAD said we take every offload
    std::vector<std::unique_ptr<TapQueue>> extra_;  // queues 1..
};

namespace link {
Status set_up(const std::string& ifname, bool up);
Status set_mtu(const std::string& ifname, unsigned mtu);
Status set_mac(const std::string& ifname, const std::array<uint8_t, 6>& mac);
// Largest GSO frame the stack may hand the device (IFLA_GSO_MAX_SIZE).
Status set_gso_max_size(const std::string& ifname, unsigned bytes);
// The GSO limit for a TAP whose frames go on a netif ring, where a packet's
// size is 16 bits. The kernel segments in software any frame whose length
// is at or above the limit, so with 65535 every frame fits. Any lower and
// a local TCP sender routed through a bridge (which keeps 65536 for
// itself) builds frames between the two sizes, every one of which would
// then be cut to MTU size before it reaches us.
inline constexpr unsigned kNetifGsoMaxSize = 65535;
bool exists(const std::string& ifname);
// "00:16:3e:01:02:03" -> bytes; nullopt when malformed.
std::optional<std::array<uint8_t, 6>> parse_mac(std::string_view s);
}  // namespace link

}  // namespace xnet
