// The policy table's users in one place (netif/policy.h).
#include "netif/policy.h"

#include <fmt/format.h>

#include "runtime/json.h"

namespace xnet::offload {

namespace {

const char* on_off(bool b) {
    return b ? "on" : "off";
}

// The names NAME_OF picks out of ROWS, joined by SEP and the last two by
// LAST: "a, b or c", "a|b|c".
template <class Rows, class Name>
std::string joined(const Rows& rows, Name name_of, std::string_view sep = ", ",
                   std::string_view last = " or ") {
    std::string out;
    const std::size_t n = std::size(rows);
    for (std::size_t i = 0; i < n; ++i) {
        if (i > 0) out += i + 1 == n ? last : sep;
        out += name_of(rows[i]);
    }
    return out;
}

std::string_view profile_name(const Profile& p) {
    return p.name;
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
    return joined(kProfiles, profile_name);
}

std::string profile_choices() {
    return joined(kProfiles, profile_name, "|", "|");
}

std::string setting_names() {
    return joined(kSettings, [](const Setting& s) { return s.alias.empty() ? s.key : s.alias; });
}

std::string describe(const Policy& p) {
    std::string out;
    for (const Setting& s : kSettings)
        out += fmt::format("{}{} {}", out.empty() ? "" : " ", s.key, on_off(p.*(s.field)));
    return out;
}

std::string json(const Policy& p) {
    JsonWriter w;
    w.begin_object();
    for (const Setting& s : kSettings)
        w.field(s.key, on_off(p.*(s.field)));
    w.end_object();
    return w.take();
}

}  // namespace xnet::offload
