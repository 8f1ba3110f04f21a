// Generic netlink, as much of it as the daemons use: a socket bound to one
// family (resolved by name through nlctrl), requests answered with their
// replies, multicast groups joined by name, and netlink attributes built
// and read with every length checked (a malformed message is an error,
// never a read past its end).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/error.h"
#include "runtime/fd.h"

namespace xnet::genl {

// One attribute: its type (flags masked off) and payload.
struct Attr {
    uint16_t type = 0;
    std::span<const uint8_t> data;

    std::optional<uint32_t> u32() const;
    std::optional<uint16_t> u16() const;
    // A NUL-terminated string attribute, without the NUL.
    std::optional<std::string_view> str() const;
};

// The attributes laid out in BYTES, in order. nullopt if one overruns.
std::optional<std::vector<Attr>> parse(std::span<const uint8_t> bytes);
// The first attribute of TYPE among ATTRS.
const Attr* find(const std::vector<Attr>& attrs, uint16_t type);

// A request under construction: the netlink and genetlink headers, then
// attributes; nests are opened and closed around what they hold.
class Message {
  public:
    Message(uint16_t family, uint8_t cmd, uint8_t version, uint16_t flags);
    void put_u32(uint16_t type, uint32_t v);
    void put_str(uint16_t type, std::string_view s);
    void put_flag(uint16_t type);
    // Opens a nest; end_nest(offset) closes it.
    size_t begin_nest(uint16_t type);
    void end_nest(size_t at);
    std::span<const uint8_t> bytes();

  private:
    void put(uint16_t type, const void* p, size_t n);
    std::vector<uint8_t> buf_;
};

// One received generic netlink message: its command and attributes.
struct Reply {
    uint8_t cmd = 0;
    std::vector<Attr> attrs;
    std::vector<uint8_t> storage;  // what attrs point into
};

class Socket {
  public:
    // A socket for FAMILY ("ethtool"), its id and groups asked of nlctrl.
    static Result<Socket> open(std::string_view family);

    uint16_t family() const { return family_; }
    int fd() const { return fd_.get(); }
    // Joins the multicast group NAME of the family ("monitor").
    Status join(std::string_view group);
    // Sends M and collects its replies up to the kernel's acknowledgement.
    Result<std::vector<Reply>> request(Message& m);
    // The messages waiting (a joined group's notifications), without
    // blocking; ENOBUFS (some were lost) is reported to LOST and reading
    // goes on.
    Status drain(const std::function<void(const Reply&)>& each, const std::function<void()>& lost);

  private:
    Socket(UniqueFd fd, uint16_t family) : fd_(std::move(fd)), family_(family) {}
    Result<std::vector<Reply>> exchange(Message& m, const std::string& what);
    UniqueFd fd_;
    uint16_t family_ = 0;
    uint32_t seq_ = 0;
    std::vector<std::pair<std::string, uint32_t>> groups_;
};

}  // namespace xnet::genl
