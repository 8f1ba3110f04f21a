#include "runtime/genetlink.h"

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

namespace xnet::genl {
namespace {

constexpr size_t align4(size_t n) {
    return (n + 3) & ~size_t(3);
}
constexpr size_t kAttrHdr = sizeof(nlattr);
constexpr size_t kMsgHdrs = NLMSG_HDRLEN + GENL_HDRLEN;
// Big enough for the largest reply we ask for (ethtool's features with
// their names, a few KiB); a reply that does not fit is an error (MSG_TRUNC).
constexpr size_t kRecvBuffer = 64 * 1024;

// Walks the netlink messages of one datagram; false if one overruns.
bool each_message(std::span<const uint8_t> dgram,
                  const std::function<void(const nlmsghdr&, std::span<const uint8_t>)>& f) {
    while (dgram.size() >= sizeof(nlmsghdr)) {
        nlmsghdr h;
        std::memcpy(&h, dgram.data(), sizeof h);
        if (h.nlmsg_len < sizeof h || h.nlmsg_len > dgram.size()) return false;
        f(h, dgram.subspan(sizeof h, h.nlmsg_len - sizeof h));
        dgram = dgram.subspan(std::min(dgram.size(), size_t(NLMSG_ALIGN(h.nlmsg_len))));
    }
    return true;
}

// A genetlink message's command and attributes, copied out of the datagram.
std::optional<Reply> as_reply(std::span<const uint8_t> payload) {
    if (payload.size() < GENL_HDRLEN) return std::nullopt;
    Reply r;
    genlmsghdr g;
    std::memcpy(&g, payload.data(), sizeof g);
    r.cmd = g.cmd;
    r.storage.assign(payload.begin() + GENL_HDRLEN, payload.end());
    auto attrs = parse(r.storage);
    if (!attrs) return std::nullopt;
    r.attrs = std::move(*attrs);
    return r;
}

int error_of(std::span<const uint8_t> payload) {
    if (payload.size() < sizeof(int)) return EPROTO;
    int e;
    std::memcpy(&e, payload.data(), sizeof e);
    return -e;
}

}  // namespace

std::optional<uint32_t> Attr::u32() const {
    if (data.size() != 4) return std::nullopt;
    uint32_t v;
    std::memcpy(&v, data.data(), 4);
    return v;
}

std::optional<uint16_t> Attr::u16() const {
    if (data.size() != 2) return std::nullopt;
    uint16_t v;
    std::memcpy(&v, data.data(), 2);
    return v;
}

std::optional<std::string_view> Attr::str() const {
    if (data.empty() || data.back() != 0) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(data.data()), data.size() - 1);
}

std::optional<std::vector<Attr>> parse(std::span<const uint8_t> bytes) {
    std::vector<Attr> out;
    while (bytes.size() >= kAttrHdr) {
        nlattr a;
        std::memcpy(&a, bytes.data(), sizeof a);
        if (a.nla_len < kAttrHdr || a.nla_len > bytes.size()) return std::nullopt;
        out.push_back(
            {uint16_t(a.nla_type & NLA_TYPE_MASK), bytes.subspan(kAttrHdr, a.nla_len - kAttrHdr)});
        bytes = bytes.subspan(std::min(bytes.size(), align4(a.nla_len)));
    }
    return out;
}

const Attr* find(const std::vector<Attr>& attrs, uint16_t type) {
    for (const Attr& a : attrs)
        if (a.type == type) return &a;
    return nullptr;
}

Message::Message(uint16_t family, uint8_t cmd, uint8_t version, uint16_t flags)
    : buf_(kMsgHdrs, 0) {
    nlmsghdr h{};
    h.nlmsg_type = family;
    h.nlmsg_flags = uint16_t(NLM_F_REQUEST | flags);
    std::memcpy(buf_.data(), &h, sizeof h);
    genlmsghdr g{};
    g.cmd = cmd;
    g.version = version;
    std::memcpy(buf_.data() + NLMSG_HDRLEN, &g, sizeof g);
}

void Message::put(uint16_t type, const void* p, size_t n) {
    size_t at = buf_.size();
    buf_.resize(at + align4(kAttrHdr + n), 0);
    nlattr a{uint16_t(kAttrHdr + n), type};
    std::memcpy(buf_.data() + at, &a, sizeof a);
    if (n) std::memcpy(buf_.data() + at + kAttrHdr, p, n);
}

void Message::put_u32(uint16_t type, uint32_t v) {
    put(type, &v, sizeof v);
}

void Message::put_str(uint16_t type, std::string_view s) {
    std::string z(s);
    put(type, z.c_str(), z.size() + 1);
}

void Message::put_flag(uint16_t type) {
    put(type, nullptr, 0);
}

size_t Message::begin_nest(uint16_t type) {
    size_t at = buf_.size();
    put(uint16_t(type | NLA_F_NESTED), nullptr, 0);
    return at;
}

