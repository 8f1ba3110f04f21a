#include "flat_json.h"

#include <cctype>
#include <charconv>

namespace xnet::ctl {

namespace {

class Walker {
  public:
    // ITEMS, if given, gets the text of each element of the array at
    // ITEMS_AT, as it stands in S.
    explicit Walker(std::string_view s, std::string_view items_at = {},
                    std::vector<std::string_view>* items = nullptr)
        : s_(s), items_at_(items_at), items_(items) {}

    Status value(const std::string& path, Flat& out, int depth = 0) {
        if (depth > 16) return bad("nesting too deep");
        skip();
        if (i_ >= s_.size()) return bad("value expected");
        char c = s_[i_];
        if (c == '{' || c == '[') {
            char close = c == '{' ? '}' : ']';
            ++i_;
            skip();
            if (peek(close)) return {};
            for (size_t n = 0;; ++n) {
                std::string key = std::to_string(n);
                if (close == '}') {
                    XNET_TRY_ASSIGN(key, string());
                    skip();
                    if (!peek(':')) return bad("':' expected");
                }
                skip();
                const size_t start = i_;
                auto st = value(path.empty() ? key : path + '.' + key, out, depth + 1);
                if (!st) return st;
                if (items_ && close == ']' && path == items_at_) {
                    items_->push_back(s_.substr(start, i_ - start));
                }
                skip();
                if (peek(close)) return {};
                if (!peek(',')) return bad("',' expected");
                skip();
            }
        }
        if (c == '"') {
            XNET_TRY_ASSIGN(auto v, string());
            out.emplace_back(path, v);
            return {};
        }
        size_t start = i_;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) ||
                                  s_[i_] == '-' || s_[i_] == '.' || s_[i_] == '+'))
            ++i_;
        if (i_ == start) return bad("value expected");
        out.emplace_back(path, std::string(s_.substr(start, i_ - start)));
        return {};
    }
    bool at_end() {
        skip();
        return i_ == s_.size();
    }

  private:
    void skip() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_])))
            ++i_;
    }
    bool peek(char c) {
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    Status bad(const char* what) const {
        return fail(EINVAL, std::string("reading the daemon's reply: ") + what + " at byte " +
                                std::to_string(i_));
    }
    Result<std::string> string() {
        if (!peek('"')) return Unexpected{bad("string expected").error()};
        std::string out;
        while (i_ < s_.size() && s_[i_] != '"') {
            char c = s_[i_++];
            if (c == '\\' && i_ < s_.size()) {
                char e = s_[i_++];
                if (e == 'u' && i_ + 4 <= s_.size()) {
                    unsigned v = 0;
                    auto r = std::from_chars(s_.data() + i_, s_.data() + i_ + 4, v, 16);
                    if (r.ec != std::errc{} || r.ptr != s_.data() + i_ + 4) {
                        return Unexpected{bad("bad \\u escape").error()};
                    }
                    out += v < 0x80 ? char(v) : '?';  // our daemons escape only controls
                    i_ += 4;
                } else {
                    out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
                }
            } else {
                out += c;
            }
        }
        if (!peek('"')) return Unexpected{bad("unterminated string").error()};
        return out;
    }

    std::string_view s_;
    std::string_view items_at_;
    std::vector<std::string_view>* items_;
    size_t i_ = 0;
};

}  // namespace

Result<Flat> flatten(std::string_view json) {
    Flat out;
    Walker w(json);
    XNET_TRY(w.value("", out));
    if (!w.at_end()) return fail(EINVAL, "reading the daemon's reply: trailing bytes");
    return out;
}

Result<std::vector<std::string_view>> array_items(std::string_view json, std::string_view path) {
    Flat ignored;
    std::vector<std::string_view> items;
    Walker w(json, path, &items);
    XNET_TRY(w.value("", ignored));
    if (!w.at_end()) return fail(EINVAL, "reading the daemon's reply: trailing bytes");
    return items;
}

std::string lookup(const Flat& f, std::string_view path) {
    for (auto& [k, v] : f) {
        if (k == path) return v;
    }
    return {};
}

}  // namespace xnet::ctl
