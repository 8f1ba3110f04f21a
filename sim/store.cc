// The xenstore tree. Semantics follow Xen's C xenstored; the comments name
// the function there whose behaviour each piece reproduces.
#include "store.h"

#include <cctype>
#include <cerrno>
#include <cstring>

#include "store_view.h"

namespace xnet::sim {

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

// --- operations -------------------------------------------------------------

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
    XNET_TRY(create(v, *c, name, value, true));
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
    XNET_TRY(create(v, *c, name, "", false));
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

}  // namespace xnet::sim
