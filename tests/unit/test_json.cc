// The JSON writer behind every control reply (runtime/json.h) and the two
// reply shapes the daemons share (runtime/control.h).
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "runtime/control.h"
#include "runtime/json.h"

using namespace xnet;

TEST_CASE("JsonWriter: commas between elements, none after a key or an opening") {
    JsonWriter w;
    w.begin_object();
    w.field("a", 1).field("b", "two").field("c", true).field("d", false);
    w.key("e").begin_array().value(1).value(2).begin_object().end_object().end_array();
    w.key("f").begin_object().end_object();
    w.key("g").null();
    w.end_object();
    CHECK(w.str() == R"({"a":1,"b":"two","c":true,"d":false,"e":[1,2,{}],"f":{},"g":null})");
}

TEST_CASE("JsonWriter: integers of every width, and bool is not an integer") {
    JsonWriter w;
    w.begin_array();
    w.value(uint64_t(18446744073709551615u)).value(int16_t(-5)).value(uint8_t(7)).value(true);
    w.end_array();
    CHECK(w.str() == "[18446744073709551615,-5,7,true]");
}

TEST_CASE("JsonWriter: a string literal is a string, not a bool") {
    JsonWriter w;
    w.begin_array().value("x").value(std::string("y")).value(std::string_view("z")).end_array();
    CHECK(w.str() == R"(["x","y","z"])");
}

TEST_CASE("JsonWriter: text is quoted, so it cannot break the document") {
    JsonWriter w;
    w.begin_object().field("k\"ey", "a\"b\\c\nd\x01").end_object();
    CHECK(w.str() == R"({"k\"ey":"a\"b\\c\u000ad\u0001"})");
}

TEST_CASE("JsonWriter: optional values, raw values in place") {
    JsonWriter w;
    w.begin_object();
    w.field("some", std::optional<std::string>("v"));
    w.field("none", std::optional<std::string>());
    w.key("raw").raw(R"({"x":[1]})");
    w.field("after", 0);
    w.end_object();
    CHECK(w.take() == R"({"some":"v","none":null,"raw":{"x":[1]},"after":0})");
}

TEST_CASE("control_list and control_error: the shapes every daemon replies with") {
    CHECK(control_list({}) == R"({"vifs":[]})");
    CHECK(control_list({R"({"name":"a"})", R"({"name":"b"})"}) ==
          R"({"vifs":[{"name":"a"},{"name":"b"}]})");
    CHECK(control_error("no such \"vif\"") == R"({"error":"no such \"vif\""})");
}
