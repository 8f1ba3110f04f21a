#include "device/tap.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "device/ethtool.h"
#include "runtime/blocking.h"
#include "runtime/closer.h"

namespace xnet {
namespace {

constexpr short kTapFlags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;

Result<UniqueFd> open_queue(const std::string& name) {
    blocking::Scope wait(blocking::Service::tap);
    if (name.empty() || name.size() >= IFNAMSIZ) {
        return fail(EINVAL, "creating TAP '" + name + "': bad interface name");
    }
    UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd) return fail(errno, "opening /dev/net/tun");
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ifr.ifr_flags = kTapFlags;
    if (ioctl(fd.get(), TUNSETIFF, &ifr) < 0) return fail(errno, "creating TAP " + name);
    int hdr = sizeof(vnet::Hdr);
    if (ioctl(fd.get(), TUNSETVNETHDRSZ, &hdr) < 0) {
        return fail(errno, "setting the virtio header size of " + name);
    }
    return fd;
}

Status ifreq_ioctl(unsigned long req, ifreq& ifr, const std::string& what) {
    blocking::Scope wait(blocking::Service::tap);
    UniqueFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s) return fail(errno, what);
    if (ioctl(s.get(), req, &ifr) < 0) return fail(errno, what);
    return {};
}

ifreq named(const std::string& ifname) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    return ifr;
}

}  // namespace

TapQueue::~TapQueue() {
    closer::close_later(std::move(fd_), std::move(name_));
}

Result<size_t> TapQueue::read(vnet::Hdr& h, std::span<const iovec> iov) {
    iovec v[20];
    if (iov.size() + 1 > std::size(v)) return fail(EINVAL, "reading the TAP: too many buffers");
    v[0] = {&h, sizeof h};
    std::copy(iov.begin(), iov.end(), v + 1);
    ssize_t n = ::readv(fd_.get(), v, int(iov.size() + 1));
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return size_t{0};
        return fail(errno, "reading the TAP");
    }
    if (size_t(n) < sizeof h) return fail(EPROTO, "reading the TAP: short frame");
    return size_t(n) - sizeof h;
}

Status TapQueue::write(const vnet::Hdr& h, std::span<const iovec> frame) {
    iovec v[20];
    if (frame.size() + 1 > std::size(v)) return fail(EINVAL, "writing the TAP: too many buffers");
    v[0] = {const_cast<vnet::Hdr*>(&h), sizeof h};
    std::copy(frame.begin(), frame.end(), v + 1);
    if (::writev(fd_.get(), v, int(frame.size() + 1)) < 0) {
        return fail(errno, "writing the TAP");
    }
    return {};
}

Result<Tap> Tap::open(const std::string& name) {
    // Not the device of that name on its way out: a new one, once it is gone.
    closer::wait_for(name);
    XNET_TRY_ASSIGN(auto fd, open_queue(name));
    return Tap(name, std::move(fd));
}

Result<LocalPort*> Tap::queue(unsigned i) {
    if (i == 0) return &first_;
    while (extra_.size() < i) {
        XNET_TRY_ASSIGN(auto q, add_queue());
        extra_.push_back(std::move(q));
    }
    return extra_[i - 1].get();
}

Result<std::unique_ptr<TapQueue>> Tap::add_queue() const {
    XNET_TRY_ASSIGN(auto fd, open_queue(name_));
    return std::make_unique<TapQueue>(std::move(fd), name_);
}

