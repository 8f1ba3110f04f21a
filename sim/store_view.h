// What the two files of xnet-sim's xenstore share (store.cc: the tree and
// its operations; store_watch.cc: watches, transactions, domains): the
// helpers of path and result handling, and the view an operation has of the
// tree, through its transaction's overlay when it has one.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

#include "store.h"

namespace xnet::sim::detail {

constexpr size_t kRelPathMax = 2048;  // XENSTORE_REL_PATH_MAX (xs_wire.h)
constexpr size_t kNodeHeader = 24;    // a stored node's header, counted by the size quota
constexpr size_t kPermSize = 8;       // and each of its permissions

inline XsResult<void> ok() {
    return {};
}
inline Unexpected<int> err(int e) {
    return Unexpected{e};
}

inline std::string parent_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == 0 ? "/" : path.substr(0, slash);
}

inline std::string base_name(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

// is_child(): CHILD equals PARENT or lies beneath it.
inline bool is_child(std::string_view child, std::string_view parent) {
    if (parent == "/") return true;
    return child.starts_with(parent) &&
           (child.size() == parent.size() || child[parent.size()] == '/');
}

// is_valid_nodename(): absolute, no trailing or double slash, limited
// characters, and at most 2048 characters after a "/local/domain/N/" prefix
// (for every caller: xenstored never checks XENSTORE_ABS_PATH_MAX).
inline bool valid_node_name(const std::string& node) {
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

}  // namespace xnet::sim::detail

namespace xnet::sim {

using namespace detail;

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

// (VAR names a declaration: it cannot be parenthesised)
#define XS_TRY(var, expr)                      \
    auto var##_r = (expr);                     \
    if (!var##_r) return err(var##_r.error()); \
    auto var = std::move(var##_r.value())  // NOLINT(bugprone-macro-parentheses)

}  // namespace xnet::sim
