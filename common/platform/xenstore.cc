// XenStore: thin, owning wrappers over libxenstore's calls; every error
// names the operation and the path.
#include "platform/xenstore.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>
// libxenstore's header has no C++ linkage guard.
extern "C" {
#include <xenstore.h>
}

#include "runtime/blocking.h"

namespace xnet {
namespace {

constexpr int kTransactRetries = 64;

// libxenstore returns malloc'd memory.
struct Free {
    void operator()(void* p) const { std::free(p); }
};

std::string str(std::string_view s) {
    return std::string(s);
}

}  // namespace

void XenStore::Close::operator()(xs_handle* h) const {
    xs_close(h);
}

Result<XenStore> XenStore::open(const std::string& path) {
    xs_handle* h = nullptr;
    if (path.empty()) {
        h = xs_open(0);
    } else {
        // libxenstore reads the path from the environment only.
        const char* old = std::getenv("XENSTORED_PATH");
        std::string saved = old ? old : "";
        setenv("XENSTORED_PATH", path.c_str(), 1);
        h = xs_open(0);
        if (old) {
            setenv("XENSTORED_PATH", saved.c_str(), 1);
        } else {
            unsetenv("XENSTORED_PATH");
        }
    }
    if (!h) {
        return fail(errno, path.empty() ? "connecting to xenstore"
                                        : fmt::format("connecting to xenstore at {}", path));
    }
    return XenStore(h);
}

Result<std::string> XenStore::read(std::string_view path, Tx tx) const {
    blocking::Scope wait(blocking::Service::xenstore);
    unsigned int len = 0;
    std::unique_ptr<char, Free> v(
        static_cast<char*>(xs_read(h_.get(), tx, str(path).c_str(), &len)));
    if (!v) return fail(errno, fmt::format("reading {}", path));
    return std::string(v.get(), len);
}

Result<std::optional<std::string>> XenStore::try_read(std::string_view path, Tx tx) const {
    auto r = read(path, tx);
    if (r) return std::optional<std::string>(std::move(*r));
    if (r.error().code == ENOENT) return std::optional<std::string>();
    return Unexpected{r.error()};
}

Status XenStore::write(std::string_view path, std::string_view value, Tx tx) const {
    blocking::Scope wait(blocking::Service::xenstore);
    if (!xs_write(h_.get(), tx, str(path).c_str(), value.data(), unsigned(value.size()))) {
        return fail(errno, fmt::format("writing {}", path));
    }
    return {};
}

Status XenStore::mkdir(std::string_view path, Tx tx) const {
    blocking::Scope wait(blocking::Service::xenstore);
    if (!xs_mkdir(h_.get(), tx, str(path).c_str()))
        return fail(errno, fmt::format("creating {}", path));
    return {};
}

Status XenStore::rm(std::string_view path, Tx tx) const {
    blocking::Scope wait(blocking::Service::xenstore);
    if (!xs_rm(h_.get(), tx, str(path).c_str()))
        return fail(errno, fmt::format("removing {}", path));
    return {};
}

Result<std::vector<std::string>> XenStore::directory(std::string_view path, Tx tx) const {
    blocking::Scope wait(blocking::Service::xenstore);
    unsigned int n = 0;
    std::unique_ptr<char*, Free> list(xs_directory(h_.get(), tx, str(path).c_str(), &n));
    if (!list) return fail(errno, fmt::format("listing {}", path));
    return std::vector<std::string>(list.get(), list.get() + n);
}

Result<std::vector<XsPerm>> XenStore::get_perms(std::string_view path, Tx tx) const {
    blocking::Scope wait(blocking::Service::xenstore);
    unsigned int n = 0;
    std::unique_ptr<xs_permissions, Free> p(
        xs_get_permissions(h_.get(), tx, str(path).c_str(), &n));
    if (!p) return fail(errno, fmt::format("reading permissions of {}", path));
    std::vector<XsPerm> out;
    for (unsigned i = 0; i < n; ++i) {
        out.push_back(XsPerm{p.get()[i].id, XsPerm::Access(p.get()[i].perms & 3)});
    }
    return out;
}

Status XenStore::set_perms(std::string_view path, const std::vector<XsPerm>& perms, Tx tx) const {
    blocking::Scope wait(blocking::Service::xenstore);
    std::vector<xs_permissions> p;
    p.reserve(perms.size());
    for (const auto& e : perms)
        p.push_back(xs_permissions{e.dom, unsigned(e.access)});
    if (!xs_set_permissions(h_.get(), tx, str(path).c_str(), p.data(), unsigned(p.size()))) {
        return fail(errno, fmt::format("setting permissions of {}", path));
    }
    return {};
}

Status XenStore::transact(const std::function<Status(Tx)>& body) const {
    for (int attempt = 0; attempt < kTransactRetries; ++attempt) {
        Tx tx;
        {
            blocking::Scope wait(blocking::Service::xenstore);
            tx = xs_transaction_start(h_.get());
        }
        if (tx == XBT_NULL) return fail(errno, "starting a transaction");
        auto end = [&](bool abort) {
            blocking::Scope wait(blocking::Service::xenstore);
            return xs_transaction_end(h_.get(), tx, abort);
        };
        if (auto r = body(tx); !r) {
            end(true);
            return r;
        }
        if (end(false)) return {};
        if (errno != EAGAIN) return fail(errno, "committing a transaction");
    }
    return fail(EAGAIN, "committing a transaction (conflicts persisted)");
}

Status XenStore::watch(std::string_view path, std::string_view token) const {
    blocking::Scope wait(blocking::Service::xenstore);
    if (!xs_watch(h_.get(), str(path).c_str(), str(token).c_str())) {
        return fail(errno, fmt::format("watching {}", path));
    }
    return {};
}

Status XenStore::unwatch(std::string_view path, std::string_view token) const {
    blocking::Scope wait(blocking::Service::xenstore);
    if (!xs_unwatch(h_.get(), str(path).c_str(), str(token).c_str())) {
        return fail(errno, fmt::format("unwatching {}", path));
    }
    return {};
}

int XenStore::fd() const {
    return xs_fileno(h_.get());
}

std::optional<XsWatchEvent> XenStore::next_event() const {
    std::unique_ptr<char*, Free> ev(xs_check_watch(h_.get()));
    if (!ev) return std::nullopt;
    return XsWatchEvent{ev.get()[XS_WATCH_PATH], ev.get()[XS_WATCH_TOKEN]};
}

Status XenStore::introduce(uint32_t dom) const {
    // The sim has no store ring: any page and port number will do.
    if (!xs_introduce_domain(h_.get(), dom, 1, 1)) {
        return fail(errno, fmt::format("introducing domain {}", dom));
    }
    return {};
}

Status XenStore::release(uint32_t dom) const {
    if (!xs_release_domain(h_.get(), dom))
        return fail(errno, fmt::format("releasing domain {}", dom));
    return {};
}

Result<std::string> XenStore::domain_path(uint32_t dom) const {
    std::unique_ptr<char, Free> p(xs_get_domain_path(h_.get(), dom));
    if (!p) return fail(errno, fmt::format("getting the path of domain {}", dom));
    return std::string(p.get());
}

// xenstore-chmod's letters, in the order of XsPerm::Access.
constexpr char kPermLetters[] = "nrwb";

std::string format_perm(const XsPerm& p) {
    return kPermLetters[p.access & 3] + std::to_string(p.dom);
}

std::optional<XsPerm> parse_perm(std::string_view s) {
    if (s.size() < 2) return std::nullopt;
    XsPerm p;
    const auto access = std::string_view(kPermLetters).find(s[0]);
    if (access == std::string_view::npos) return std::nullopt;
    p.access = XsPerm::Access(access);
    auto d = s.substr(1);
    auto [end, ec] = std::from_chars(d.data(), d.data() + d.size(), p.dom);
    if (ec != std::errc{} || end != d.data() + d.size() || p.dom > 0xffff) return std::nullopt;
    return p;
}

}  // namespace xnet
