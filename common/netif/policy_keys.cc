#include "netif/policy_keys.h"

#include <algorithm>

#include <fmt/format.h>

#include "netif/xs_keys.h"
#include "runtime/json.h"

namespace xnet::offload {

namespace {

// A value as it may appear in a log line or an error node: at most 64
// bytes, anything unprintable as \xNN.
std::string shown(std::string_view v) {
    std::string out;
    for (unsigned char c : v.substr(0, 64))
        out += c >= 0x20 && c < 0x7f ? std::string(1, char(c)) : fmt::format("\\x{:02x}", c);
    if (v.size() > 64) out += fmt::format("... ({} bytes)", v.size());
    return out;
}

}  // namespace

KeyedPolicy read_policy_keys(const XenStore& xs, const std::string& dir, const Policy& fallback,
                             const Policy& previous) {
    KeyedPolicy out{fallback, {}};
    const std::string base = dir + "/offload/";
    // Which keys exist, in one call: mostly only profile does, and each
    // read is a round trip to xenstored (2-9 ms under TCG), made on every
    // reconcile of the vif. A key written after the listing is a watch
    // event, and so another call here. Unlistable for another reason than
    // absence: every key is read, and the reads name what went wrong.
    auto listed = xs.directory(dir + "/offload");
    if (!listed && listed.error().code == ENOENT) listed = std::vector<std::string>{};
    // The key's value, none if absent; nullopt (and an error) if unreadable.
    auto read = [&](const std::string& key) -> std::optional<std::optional<std::string>> {
        if (listed && std::find(listed->begin(), listed->end(), key) == listed->end()) {
            return std::optional<std::string>{};
        }
        auto v = xs.try_read(base + key);
        if (!v) {
            out.errors.push_back(Error{
                v.error().code, fmt::format("reading {}{}: {}", base, key, v.error().message())});
            return std::nullopt;
        }
        return *v;
    };
    // A setting whose key is bad or unreadable keeps its PREVIOUS value.

    if (auto prof = read("profile"); !prof) {
        out.policy = previous;
    } else if (*prof) {
        if (auto p = profile(**prof)) {
            out.policy = *p;
        } else {
            out.errors.push_back(Error{EINVAL, fmt::format("{}profile: '{}' is not {}", base,
                                                           shown(**prof), profile_names())});
            out.policy = previous;
        }
    }
    // Broadest first (the table's order): a narrower key overrides a
    // group for its own fields.
    for (const Setting& s : kSettings) {
        auto assign = [&](auto value_of) {
            for (auto f : s.fields)
                out.policy.*f = value_of(f);
        };
        auto v = read(std::string(s.key));
        if (!v) {
            assign([&](auto f) { return previous.*f; });
            continue;
        }
        if (!*v) continue;  // not written: the profile's, or a group's
        if (**v == "on" || **v == "off") {
            assign([on = **v == "on"](auto) { return on; });
        } else {
            out.errors.push_back(
                Error{EINVAL, fmt::format("{}{}: '{}' is not on or off", base, s.key, shown(**v))});
            assign([&](auto f) { return previous.*f; });
        }
    }
    return out;
}

Status write_setting(const XenStore& xs, const std::string& dir, const Setting& s,
                     std::string_view value, XenStore::Tx tx) {
    const std::string base = dir + "/offload/";
    for (const Setting& piece : kSettings) {
        if (!narrower(piece, s)) continue;
        auto st = xs.rm(base + std::string(piece.key), tx);
        if (!st && st.error().code != ENOENT) return st;
    }
    return xs.write(base + std::string(s.key), std::string(value), tx);
}

Result<Features> read_features(const XenStore& xs, const std::string& dir) {
    Features f;
    for (auto [name, member] : kFeatureKeys) {
        XNET_TRY_ASSIGN(auto v, read_flag(xs, fmt::format("{}/{}", dir, name)));
        f.*member = v;
    }
    return f;
}

Status write_features(const XenStore& xs, const std::string& dir, const Features& f,
                      XenStore::Tx tx) {
    for (auto [name, member] : kFeatureKeys) {
        XNET_TRY(xs.write(fmt::format("{}/{}", dir, name), f.*member ? "1" : "0", tx));
    }
    return {};
}

std::string json(const Features& f) {
    JsonWriter w;
    w.begin_object();
    for (auto [name, member] : kFeatureKeys)
        w.field(name, f.*member);
    w.end_object();
    return w.take();
}

bool PolicyFollower::update(const XenStore& xs, const std::string& dir,
                            const std::function<void(const Error&)>& report) {
    auto kp = read_policy_keys(xs, dir, fallback_, policy_);
    std::string errors;
    for (const auto& e : kp.errors)
        errors += e.message() + "\n";
    if (errors != errors_) {
        errors_ = errors;
        for (auto& e : kp.errors)
            report(e);
    }
    if (kp.policy == policy_) return false;
    policy_ = kp.policy;
    return true;
}

}  // namespace xnet::offload