// A TAP's features are what its user asks for (ethtool -K, "wanted")
// within what its reader said it takes (TUNSETOFFLOAD). We say once that
// we take everything, and then ask for what the policy shows as its user,
// by ethtool's interface: so that ethtool -K tx on by someone else is a
// change the kernel makes and announces, rather than one it refuses
// silently because TUNSETOFFLOAD ruled it out.
Status Tap::set_offload(TapOffload o) {
    blocking::Scope wait(blocking::Service::tap);
    if (!granted_) {
        if (ioctl(first_.fd(), TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
            return fail(errno, "setting the offloads of " + name_);
        }
        granted_ = true;
    }
    unsigned index = if_nametoindex(name_.c_str());
    if (!index) return fail(errno, "setting the features of " + name_);
    const ethtool::Wanted features[] = {{ethtool::kCsum, o.csum},
                                        {ethtool::kTso4, o.csum && o.tso4},
                                        {ethtool::kTso6, o.csum && o.tso6},
                                        {ethtool::kSg, o.sg},
                                        {ethtool::kSgFraglist, o.sg}};
    if (auto st = ethtool::set_features(index, features); !st) {
        return fail(st.error().code, "setting the features of " + name_);
    }
    return {};
}

Status Tap::set_persist(bool on) {
    blocking::Scope wait(blocking::Service::tap);
    if (ioctl(first_.fd(), TUNSETPERSIST, on ? 1 : 0) < 0) {
        return fail(errno, "making " + name_ + (on ? " persistent" : " transient"));
    }
    return {};
}

Status Tap::set_carrier(bool up) {
    blocking::Scope wait(blocking::Service::tap);
    int v = up ? 1 : 0;
    if (ioctl(first_.fd(), TUNSETCARRIER, &v) < 0) {
        return fail(errno, "setting the carrier of " + name_);
    }
    return {};
}

void Tap::remove() {
    (void)set_persist(false);
}

namespace link {

Status set_up(const std::string& ifname, bool up) {
    ifreq ifr = named(ifname);
    auto st = ifreq_ioctl(SIOCGIFFLAGS, ifr, "reading the flags of " + ifname);
    if (!st) return st;
    if (up) {
        ifr.ifr_flags = short(ifr.ifr_flags | IFF_UP);
    } else {
        ifr.ifr_flags = short(ifr.ifr_flags & ~IFF_UP);
    }
    return ifreq_ioctl(SIOCSIFFLAGS, ifr, "bringing " + ifname + (up ? " up" : " down"));
}

Status set_mtu(const std::string& ifname, unsigned mtu) {
    ifreq ifr = named(ifname);
    ifr.ifr_mtu = int(mtu);
    return ifreq_ioctl(SIOCSIFMTU, ifr, "setting the MTU of " + ifname);
}

Status set_mac(const std::string& ifname, const std::array<uint8_t, 6>& mac) {
    ifreq ifr = named(ifname);
    ifr.ifr_hwaddr.sa_family = 1;  // ARPHRD_ETHER
    std::memcpy(ifr.ifr_hwaddr.sa_data, mac.data(), mac.size());
    return ifreq_ioctl(SIOCSIFHWADDR, ifr, "setting the MAC address of " + ifname);
}

Status set_gso_max_size(const std::string& ifname, unsigned bytes) {
    std::string what = "setting the GSO size of " + ifname;
    unsigned index = if_nametoindex(ifname.c_str());
    if (!index) return fail(errno, what);
    UniqueFd s(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!s) return fail(errno, what);
    struct {
        nlmsghdr nh;
        ifinfomsg ifi;
        alignas(NLMSG_ALIGNTO) char attrs[32];
    } req{};
    req.nh.nlmsg_type = RTM_NEWLINK;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.ifi.ifi_family = AF_UNSPEC;
    req.ifi.ifi_index = int(index);
    auto* rta = reinterpret_cast<rtattr*>(req.attrs);
    rta->rta_type = IFLA_GSO_MAX_SIZE;
    rta->rta_len = RTA_LENGTH(sizeof(uint32_t));
    uint32_t v = bytes;
    std::memcpy(RTA_DATA(rta), &v, sizeof v);
    req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg)) + RTA_ALIGN(rta->rta_len);
    if (send(s.get(), &req, req.nh.nlmsg_len, 0) < 0) return fail(errno, what);
    alignas(nlmsghdr) char buf[512];
    ssize_t n = recv(s.get(), buf, sizeof buf, 0);
    if (n < 0) return fail(errno, what);
    auto* nh = reinterpret_cast<nlmsghdr*>(buf);
    if (NLMSG_OK(nh, size_t(n)) && nh->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(nh));
        if (err->error) return fail(-err->error, what);
    }
    return {};
}

bool exists(const std::string& ifname) {
    return if_nametoindex(ifname.c_str()) != 0;
}

std::optional<std::array<uint8_t, 6>> parse_mac(std::string_view s) {
    std::array<uint8_t, 6> mac{};
    if (s.size() != 17) return std::nullopt;
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (size_t i = 0; i < 6; ++i) {
        int hi = hex(s[i * 3]), lo = hex(s[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':')) return std::nullopt;
        mac[i] = uint8_t(hi * 16 + lo);
    }
    return mac;
}

}  // namespace link
}  // namespace xnet
