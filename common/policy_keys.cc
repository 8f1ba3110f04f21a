#include "xnet/policy_keys.h"

#include <algorithm>

#include <fmt/format.h>

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

bool* setting(Policy& p, std::string_view key) {
    if (key == "tx-checksum") return &p.tx_checksum;
    if (key == "rx-checksum") return &p.rx_checksum;
    if (key == "tx-data-validated") return &p.tx_data_validated;
    if (key == "scatter-gather") return &p.sg;
    if (key == "tcp-segmentation-offload") return &p.tso;
    return nullptr;
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
    Policy prev = previous;  // where a setting whose key is bad or unreadable comes from

    if (auto prof = read("profile"); !prof) {
        out.policy = previous;
    } else if (*prof) {
        if (auto p = profile(**prof)) {
            out.policy = *p;
        } else {
            out.errors.push_back(Error{EINVAL, fmt::format("{}profile: '{}' is not safe, offload "
                                                           "or suppress",
                                                           base, shown(**prof))});
            out.policy = previous;
        }
    }
    for (const char* key : kSettingKeys) {
        bool* s = setting(out.policy, key);
        auto v = read(key);
        if (!v) {
            *s = *setting(prev, key);
            continue;
        }
        if (!*v) continue;  // not written: the profile's
        if (**v == "on" || **v == "off") {
            *s = **v == "on";
        } else {
            out.errors.push_back(
                Error{EINVAL, fmt::format("{}{}: '{}' is not on or off", base, key, shown(**v))});
            *s = *setting(prev, key);
        }
    }
    return out;
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

bool setting_of(const Policy& p, std::string_view key) {
    Policy copy = p;
    bool* s = setting(copy, key);
    return s && *s;
}

std::string describe(const Policy& p) {
    auto o = [](bool b) { return b ? "on" : "off"; };
    return fmt::format(
        "tx-checksum {} rx-checksum {} tx-data-validated {} scatter-gather {} "
        "tcp-segmentation-offload {}",
        o(p.tx_checksum), o(p.rx_checksum), o(p.tx_data_validated), o(p.sg), o(p.tso));
}

std::string json(const Policy& p) {
    auto o = [](bool b) { return b ? "on" : "off"; };
    return fmt::format(
        "{{\"tx-checksum\":\"{}\",\"rx-checksum\":\"{}\",\"tx-data-validated\":\"{}\","
        "\"scatter-gather\":\"{}\",\"tcp-segmentation-offload\":\"{}\"}}",
        o(p.tx_checksum), o(p.rx_checksum), o(p.tx_data_validated), o(p.sg), o(p.tso));
}

}  // namespace xnet::offload
