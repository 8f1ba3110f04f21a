// The policy table's users in one place (netif/policy.h).
#include "netif/policy.h"

#include <algorithm>

#include <fmt/format.h>

#include "runtime/json.h"

namespace xnet::offload {

namespace {

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

// The four fields of GROUP (tx_all or rx_all, in Proto order) as a set.
Protos protos(const Policy& p, std::span<bool Policy::*const> group) {
    Protos out;
    for (Proto k : kAllProtos)
        out.set(k, p.*group[index(k)]);
    return out;
}

}  // namespace

Protos Policy::tx_checksum() const {
    return protos(*this, field::tx_all);
}

Protos Policy::rx_checksum() const {
    return protos(*this, field::rx_all);
}

Value value(const Policy& p, const Setting& s) {
    bool any_on = false, any_off = false;
    for (auto f : s.fields)
        (p.*f ? any_on : any_off) = true;
    return any_on && any_off ? Value::mixed : any_on ? Value::on : Value::off;
}

std::string_view value_name(Value v) {
    return v == Value::on ? "on" : v == Value::off ? "off" : "mixed";
}

bool narrower(const Setting& inner, const Setting& outer) {
    if (&inner == &outer || inner.fields.size() >= outer.fields.size()) return false;
    return std::all_of(inner.fields.begin(), inner.fields.end(), [&](auto f) {
        return std::find(outer.fields.begin(), outer.fields.end(), f) != outer.fields.end();
    });
}

unsigned depth(const Setting& s) {
    unsigned n = 0;
    for (const Setting& o : kSettings)
        n += narrower(s, o) ? 1 : 0;
    return n;
}

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
    for (auto f : s->fields)
        p.*f = on;
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
    // The broadest settings; a group whose parts differ by its single-field
    // parts.
    std::string out;
    auto add = [&](const Setting& s) {
        out += fmt::format("{}{} {}", out.empty() ? "" : " ", s.key, value_name(value(p, s)));
    };
    for (const Setting& s : kSettings) {
        if (depth(s) != 0) continue;
        if (value(p, s) != Value::mixed) {
            add(s);
            continue;
        }
        for (const Setting& piece : kSettings) {
            if (piece.fields.size() == 1 && narrower(piece, s)) add(piece);
        }
    }
    return out;
}

std::string json(const Policy& p) {
    JsonWriter w;
    w.begin_object();
    for (const Setting& s : kSettings)
        w.field(s.key, value_name(value(p, s)));
    w.end_object();
    return w.take();
}

}  // namespace xnet::offload
