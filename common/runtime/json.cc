#include "runtime/json.h"

#include <fmt/format.h>

namespace xnet {

std::string json_quote(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\u{:04x}", c);
        } else {
            out += char(c);
        }
    }
    return out + "\"";
}

}  // namespace xnet
