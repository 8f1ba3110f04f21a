// xnet-sim's xenstore: the tree, permissions, watches, transactions and
// quotas, with the semantics of Xen's C xenstored (tools/xenstore/
// xenstored_core.c). No sockets here: callers name a connection, and watch
// events leave through a sink, so the whole store is unit-testable and the
// wire server (xs_server.h) stays a thin translation layer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "platform/xenstore.h"
#include "runtime/expected.h"

namespace xnet::sim {

using DomId = uint32_t;
using ConnId = uint64_t;
using TxId = uint32_t;

// An errno value (ENOENT, EACCES, ...) as the wire reports it.
template <class T>
using XsResult = Expected<T, int>;

enum Access : uint8_t { kNone = 0, kRead = 1, kWrite = 2, kBoth = 3 };

// One permission entry: the first of a node's list names the owner and the
// access of every domain not listed; later entries are per-domain ACLs.
using Perm = XsPerm;

struct Limits {
    size_t nodes_per_domain = 1000;     // xenstored's quota_nb_entry_per_domain
    size_t node_size = 2048;            // quota_max_entry_size: value, children, perms
    size_t watches_per_domain = 128;    // quota_nb_watch_per_domain
    size_t transactions_per_conn = 10;  // quota_max_transaction
    size_t perms_per_node = 5;          // quota_nb_perms_per_node
};

struct WatchEvent {
    ConnId conn;
    std::string path;  // as the watcher registered it (relative stays relative)
    std::string token;
};

class Store {
  public:
    using Sink = std::function<void(const WatchEvent&)>;

    explicit Store(Sink sink, const Limits& limits = {});

    // A connection acts as one domain; dom0's is privileged.
    void connect(ConnId conn, DomId dom, bool privileged);
    void disconnect(ConnId conn);  // drops its watches and transactions

    XsResult<std::string> read(ConnId c, TxId tx, std::string_view path);
    XsResult<void> write(ConnId c, TxId tx, std::string_view path, std::string_view value);
    XsResult<void> mkdir(ConnId c, TxId tx, std::string_view path);
    XsResult<void> rm(ConnId c, TxId tx, std::string_view path);
    XsResult<std::vector<std::string>> directory(ConnId c, TxId tx, std::string_view path);
    // The children and the generation that identifies this listing.
    XsResult<std::pair<uint64_t, std::vector<std::string>>> directory_gen(ConnId c, TxId tx,
                                                                          std::string_view path);
    XsResult<std::vector<Perm>> get_perms(ConnId c, TxId tx, std::string_view path);
    XsResult<void> set_perms(ConnId c, TxId tx, std::string_view path, std::vector<Perm> perms);

    XsResult<void> watch(ConnId c, std::string_view path, std::string_view token);
    XsResult<void> unwatch(ConnId c, std::string_view path, std::string_view token);
    void reset_watches(ConnId c);

    XsResult<TxId> transaction_start(ConnId c);
    XsResult<void> transaction_end(ConnId c, TxId tx, bool commit);

    // Domain introduction (dom0 only on the wire; the sim's own domain
    // management calls these directly).
    XsResult<void> introduce(ConnId c, DomId dom);
    XsResult<void> release(ConnId c, DomId dom);
    bool is_introduced(DomId dom) const { return introduced_.count(dom) != 0; }

    bool privileged(ConnId c) const {
        auto it = conns_.find(c);
        return it != conns_.end() && it->second.priv;
    }
    bool has_transaction(ConnId c, TxId tx) const {
        auto it = txs_.find(tx);
        return it != txs_.end() && it->second.conn == c;
    }

    // Test and debug helpers.
    size_t node_count() const { return nodes_.size(); }
    size_t owned_by(DomId dom) const;
    const Limits& limits() const { return limits_; }

    static std::string domain_path(DomId dom) { return "/local/domain/" + std::to_string(dom); }

  private:
    struct Node {
        std::string value;
        std::vector<Perm> perms;
        std::set<std::string> children;
        uint64_t gen = 0;
    };
    struct Conn {
        DomId dom;
        bool priv;
    };
    struct Watch {
        ConnId conn;
        DomId dom;
        std::string node;  // absolute path or "@special"
        std::string token;
        bool relative;
    };
    struct Change {
        std::string path;
        std::vector<Perm> perms;      // the node's perms when it changed
        std::vector<Perm> old_perms;  // SET_PERMS: the perms before (empty otherwise)
        // An rm: the removed nodes, whose exact watches fire too.
        std::vector<std::pair<std::string, std::vector<Perm>>> removed;
    };
    struct Tx {
        ConnId conn;
        std::map<std::string, std::optional<Node>> overlay;  // nullopt: removed
        std::map<std::string, uint64_t> seen;                // gen at first touch, 0: absent
        std::map<DomId, long> owned_delta;
        std::vector<Change> changes;
    };
    // The view an operation works on: the tree itself, or it through a
    // transaction's overlay.
    class View;

    XsResult<const Conn*> conn(ConnId c) const;
    XsResult<Tx*> tx_for(ConnId c, TxId tx);
    // What every path operation starts from: the caller, its transaction
    // (nullptr for none) and the canonical path.
    struct Target {
        const Conn* conn;
        Tx* tx;
        std::string name;
    };
    XsResult<Target> target(ConnId c, TxId tx, std::string_view path);
    XsResult<std::string> canonical(const Conn& conn, std::string_view path) const;
    uint8_t access_for(const Conn& conn, const std::vector<Perm>& perms) const;
    int errno_from_parents(View& v, const Conn& conn, const std::string& path, int err);
    XsResult<const Node*> get(View& v, const Conn& conn, const std::string& path, uint8_t need);
    XsResult<void> create(View& v, const Conn& conn, const std::string& path,
                          std::string_view value, bool overwrite);
    void finish(const View& v, Change change);
    void fire(const Change& change);
    void fire_special(std::string_view node);
    bool can_read_for_watch(const Watch& w, const std::string& path,
                            const std::vector<Perm>& perms) const;
    bool over_size(const Conn& c, const Node& n) const;
    void remove_subtree(View& v, const std::string& name);

    Sink sink_;
    Limits limits_;
    std::unordered_map<std::string, Node> nodes_;
    std::unordered_map<DomId, size_t> owned_;
    uint64_t gen_ = 0;
    std::unordered_map<ConnId, Conn> conns_;
    std::vector<Watch> watches_;
    std::unordered_map<TxId, Tx> txs_;
    TxId next_tx_ = 1;
    std::set<DomId> introduced_;
};

}  // namespace xnet::sim
