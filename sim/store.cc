// The xenstore tree. Semantics follow Xen's C xenstored; the comments name
// the function there whose behaviour each piece reproduces.
#include "store.h"

#include <cctype>
#include <cerrno>
#include <cstring>

namespace xnet::sim {
namespace {

constexpr size_t kRelPathMax = 2048;  // XENSTORE_REL_PATH_MAX (xs_wire.h)
constexpr size_t kNodeHeader = 24;    // a stored node's header, counted by the size quota
constexpr size_t kPermSize = 8;       // and each of its permissions

XsResult<void> ok() {
    return {};
}
Unexpected<int> err(int e) {
    return Unexpected{e};
}

std::string parent_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_name(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

// is_child(): CHILD equals PARENT or lies beneath it.
bool is_child(std::string_view child, std::string_view parent) {
    if (parent == "/") return true;
    return child.starts_with(parent) &&
           (child.size() == parent.size() || child[parent.size()] == '/');
}

// is_valid_nodename(): absolute, no trailing or double slash, limited
// characters, and at most 2048 characters after a "/local/domain/N/" prefix
// (for every caller: xenstored never checks XENSTORE_ABS_PATH_MAX).
bool valid_node_name(const std::string& node) {
    if (node.empty() || node[0] != '/') return false;
    if (node.size() > 1 && node.back() == '/') return false;
    if (node.find("//") != std::string::npos) return false;
    size_t local_off = 0;
    constexpr std::string_view kLocal = "/local/domain/";
    if (node.starts_with(kLocal)) {
        size_t digits = 0;
        while (kLocal.size() + digits < node.size() && digits < 5 &&
               std::isdigit(static_cast<unsigned char>(node[kLocal.size() + digits]))) {
            ++digits;
        }
        size_t slash = kLocal.size() + digits;
        if (digits > 0 && slash < node.size() && node[slash] == '/') local_off = slash + 1;
    }
    if (node.size() > local_off + kRelPathMax) return false;
    for (char ch : node) {
        bool good = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '/' || ch == '_' || ch == '@';
        if (!good) return false;
    }
    return true;
}

}  // namespace

// --- the view an operation sees ------------------------------------------

class Store::View {
  public:
    View(Store& s, Tx* tx) : s_(s), tx_(tx) {}

    const Node* find(const std::string& path) {
        if (tx_) {
            if (auto it = tx_->overlay.find(path); it != tx_->overlay.end()) {
                return it->second ? &*it->second : nullptr;
            }
            note_seen(path);
        }
        auto it = s_.nodes_.find(path);
        return it == s_.nodes_.end() ? nullptr : &it->second;
    }

    void put(const std::string& path, Node node) {
        if (const Node* old = find(path)) count(old->perms[0].dom, -1);
        count(node.perms[0].dom, +1);
        if (tx_) {
            tx_->overlay[path] = std::move(node);
        } else {
            node.gen = ++s_.gen_;
            s_.nodes_[path] = std::move(node);
        }
    }

    void erase(const std::string& path) {
        if (const Node* old = find(path)) count(old->perms[0].dom, -1);
        if (tx_) {
            tx_->overlay[path] = std::nullopt;
        } else {
            s_.nodes_.erase(path);
        }
    }

    size_t owned(DomId dom) const {
        auto it = s_.owned_.find(dom);
        long n = it == s_.owned_.end() ? 0 : long(it->second);
        if (tx_) {
            if (auto d = tx_->owned_delta.find(dom); d != tx_->owned_delta.end()) n += d->second;
        }
        return n < 0 ? 0 : size_t(n);
    }

    Tx* tx() const { return tx_; }

  private:
    void note_seen(const std::string& path) {
        if (tx_->seen.count(path)) return;
        auto it = s_.nodes_.find(path);
        tx_->seen[path] = it == s_.nodes_.end() ? 0 : it->second.gen;
    }
    void count(DomId dom, long delta) {
        if (tx_) {
            tx_->owned_delta[dom] += delta;
        } else {
            auto& n = s_.owned_[dom];
            n = size_t(long(n) + delta);
        }
    }

