// libFuzzer target for xnet-sim's xenstore: the wire parser (XsServer) and
// the store behind it, fed as the daemon feeds them, from three connections
// (dom0, dom5, dom7) in arbitrary chunks.
//
// Input: records of [connection byte][length byte][that many bytes]; the
// last record takes whatever is left. Small quotas make the limits
// reachable. Beyond ASan/UBSan, every run checks what clients rely on:
//   - every complete request gets exactly one reply, in order, with its
//     req_id, and the reply's type is the request's or XS_ERROR;
//   - every message out is well formed: len <= XENSTORE_PAYLOAD_MAX, errors
//     name a known errno, watch events are "path\0token\0";
//   - the connection is dropped exactly when a header announces more than
//     XENSTORE_PAYLOAD_MAX bytes;
//   - a guest never owns more nodes than its quota;
//   - while dom0 stays silent, every guest operation on the toolstack's
//     private subtree (/tool, readable by dom0 only) fails.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include <xen/io/xs_wire.h>

#include "sim/store.h"
#include "sim/xs_server.h"

using namespace xnet::sim;

namespace {

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz_xs_wire: property violated: %s\n", what);
    std::abort();
}

constexpr ConnId kToolstack = 100;
constexpr DomId kDoms[] = {0, 5, 7};

struct Client {
    ConnId id = 0;
    DomId dom = 0;
    std::string pending;  // bytes fed, not yet a complete request
    struct Request {
        xsd_sockmsg h;
        std::string path;  // the first argument
    };
    std::deque<Request> waiting;  // complete requests awaiting a reply
    std::string out;              // bytes the server sent, not yet parsed
};

bool known_error(std::string_view body) {
    if (body.empty() || body.back() != '\0') return false;
    body.remove_suffix(1);
    for (const auto& e : xsd_errors) {
        if (body == e.errstring) return true;
    }
    return false;
}

// Operations whose first argument is a path the caller needs access to.
bool path_op(uint32_t type) {
    switch (type) {
        case XS_READ:
        case XS_WRITE:
        case XS_MKDIR:
        case XS_RM:
        case XS_DIRECTORY:
        case XS_DIRECTORY_PART:
        case XS_GET_PERMS:
        case XS_SET_PERMS:
            return true;
        default:
            return false;
    }
}

bool private_path(std::string_view p) {
    return p == "/tool" || p.starts_with("/tool/");
}

// Parses what the server sent to C and matches replies to requests.
void check_output(Client& c, bool guard_private) {
    constexpr size_t kHeader = sizeof(xsd_sockmsg);
    while (c.out.size() >= kHeader) {
        xsd_sockmsg h;
        std::memcpy(&h, c.out.data(), kHeader);
        require(h.len <= XENSTORE_PAYLOAD_MAX, "reply fits in one message");
        require(c.out.size() >= kHeader + h.len, "replies are sent whole");
        std::string_view body(c.out.data() + kHeader, h.len);
        if (h.type == XS_WATCH_EVENT) {
            auto nul = body.find('\0');
            require(nul != std::string_view::npos && body.back() == '\0' &&
                        body.find('\0', nul + 1) == body.size() - 1,
                    "a watch event is path\\0token\\0");
        } else {
            require(!c.waiting.empty(), "no reply without a request");
            const Client::Request req = c.waiting.front();
            c.waiting.pop_front();
            require(h.req_id == req.h.req_id, "replies keep the request's id, in order");
            require(h.type == req.h.type || h.type == XS_ERROR, "reply type is the request's");
            if (h.type == XS_ERROR) require(known_error(body), "errors name a known errno");
            if (guard_private && c.dom != 0 && path_op(req.h.type) && private_path(req.path)) {
                require(h.type == XS_ERROR, "a guest cannot touch what only dom0 may read");
            }
        }
        c.out.erase(0, kHeader + h.len);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Limits limits;
    limits.nodes_per_domain = 24;
    limits.node_size = 300;
    limits.watches_per_domain = 4;
    limits.transactions_per_conn = 2;
    limits.perms_per_node = 3;

    std::vector<Client> clients(3);
    XsServer* server = nullptr;
    Store store([&](const WatchEvent& e) { server->watch_event(e); }, limits);
    XsServer xs(store, [&](ConnId id, const std::string& bytes) {
        if (id == kToolstack) return;
        for (Client& c : clients) {
            if (c.id == id) {
                c.out += bytes;
                return;
            }
        }
        require(false, "bytes only go to connected clients");
    });
    server = &xs;

    // The toolstack's view, as xnet-sim's daemon writes it: the guests'
    // home directories, and a node no guest may read.
    store.connect(kToolstack, 0, true);
    for (DomId d : {5u, 7u}) {
        const std::string home = Store::domain_path(d);
        require(bool(store.write(kToolstack, 0, home, "")), "setup: home");
        require(bool(store.set_perms(kToolstack, 0, home, {Perm{d, Perm::none}})),
                "setup: home perms");
        require(bool(store.introduce(kToolstack, d)), "setup: introduce");
    }
    require(bool(store.write(kToolstack, 0, "/tool/secret", "s3cret")), "setup: secret");
    require(bool(store.set_perms(kToolstack, 0, "/tool", {Perm{0, Perm::none}})), "setup: perms");

    ConnId next_id = 1;
    for (size_t i = 0; i < clients.size(); ++i) {
        clients[i].id = next_id++;
        clients[i].dom = kDoms[i];
        store.connect(clients[i].id, clients[i].dom, clients[i].dom == 0);
    }

    bool dom0_spoke = false;
    size_t pos = 0;
    while (pos < size) {
        Client& c = clients[data[pos++] % clients.size()];
        size_t n = pos < size ? data[pos++] : 0;
        if (pos + n > size || n == 0) n = size - pos;
        std::string_view chunk(reinterpret_cast<const char*>(data + pos), n);
        pos += n;
        // dom0 may open /tool up legitimately; from then on it is not checked.
        if (c.dom == 0 && !chunk.empty()) dom0_spoke = true;

        // What the server should make of these bytes, worked out here
        // independently: complete requests, and whether one is oversized.
        c.pending.append(chunk);
        bool oversized = false;
        size_t used = 0;
        while (c.pending.size() - used >= sizeof(xsd_sockmsg)) {
            xsd_sockmsg h;
            std::memcpy(&h, c.pending.data() + used, sizeof h);
            if (h.len > XENSTORE_PAYLOAD_MAX) {
                oversized = true;
                break;
            }
            if (c.pending.size() - used < sizeof h + h.len) break;
            std::string body = c.pending.substr(used + sizeof h, h.len);
            c.waiting.push_back({h, body.substr(0, body.find('\0'))});
            used += sizeof h + h.len;
        }
        c.pending.erase(0, used);

        const bool kept = xs.input(c.id, chunk);
        require(kept == !oversized, "dropped exactly on an oversized header");
        check_output(c, !dom0_spoke);
        if (!kept) {
            // The daemon closes the socket; the client comes back afresh.
            require(c.waiting.empty(), "requests before the bad one were answered");
            store.disconnect(c.id);
            xs.forget(c.id);
            c = Client{next_id++, c.dom, {}, {}, {}};
            store.connect(c.id, c.dom, c.dom == 0);
        }
        require(c.waiting.empty(), "every complete request was answered");
        for (const Client& other : clients) {
            if (other.dom != 0) {
                require(store.owned_by(other.dom) <= limits.nodes_per_domain,
                        "guests stay within their node quota");
            }
        }
    }
    for (const Client& c : clients) {
        store.disconnect(c.id);
        xs.forget(c.id);
    }
    return 0;
}
