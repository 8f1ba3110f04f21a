// Request decoding and reply encoding for the xenstore wire protocol. Every
// request gets exactly one reply (or the connection is dropped); payload
// layouts are those of xs_wire.h and Xen's docs/misc/xenstore.txt.
#include "xs_server.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include <xen/io/xs_wire.h>

namespace xnet::sim {
namespace {

constexpr size_t kHeader = sizeof(xsd_sockmsg);

// Splits a payload into its NUL-terminated strings. A trailing part without
// a terminator is returned as the last element and flagged.
struct Args {
    std::vector<std::string_view> parts;
    bool unterminated = false;
};

Args split(std::string_view p) {
    Args a;
    while (!p.empty()) {
        auto nul = p.find('\0');
        if (nul == std::string_view::npos) {
            a.parts.push_back(p);
            a.unterminated = true;
            break;
        }
        a.parts.push_back(p.substr(0, nul));
        p.remove_prefix(nul + 1);
    }
    return a;
}

// onearg(): exactly one NUL-terminated string.
std::optional<std::string_view> one_arg(std::string_view p) {
    if (p.empty() || p.back() != '\0' || p.find('\0') != p.size() - 1) return std::nullopt;
    return p.substr(0, p.size() - 1);
}

std::optional<uint32_t> parse_uint(std::string_view s) {
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

std::string join_nul(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) {
        out += p;
        out.push_back('\0');
    }
    return out;
}

}  // namespace

const char* xs_error_name(int err) {
    for (const auto& e : xsd_errors) {
        if (e.errnum == err) return e.errstring;
    }
    return "EINVAL";
}

bool XsServer::input(ConnId conn, std::string_view bytes) {
    std::string& buf = inbuf_[conn];
    buf.append(bytes);
    size_t off = 0;
    while (buf.size() - off >= kHeader) {
        xsd_sockmsg h;
        std::memcpy(&h, buf.data() + off, kHeader);
        // xenstored drops a client whose message could never fit.
        if (h.len > XENSTORE_PAYLOAD_MAX) {
            inbuf_.erase(conn);
            return false;
        }
        if (buf.size() - off < kHeader + h.len) break;
        std::string payload = buf.substr(off + kHeader, h.len);
        off += kHeader + h.len;
        handle(conn, h.type, h.req_id, h.tx_id, payload);
    }
    // The handler may have dropped the connection's buffer.
    if (auto it = inbuf_.find(conn); it != inbuf_.end()) it->second.erase(0, off);
    return true;
}

void XsServer::reply(ConnId conn, uint32_t type, uint32_t req_id, uint32_t tx_id,
                     std::string_view body) {
    // send_reply(): what cannot fit in one message becomes E2BIG.
    if (body.size() > XENSTORE_PAYLOAD_MAX) return reply_error(conn, req_id, tx_id, E2BIG);
    xsd_sockmsg h{type, req_id, tx_id, uint32_t(body.size())};
    std::string msg(reinterpret_cast<const char*>(&h), kHeader);
    msg.append(body);
    send_(conn, std::move(msg));
}

void XsServer::reply_error(ConnId conn, uint32_t req_id, uint32_t tx_id, int err) {
    std::string body = xs_error_name(err);
    body.push_back('\0');
    reply(conn, XS_ERROR, req_id, tx_id, body);
}

void XsServer::watch_event(const WatchEvent& ev) {
    std::string body = ev.path;
    body.push_back('\0');
    body += ev.token;
    body.push_back('\0');
    reply(ev.conn, XS_WATCH_EVENT, 0, 0, body);
}

void XsServer::handle(ConnId conn, uint32_t type, uint32_t req_id, uint32_t tx_id,
                      std::string_view payload) {
    static const std::string kOk{"OK\0", 3};
    auto answer = [&](const auto& result, auto&& encode) {
        if (!result) {
            reply_error(conn, req_id, tx_id, result.error());
        } else {
            reply(conn, type, req_id, tx_id, encode());
        }
    };
    auto ack = [&](const XsResult<void>& r) { answer(r, [] { return kOk; }); };
    auto einval = [&] { reply_error(conn, req_id, tx_id, EINVAL); };

    // process_message(): privileged operations, then the transaction named
    // in the header (WATCH and UNWATCH ignore it), before any handler runs.
    switch (type) {
        case XS_CONTROL:
        case XS_INTRODUCE:
        case XS_RELEASE:
        case XS_IS_DOMAIN_INTRODUCED:
        case XS_RESUME:
        case XS_SET_TARGET:
            if (!store_.privileged(conn)) return reply_error(conn, req_id, tx_id, EACCES);
            break;
        default:
            break;
    }
    if (type != XS_WATCH && type != XS_UNWATCH && tx_id != 0 &&
        !store_.has_transaction(conn, tx_id)) {
        return reply_error(conn, req_id, tx_id, ENOENT);
    }

    switch (type) {
        case XS_READ: {
            auto path = one_arg(payload);
            if (!path) return einval();
            auto r = store_.read(conn, tx_id, *path);
            return answer(r, [&] { return *r; });
        }
        case XS_WRITE: {
            // "path\0value": the value runs to the end, unterminated.
            auto nul = payload.find('\0');
            if (nul == std::string_view::npos) return einval();
            return ack(store_.write(conn, tx_id, payload.substr(0, nul), payload.substr(nul + 1)));
        }
        case XS_MKDIR: {
            auto path = one_arg(payload);
            if (!path) return einval();
            return ack(store_.mkdir(conn, tx_id, *path));
        }
        case XS_RM: {
            auto path = one_arg(payload);
            if (!path) return einval();
            return ack(store_.rm(conn, tx_id, *path));
        }
        case XS_DIRECTORY: {
            auto path = one_arg(payload);
            if (!path) return einval();
            auto r = store_.directory(conn, tx_id, *path);
            if (r && join_nul(*r).size() > XENSTORE_PAYLOAD_MAX) {
                return reply_error(conn, req_id, tx_id, E2BIG);  // use DIRECTORY_PART
            }
            return answer(r, [&] { return join_nul(*r); });
        }
        case XS_DIRECTORY_PART: {
            // "path\0offset\0" -> "gen\0" then as many children as fit from
            // byte OFFSET of the child list, and an empty string at the end.
            Args a = split(payload);
            if (a.unterminated || a.parts.size() != 2) return einval();
            auto offset = parse_uint(a.parts[1]);
            if (!offset) return einval();
            auto r = store_.directory_gen(conn, tx_id, a.parts[0]);
            if (!r) return reply_error(conn, req_id, tx_id, r.error());
            std::string all = join_nul(r->second);
            if (*offset > all.size()) offset = uint32_t(all.size());  // "gen\0\0": the end
            char gen[24];
            auto [end, ec] = std::to_chars(gen, gen + sizeof gen, r->first, 16);
            (void)ec;
            std::string body(gen, end);
            body.push_back('\0');
            size_t pos = *offset;
            while (pos < all.size()) {
                size_t len = all.find('\0', pos) + 1 - pos;
                if (body.size() + len + 1 > XENSTORE_PAYLOAD_MAX) break;
                body.append(all, pos, len);
                pos += len;
            }
            if (pos == all.size()) body.push_back('\0');
            return reply(conn, type, req_id, tx_id, body);
        }
        case XS_GET_PERMS: {
            auto path = one_arg(payload);
            if (!path) return einval();
            auto r = store_.get_perms(conn, tx_id, *path);
            return answer(r, [&] {
                std::vector<std::string> s;
                for (const Perm& p : *r)
                    s.push_back(format_perm(p));
                return join_nul(s);
            });
        }
        case XS_SET_PERMS: {
            Args a = split(payload);
            if (a.unterminated || a.parts.size() < 2) return einval();
            std::vector<Perm> perms;
            for (size_t i = 1; i < a.parts.size(); ++i) {
                auto p = parse_perm(a.parts[i]);
                if (!p) return einval();
                perms.push_back(*p);
            }
            return ack(store_.set_perms(conn, tx_id, a.parts[0], std::move(perms)));
        }
        case XS_WATCH:
        case XS_UNWATCH: {
            Args a = split(payload);
            if (a.unterminated || a.parts.size() != 2) return einval();
            if (type == XS_UNWATCH) return ack(store_.unwatch(conn, a.parts[0], a.parts[1]));
            auto r = store_.watch(conn, a.parts[0], a.parts[1]);
            ack(r);
            // do_watch(): "We fire once up front: simplifies clients and restart."
            if (r) watch_event(WatchEvent{conn, std::string(a.parts[0]), std::string(a.parts[1])});
            return;
        }
        case XS_RESET_WATCHES:
            store_.reset_watches(conn);
            return reply(conn, type, req_id, tx_id, kOk);
        case XS_TRANSACTION_START: {
            if (tx_id != 0) return reply_error(conn, req_id, tx_id, EBUSY);
            auto r = store_.transaction_start(conn);
            return answer(r, [&] { return std::to_string(*r) + '\0'; });
        }
        case XS_TRANSACTION_END: {
            auto arg = one_arg(payload);
            if (!arg || (*arg != "T" && *arg != "F")) return einval();
            return ack(store_.transaction_end(conn, tx_id, *arg == "T"));
        }
        case XS_GET_DOMAIN_PATH: {
            auto arg = one_arg(payload);
            auto dom = arg ? parse_uint(*arg) : std::nullopt;
            if (!dom) return einval();
            return reply(conn, type, req_id, tx_id, Store::domain_path(*dom) + '\0');
        }
        case XS_INTRODUCE: {
            // "domid\0mfn\0port\0": the sim has no ring page; the domain's
            // socket already exists, so only the bookkeeping happens here.
            Args a = split(payload);
            if (a.unterminated || a.parts.size() != 3) return einval();
            auto dom = parse_uint(a.parts[0]);
            auto port = parse_uint(a.parts[2]);
            if (!dom || !parse_uint(a.parts[1]) || !port || *port == 0) return einval();
            return ack(store_.introduce(conn, *dom));
        }
        case XS_RELEASE:
        case XS_RESUME:
        case XS_IS_DOMAIN_INTRODUCED: {
            auto arg = one_arg(payload);
            auto dom = arg ? parse_uint(*arg) : std::nullopt;
            if (!dom) return einval();
            if (type == XS_RELEASE) return ack(store_.release(conn, *dom));
            if (type == XS_RESUME) {
                bool known = store_.is_introduced(*dom);
                return known ? ack({}) : reply_error(conn, req_id, tx_id, ENOENT);
            }
            return reply(
                conn, type, req_id, tx_id,
                store_.is_introduced(*dom) ? std::string("T\0", 2) : std::string("F\0", 2));
        }
        case XS_CONTROL:
        case XS_SET_TARGET:
            // Debug commands and stub-domain targets: not simulated.
            return reply_error(conn, req_id, tx_id, EINVAL);
        default:
            // Unknown types, and WATCH_EVENT or ERROR sent by a client.
            return reply_error(conn, req_id, tx_id, ENOSYS);
    }
}

}  // namespace xnet::sim
