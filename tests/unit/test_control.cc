// The control socket's JSON helpers (runtime/control.h).
#include <doctest/doctest.h>

#include "runtime/control.h"

using xnet::json_quote;

TEST_CASE("control: text echoed into a reply stays one JSON string") {
    CHECK(json_quote("vif3.0") == "\"vif3.0\"");
    CHECK(json_quote("") == "\"\"");
    CHECK(json_quote("a\"b") == "\"a\\\"b\"");
    CHECK(json_quote("back\\slash") == "\"back\\\\slash\"");
    CHECK(json_quote(std::string("nl\n\x01\x7f", 5)) == "\"nl\\u000a\\u0001\\u007f\"");
    CHECK(json_quote("caf\xc3\xa9") == "\"caf\xc3\xa9\"");  // UTF-8 passes through
}