    Store& s_;
    Tx* tx_;
};

// --- connections and helpers ----------------------------------------------

Store::Store(Sink sink, const Limits& limits) : sink_(std::move(sink)), limits_(limits) {
    // The tree a fresh xenstored starts with (setup_structure()), all owned
    // by dom0 and private; the toolstack creates /local.
    View v(*this, nullptr);
    for (const char* path : {"/", "/tool", "/tool/xenstored"}) {
        Node n;
        n.perms = {Perm{0, XsPerm::none}};
        std::string p = path;
        if (p != "/") nodes_[parent_of(p)].children.insert(base_name(p));
        v.put(p, std::move(n));
    }
}

void Store::connect(ConnId conn, DomId dom, bool privileged) {
    conns_[conn] = Conn{dom, privileged};
}

void Store::disconnect(ConnId conn) {
    reset_watches(conn);
    // Its transactions end uncommitted, as xenstored frees them with the
    // connection.
    std::erase_if(txs_, [conn](const auto& kv) { return kv.second.conn == conn; });
    conns_.erase(conn);
}

size_t Store::owned_by(DomId dom) const {
    auto it = owned_.find(dom);
    return it == owned_.end() ? 0 : it->second;
}

XsResult<const Store::Conn*> Store::conn(ConnId c) const {
    auto it = conns_.find(c);
    if (it == conns_.end()) return err(EINVAL);
    return &it->second;
}

XsResult<Store::Tx*> Store::tx_for(ConnId c, TxId tx) {
    if (tx == 0) return static_cast<Tx*>(nullptr);
    auto it = txs_.find(tx);
    if (it == txs_.end() || it->second.conn != c) return err(ENOENT);
    return &it->second;
}

// canonicalize(): relative paths live under the caller's home directory.
XsResult<std::string> Store::canonical(const Conn& c, std::string_view path) const {
    std::string abs =
        path.starts_with('/') ? std::string(path) : domain_path(c.dom) + "/" + std::string(path);
    if (!valid_node_name(abs)) return err(EINVAL);
    return abs;
}

XsResult<Store::Target> Store::target(ConnId cid, TxId txid, std::string_view path) {
    auto c = conn(cid);
    if (!c) return err(c.error());
    auto tx = tx_for(cid, txid);
    if (!tx) return err(tx.error());
    auto name = canonical(**c, path);
    if (!name) return err(name.error());
    return Target{*c, *tx, std::move(*name)};
}

// perm_for_conn(): dom0 and the owner get everything; then the first ACL
// entry naming the caller; then the node's default (its first entry).
uint8_t Store::access_for(const Conn& c, const std::vector<Perm>& perms) const {
    if (c.priv || perms[0].dom == c.dom) return kBoth;
    for (size_t i = 1; i < perms.size(); ++i) {
        if (perms[i].dom == c.dom) return perms[i].access;
    }
    return perms[0].access;
}

// errno_from_parents(): a failure must not reveal whether a node exists to
// someone who cannot read the nearest existing ancestor.
int Store::errno_from_parents(View& v, const Conn& c, const std::string& path, int e) {
    std::string p = path;
    while (p != "/") {
        p = parent_of(p);
        if (const Node* n = v.find(p)) return (access_for(c, n->perms) & kRead) ? e : EACCES;
    }
    return EACCES;
}

XsResult<const Store::Node*> Store::get(View& v, const Conn& c, const std::string& path,
                                        uint8_t need) {
    const Node* n = v.find(path);
    if (!n) return err(errno_from_parents(v, c, path, ENOENT));
    if ((access_for(c, n->perms) & need) != need) return err(EACCES);
    return n;
}

// create_node()/construct_node(): missing ancestors are created too; each
// new node inherits its parent's permissions, and a domain owns what it
// creates. Creating needs write access to the nearest existing ancestor.
XsResult<void> Store::create(View& v, const Conn& c, const std::string& path,
                             std::string_view value, bool overwrite) {
    if (const Node* n = v.find(path)) {
        if (!overwrite) return ok();
        if (!(access_for(c, n->perms) & kWrite)) return err(EACCES);
        Node copy = *n;
        copy.value = value;
        if (over_size(c, copy)) return err(ENOSPC);
        v.put(path, std::move(copy));
        return ok();
    }
    // Walk up to the nearest existing ancestor.
    std::vector<std::string> missing{path};
    const Node* anc = nullptr;
    for (std::string p = parent_of(path);; p = parent_of(p)) {
        if ((anc = v.find(p))) break;
        missing.push_back(p);
    }
    uint8_t acc = access_for(c, anc->perms);
    if (!(acc & kRead)) return err(EACCES);
    if (!(acc & kWrite)) return err(EACCES);
    if (!c.priv && v.owned(c.dom) + missing.size() > limits_.nodes_per_domain) return err(ENOSPC);

    std::vector<Perm> perms = anc->perms;
    if (!c.priv) perms[0].dom = c.dom;
    // Create from the top down, linking each node into its parent.
    // Check sizes first, so a refusal leaves nothing half-made.
    Node leaf;
    leaf.perms = perms;
    leaf.value = value;
    Node top_parent = *anc;
    top_parent.children.insert(base_name(missing.back()));
    if (over_size(c, leaf) || over_size(c, top_parent)) return err(ENOSPC);
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        std::string parent = parent_of(*it);
        Node p = *v.find(parent);
        p.children.insert(base_name(*it));
        v.put(parent, std::move(p));
        Node n;
        n.perms = perms;
        if (*it == path) n.value = value;
        v.put(*it, std::move(n));
    }
    return ok();
}

// A change is fired now, or at commit when made inside a transaction.
void Store::finish(const View& v, Change change) {
    if (v.tx()) {
        v.tx()->changes.push_back(std::move(change));
    } else {
        fire(change);
    }
}

// write_node_raw(): an unprivileged domain's node, header, permissions,
// value and child names included, must stay under the size quota.
bool Store::over_size(const Conn& c, const Node& n) const {
    if (c.priv) return false;
    size_t size = kNodeHeader + kPermSize * n.perms.size() + n.value.size();
    for (const auto& child : n.children)
        size += child.size() + 1;
    return size >= limits_.node_size;
}

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

// --- operations -------------------------------------------------------------

// (VAR names a declaration: it cannot be parenthesised)
#define XS_TRY(var, expr)                      \
    auto var##_r = (expr);                     \
    if (!var##_r) return err(var##_r.error()); \
    auto var = std::move(var##_r.value())  // NOLINT(bugprone-macro-parentheses)

XsResult<std::string> Store::read(ConnId cid, TxId txid, std::string_view path) {
    XS_TRY(t, target(cid, txid, path));
    auto& [c, tx, name] = t;
    View v(*this, tx);
    XS_TRY(n, get(v, *c, name, kRead));
    return n->value;
}

XsResult<void> Store::write(ConnId cid, TxId txid, std::string_view path, std::string_view value) {
    XS_TRY(t, target(cid, txid, path));
    auto& [c, tx, name] = t;
    View v(*this, tx);
    if (auto r = create(v, *c, name, value, true); !r) return r;
    finish(v, Change{name, v.find(name)->perms, {}, {}});
    return ok();
}

XsResult<void> Store::mkdir(ConnId cid, TxId txid, std::string_view path) {
    XS_TRY(t, target(cid, txid, path));
    auto& [c, tx, name] = t;
    View v(*this, tx);
    if (const Node* n = v.find(name)) {
        // do_mkdir(): an existing node is fine, if the caller could write it.
        return (access_for(*c, n->perms) & kWrite) ? ok() : err(EACCES);
    }
    if (auto r = create(v, *c, name, "", false); !r) return r;
    finish(v, Change{name, v.find(name)->perms, {}, {}});
    return ok();
}

XsResult<void> Store::rm(ConnId cid, TxId txid, std::string_view path) {
    XS_TRY(t, target(cid, txid, path));
    auto& [c, tx, name] = t;
    View v(*this, tx);
    auto node = get(v, *c, name, kWrite);
    if (!node) {
        // do_rm(): removing what is not there is fine if the parent exists.
        if (node.error() == ENOENT && name != "/" && v.find(parent_of(name))) return ok();
        return err(node.error());
    }
    if (name == "/") return err(EINVAL);
    remove_subtree(v, name);
    return ok();
}

// rm_node(): the whole subtree goes, whatever its descendants' permissions.
void Store::remove_subtree(View& v, const std::string& name) {
    Change ch{name, v.find(name)->perms, {}, {}};
    std::vector<std::string> todo{name};
    while (!todo.empty()) {
        std::string p = std::move(todo.back());
        todo.pop_back();
        const Node* n = v.find(p);
        if (!n) continue;
        for (const auto& child : n->children)
            todo.push_back(p + '/' + child);
        ch.removed.emplace_back(p, n->perms);
        v.erase(p);
    }
    std::string parent = parent_of(name);
    Node pn = *v.find(parent);
    pn.children.erase(base_name(name));
    v.put(parent, std::move(pn));
    finish(v, std::move(ch));
}

XsResult<std::pair<uint64_t, std::vector<std::string>>> Store::directory_gen(
    ConnId cid, TxId txid, std::string_view path) {
    XS_TRY(t, target(cid, txid, path));
    auto& [c, tx, name] = t;
    View v(*this, tx);
    XS_TRY(n, get(v, *c, name, kRead));
    return std::pair{n->gen, std::vector<std::string>(n->children.begin(), n->children.end())};
}

XsResult<std::vector<std::string>> Store::directory(ConnId cid, TxId txid, std::string_view path) {
    XS_TRY(d, directory_gen(cid, txid, path));
    return std::move(d.second);
}

XsResult<std::vector<Perm>> Store::get_perms(ConnId cid, TxId txid, std::string_view path) {
    XS_TRY(t, target(cid, txid, path));
    auto& [c, tx, name] = t;
    View v(*this, tx);
    XS_TRY(n, get(v, *c, name, kRead));
    return n->perms;
}

// do_set_perms(): the owner (or dom0) may; only dom0 may give a node away.
XsResult<void> Store::set_perms(ConnId cid, TxId txid, std::string_view path,
                                std::vector<Perm> perms) {
    // The list is checked before the path, as do_set_perms() does.
    XS_TRY(c, conn(cid));
    if (perms.empty()) return err(EINVAL);
    if (!c->priv && perms.size() > limits_.perms_per_node) return err(ENOSPC);
    XS_TRY(t, target(cid, txid, path));
    const std::string& name = t.name;
    View v(*this, t.tx);
    XS_TRY(n, get(v, *c, name, kWrite));
    if (!c->priv && n->perms[0].dom != c->dom) return err(EACCES);
    if (!c->priv && perms[0].dom != n->perms[0].dom) return err(EPERM);
    std::vector<Perm> old = n->perms;
    Node copy = *n;
    copy.perms = std::move(perms);
    if (over_size(*c, copy)) return err(ENOSPC);
    v.put(name, std::move(copy));
    // Whoever could read the node before or after hears of the change, once.
    finish(v, Change{name, v.find(name)->perms, std::move(old), {}});
    return ok();
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
