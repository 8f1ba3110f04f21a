// xnet-sim's xenstore: watches (who hears of a change), transactions (what
// a commit checks and applies) and domains (introduce, release). Semantics
// follow Xen's C xenstored; the comments name the function there.
#include <cerrno>

#include "store.h"
#include "store_view.h"

namespace xnet::sim {

// watch_permitted(): read access to the node, or to its parent.
bool Store::can_read_for_watch(const Watch& w, const std::string& path,
                               const std::vector<Perm>& perms) const {
    auto it = conns_.find(w.conn);
    if (it == conns_.end()) return false;
    if (access_for(it->second, perms) & kRead) return true;
    if (path == "/") return false;
    auto parent = nodes_.find(parent_of(path));
    return parent != nodes_.end() && (access_for(it->second, parent->second.perms) & kRead);
}

// fire_watches(): every watch on the node or an ancestor of it, if the
// watcher may read the node; for an rm, also every watch exactly on a
// removed descendant.
void Store::fire(const Change& ch) {
    auto deliver = [&](const Watch& w, const std::string& path) {
        std::string shown = path;
        if (w.relative) {
            std::string home = domain_path(w.dom) + "/";
            if (shown.starts_with(home)) shown = shown.substr(home.size());
        }
        sink_(WatchEvent{w.conn, shown, w.token});
    };
    // Copy: a sink may disconnect a connection that stopped reading.
    std::vector<Watch> watches = watches_;
    for (const Watch& w : watches) {
        if (w.node.starts_with('@')) continue;
        // watch_permitted(): readable under the new perms or, for SET_PERMS, the old.
        bool may_read = can_read_for_watch(w, ch.path, ch.perms) ||
                        (!ch.old_perms.empty() && can_read_for_watch(w, ch.path, ch.old_perms));
        if (is_child(ch.path, w.node) && may_read) deliver(w, ch.path);
        for (const auto& [path, perms] : ch.removed) {
            if (path == w.node && can_read_for_watch(w, path, perms)) deliver(w, path);
        }
    }
}

// Special watches reach only privileged watchers: the special nodes are
// dom0's and private, as in xenstored's check_special_event().
void Store::fire_special(std::string_view node) {
    std::vector<Watch> watches = watches_;
    for (const Watch& w : watches) {
        if (w.node != node) continue;
        auto it = conns_.find(w.conn);
        if (it != conns_.end() && it->second.priv) sink_(WatchEvent{w.conn, w.node, w.token});
    }
}

XsResult<void> Store::watch(ConnId cid, std::string_view path, std::string_view token) {
    XS_TRY(c, conn(cid));
    Watch w{cid, c->dom, {}, std::string(token), false};
    if (path.starts_with('@')) {
        if (path.size() > kRelPathMax) return err(EINVAL);
        w.node = path;
    } else {
        w.relative = !path.starts_with('/');
        XS_TRY(name, canonical(*c, path));
        w.node = std::move(name);
    }
    size_t mine = 0;
    for (const Watch& o : watches_) {
        if (o.conn == cid && o.node == w.node && o.token == w.token) return err(EEXIST);
        if (o.dom == c->dom) ++mine;
    }
    // do_watch() compares the count before adding with ">": one extra fits.
    if (!c->priv && mine > limits_.watches_per_domain) return err(E2BIG);
    watches_.push_back(w);
    return ok();
}

XsResult<void> Store::unwatch(ConnId cid, std::string_view path, std::string_view token) {
    XS_TRY(c, conn(cid));
    std::string node(path);
    if (!path.starts_with('@')) {
        XS_TRY(name, canonical(*c, path));
        node = std::move(name);
    }
    for (auto it = watches_.begin(); it != watches_.end(); ++it) {
        if (it->conn == cid && it->node == node && it->token == token) {
            watches_.erase(it);
            return ok();
        }
    }
    return err(ENOENT);
}

// do_reset_watches(): drops the connection's watches and transactions.
void Store::reset_watches(ConnId cid) {
    std::erase_if(watches_, [&](const Watch& w) { return w.conn == cid; });
    std::erase_if(txs_, [&](const auto& kv) { return kv.second.conn == cid; });
}

XsResult<TxId> Store::transaction_start(ConnId cid) {
    XS_TRY(c, conn(cid));
    size_t mine = 0;
    for (const auto& [id, t] : txs_)
        mine += t.conn == cid;
    if (!c->priv && mine > limits_.transactions_per_conn) return err(ENOSPC);  // as do_watch()
    TxId id = next_tx_++;
    if (next_tx_ == 0) next_tx_ = 1;  // 0 means "no transaction" on the wire
    txs_[id] = Tx{cid, {}, {}, {}, {}};
    return id;
}

// do_transaction_end(): a commit fails with EAGAIN when any node the
// transaction touched (read, listed or written) changed meanwhile.
XsResult<void> Store::transaction_end(ConnId cid, TxId txid, bool commit) {
    XS_TRY(tx, tx_for(cid, txid));
    if (!tx) return err(ENOENT);
    Tx t = std::move(*tx);
    txs_.erase(txid);
    if (!commit) return ok();
    for (const auto& [path, gen] : t.seen) {
        auto it = nodes_.find(path);
        if ((it == nodes_.end() ? 0 : it->second.gen) != gen) return err(EAGAIN);
    }
    View v(*this, nullptr);
    for (auto& [path, node] : t.overlay) {
        if (node) {
            v.put(path, std::move(*node));
        } else {
            v.erase(path);
        }
    }
    for (const Change& ch : t.changes)
        fire(ch);
    return ok();
}

XsResult<void> Store::introduce(ConnId cid, DomId dom) {
    XS_TRY(c, conn(cid));
    if (!c->priv) return err(EACCES);
    if (introduced_.insert(dom).second && dom != 0) fire_special("@introduceDomain");
    return ok();
}

// do_release() / domain_tree_remove(): the domain's connections lose their
// watches and transactions, and the nodes it owns go with it.
XsResult<void> Store::release(ConnId cid, DomId dom) {
    XS_TRY(c, conn(cid));
    if (!c->priv) return err(EACCES);
    if (dom == 0) return err(EINVAL);
    if (!introduced_.erase(dom)) return err(ENOENT);
    for (const auto& [id, cn] : conns_) {
        if (cn.dom == dom && !cn.priv) reset_watches(id);
    }
    std::vector<std::string> roots;
    for (const auto& [path, node] : nodes_) {
        if (path == "/" || node.perms[0].dom != dom) continue;
        auto parent = nodes_.find(parent_of(path));
        if (parent == nodes_.end() || parent->second.perms[0].dom != dom) roots.push_back(path);
    }
    View v(*this, nullptr);
    for (const auto& root : roots) {
        if (v.find(root)) remove_subtree(v, root);
    }
    fire_special("@releaseDomain");
    return ok();
}

}  // namespace xnet::sim
