// The control socket's JSON helpers (runtime/json.h) and how xnetctl reads
// the replies (ctl/flat_json.h).
#include <doctest/doctest.h>

#include "ctl/flat_json.h"
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

TEST_CASE("xnetctl: replies flattened, and the vifs of several replies merged") {
    const std::string reply =
        R"({"vifs":[{"name":"vif1.0","policy":{"tx-checksum":"on"},"q":[1,2]},)"
        R"({"name":"a]b[,\"c","n":-3}]})";
    auto items = xnet::ctl::array_items(reply, "vifs");
    REQUIRE(items);
    REQUIRE(items->size() == 2);
    CHECK((*items)[0] == R"({"name":"vif1.0","policy":{"tx-checksum":"on"},"q":[1,2]})");
    CHECK((*items)[1] == R"({"name":"a]b[,\"c","n":-3})");
    auto flat = xnet::ctl::flatten(reply);
    REQUIRE(flat);
    CHECK(xnet::ctl::lookup(*flat, "vifs.1.name") == "a]b[,\"c");
    CHECK(xnet::ctl::lookup(*flat, "vifs.0.q.1") == "2");
    auto none = xnet::ctl::array_items(R"({"vifs":[]})", "vifs");
    REQUIRE(none);
    CHECK(none->empty());
    CHECK_FALSE(xnet::ctl::array_items(R"({"vifs":[{"name":)", "vifs"));
    CHECK_FALSE(xnet::ctl::array_items(R"({"vifs":[]} junk)", "vifs"));
}