void Message::end_nest(size_t at) {
    auto len = uint16_t(buf_.size() - at);
    std::memcpy(buf_.data() + at, &len, sizeof len);  // nla_len comes first
}

std::span<const uint8_t> Message::bytes() {
    auto len = uint32_t(buf_.size());
    std::memcpy(buf_.data(), &len, sizeof len);  // nlmsg_len comes first
    return buf_;
}

Result<Socket> Socket::open(std::string_view family) {
    std::string what = "opening a generic netlink socket for " + std::string(family);
    UniqueFd sock(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC));
    if (!sock) return fail(errno, what);
    // A request is answered at once; a kernel that does not answer must
    // not hang the daemon's loop.
    timeval tv{1, 0};
    if (setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
        return fail(errno, what);
    }
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (bind(sock.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) return fail(errno, what);

    Socket s(std::move(sock), GENL_ID_CTRL);
    Message m(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
    m.put_str(CTRL_ATTR_FAMILY_NAME, family);
    XNET_TRY_ASSIGN(auto replies,
                    s.exchange(m, "looking up the generic netlink family " + std::string(family)));
    for (const Reply& r : replies) {
        if (const Attr* id = find(r.attrs, CTRL_ATTR_FAMILY_ID); id && id->u16()) {
            s.family_ = *id->u16();
        }
        const Attr* groups = find(r.attrs, CTRL_ATTR_MCAST_GROUPS);
        auto list = groups ? parse(groups->data) : std::nullopt;
        for (const Attr& g : list.value_or(std::vector<Attr>{})) {
            auto fields = parse(g.data);
            if (!fields) continue;
            const Attr* name = find(*fields, CTRL_ATTR_MCAST_GRP_NAME);
            const Attr* gid = find(*fields, CTRL_ATTR_MCAST_GRP_ID);
            if (name && name->str() && gid && gid->u32()) {
                s.groups_.emplace_back(std::string(*name->str()), *gid->u32());
            }
        }
    }
    if (s.family_ == GENL_ID_CTRL) return fail(ENOENT, what);
    return s;
}

Status Socket::join(std::string_view group) {
    std::string what = "joining the netlink group " + std::string(group);
    for (const auto& [name, id] : groups_) {
        if (name != group) continue;
        if (setsockopt(fd_.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &id, sizeof id) < 0) {
            return fail(errno, what);
        }
        return {};
    }
    return fail(ENOENT, what);
}

Result<std::vector<Reply>> Socket::request(Message& m) {
    return exchange(m, "asking generic netlink");
}

Result<std::vector<Reply>> Socket::exchange(Message& m, const std::string& what) {
    auto bytes = m.bytes();
    uint32_t seq = ++seq_;
    nlmsghdr h;
    std::memcpy(&h, bytes.data(), sizeof h);
    h.nlmsg_seq = seq;
    h.nlmsg_flags |= NLM_F_ACK;
    std::vector<uint8_t> out(bytes.begin(), bytes.end());
    std::memcpy(out.data(), &h, sizeof h);
    if (send(fd_.get(), out.data(), out.size(), 0) < 0) return fail(errno, what);

    std::vector<Reply> replies;
    std::vector<uint8_t> buf(kRecvBuffer);
    for (;;) {
        ssize_t n = recv(fd_.get(), buf.data(), buf.size(), MSG_TRUNC);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(errno, what);
        }
        if (size_t(n) > buf.size()) return fail(EMSGSIZE, what);
        int error = 0;
        bool done = false, malformed = false;
        bool ok = each_message({buf.data(), size_t(n)}, [&](const nlmsghdr& mh, auto payload) {
            if (mh.nlmsg_seq != seq) return;  // a notification, or a late reply
            if (mh.nlmsg_type == NLMSG_ERROR) {
                error = error_of(payload);
                done = true;
            } else if (mh.nlmsg_type == NLMSG_DONE) {
                done = true;
            } else if (auto r = as_reply(payload)) {
                replies.push_back(std::move(*r));
            } else {
                malformed = true;
            }
        });
        if (!ok || malformed) return fail(EPROTO, what);
        if (error) return fail(error, what);
        if (done) return replies;
    }
}

Status Socket::drain(const std::function<void(const Reply&)>& each,
                     const std::function<void()>& lost) {
    std::vector<uint8_t> buf(kRecvBuffer);
    for (;;) {
        ssize_t n = recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
            if (errno == ENOBUFS) {
                lost();
                continue;
            }
            return fail(errno, "reading netlink notifications");
        }
        if (size_t(n) > buf.size()) {
            lost();
            continue;
        }
        each_message({buf.data(), size_t(n)}, [&](const nlmsghdr& mh, auto payload) {
            if (mh.nlmsg_type < NLMSG_MIN_TYPE) return;
            if (auto r = as_reply(payload)) each(*r);
        });
    }
}

}  // namespace xnet::genl
