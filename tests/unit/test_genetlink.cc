// Generic netlink attributes (runtime/genetlink.h): what Message builds
// parses back, nests included, and a malformed attribute is refused
// rather than read past.
#include <doctest/doctest.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <cstring>
#include <vector>

#include "runtime/genetlink.h"

using namespace xnet;

namespace {

// The attributes of a built message: after the netlink and genl headers.
std::vector<uint8_t> attrs_of(genl::Message& m) {
    auto b = m.bytes();
    nlmsghdr h;
    std::memcpy(&h, b.data(), sizeof h);
    REQUIRE(h.nlmsg_len == b.size());
    return {b.begin() + NLMSG_HDRLEN + GENL_HDRLEN, b.end()};
}

}  // namespace

TEST_CASE("genetlink: a message's attributes parse back, nests and all") {
    genl::Message m(0x20, 3, 1, 0);
    m.put_u32(1, 7);
    m.put_str(2, "tx-scatter-gather");
    size_t outer = m.begin_nest(3);
    size_t inner = m.begin_nest(4);
    m.put_flag(5);
    m.put_str(6, "x");
    m.end_nest(inner);
    m.end_nest(outer);

    auto bytes = attrs_of(m);
    auto top = genl::parse(bytes);
    REQUIRE(top);
    REQUIRE(top->size() == 3);
    CHECK(genl::find(*top, 1)->u32() == 7u);
    CHECK(genl::find(*top, 2)->str() == "tx-scatter-gather");
    CHECK_FALSE(genl::find(*top, 2)->u32());  // not four bytes
    const genl::Attr* n = genl::find(*top, 3);
    REQUIRE(n);  // the NESTED flag is masked off the type
    auto level1 = genl::parse(n->data);
    REQUIRE(level1);
    REQUIRE(level1->size() == 1);
    auto level2 = genl::parse((*level1)[0].data);
    REQUIRE(level2);
    CHECK(genl::find(*level2, 5) != nullptr);
    CHECK(genl::find(*level2, 5)->data.empty());
    CHECK(genl::find(*level2, 6)->str() == "x");
    CHECK(genl::find(*level2, 9) == nullptr);
}

TEST_CASE("genetlink: malformed attributes are refused") {
    genl::Message m(0x20, 3, 1, 0);
    m.put_u32(1, 7);
    auto good = attrs_of(m);
    // A length past the end.
    auto bad = good;
    uint16_t len = 200;
    std::memcpy(bad.data(), &len, sizeof len);
    CHECK_FALSE(genl::parse(bad));
    // A length shorter than the attribute header.
    len = 2;
    std::memcpy(bad.data(), &len, sizeof len);
    CHECK_FALSE(genl::parse(bad));
    // A string without its NUL is not a string.
    std::vector<uint8_t> s = {8, 0, 2, 0, 'a', 'b', 'c', 'd'};
    auto a = genl::parse(s);
    REQUIRE(a);
    CHECK_FALSE((*a)[0].str());
    // Trailing bytes shorter than a header are ignored, not read.
    good.push_back(0);
    CHECK(genl::parse(good));
}
