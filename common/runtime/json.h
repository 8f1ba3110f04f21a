// Writing JSON by hand, as the daemons' control replies do.
#pragma once

#include <string>
#include <string_view>

namespace xnet {

// S as a JSON string literal, quotes included: text echoed in a reply
// (a request, a fault message) cannot break the reply's JSON.
std::string json_quote(std::string_view s);

}  // namespace xnet
