// The policy table's users in one place (netif/policy.h).
#include "netif/policy.h"

#include <fmt/format.h>

namespace xnet::offload {

namespace {

const char* on_off(bool b) {
    return b ? "on" : "off";
}

// "a, b or c" from the names NAME_OF picks out of ROWS.
template <class Rows, class Name>
std::string either(const Rows& rows, Name name_of) {
    std::string out;
    const std::size_t n = std::size(rows);
    for (std::size_t i = 0; i < n; ++i) {
        if (i > 0) out += i + 1 == n ? " or " : ", ";
        out += name_of(rows[i]);
    }
    return out;
}

}  // namespace

Policy safe() {
    return kProfiles[0].policy;
}

Policy offload() {
    return kProfiles[1].policy;
}

const Setting* find_setting(std::string_view name) {
    for (const Setting& s : kSettings) {
        if (name == s.key || (!s.alias.empty() && name == s.alias)) return &s;
    }
    return nullptr;
}

Result<Policy> profile(std::string_view name) {
    for (const Profile& p : kProfiles) {
        if (name == p.name) return p.policy;
    }
    return fail(EINVAL, fmt::format("unknown profile '{}' (expected {})", name.substr(0, 64),
                                    profile_names()));
}

Status set(Policy& p, std::string_view key, std::string_view value) {
    const bool on = value == "on";
    if (!on && value != "off") {
        return fail(EINVAL, fmt::format("{}: '{}' is not on or off", key.substr(0, 64),
                                        value.substr(0, 64)));
    }
    const Setting* s = find_setting(key);
    if (!s || key != s->key) {
        return fail(EINVAL, fmt::format("unknown setting '{}'", key.substr(0, 64)));
    }
    p.*(s->field) = on;
    return {};
}

std::string profile_names() {
    return either(kProfiles, [](const Profile& p) { return p.name; });
}

std::string profile_choices() {
    std::string out;
    for (const Profile& p : kProfiles)
        out += fmt::format("{}{}", out.empty() ? "" : "|", p.name);
    return out;
}

std::string setting_names() {
    return either(kSettings, [](const Setting& s) { return s.alias.empty() ? s.key : s.alias; });
}

std::string describe(const Policy& p) {
    std::string out;
    for (const Setting& s : kSettings)
        out += fmt::format("{}{} {}", out.empty() ? "" : " ", s.key, on_off(p.*(s.field)));
    return out;
}

std::string json(const Policy& p) {
    std::string out;
    for (const Setting& s : kSettings)
        out += fmt::format("{}\"{}\":\"{}\"", out.empty() ? "" : ",", s.key, on_off(p.*(s.field)));
    return "{" + out + "}";
}

}  // namespace xnet::offload
