// The netif helpers both ends use (netif/netif.h): the checksum flag bits
// per direction, strict number and state parsing, the GSO extra.
#include <doctest/doctest.h>

#include <array>
#include <string>

#include "offload_frames.h"
#include "packet/frame_csum.h"

using namespace offload_test;
using netif::Gso;
using netif::Meta;
using pkt::Verdict;

TEST_CASE("netif: checksum flags per direction") {
    // The two directions put the same bits in different places.
    CHECK(netif::tx_flags({.csum_blank = true}) == 1);
    CHECK(netif::tx_flags({.data_validated = true}) == 2);
    CHECK(netif::rx_flags({.csum_blank = true}) == 2);
    CHECK(netif::rx_flags({.data_validated = true}) == 1);
    for (bool blank : {false, true}) {
        for (bool dv : {false, true}) {
            const Meta m{.csum_blank = blank, .data_validated = dv};
            INFO("blank " << blank << " dv " << dv);
            CHECK(netif::from_tx_flags(netif::tx_flags(m)) == m);
            CHECK(netif::from_rx_flags(netif::rx_flags(m)) == m);
        }
    }
    for (std::uint16_t f = 0; f < 16; ++f) {
        CAPTURE(f);  // the slot-chain bits are not checksum bits
        CHECK(netif::tx_flags(netif::from_tx_flags(f)) == (f & 3));
        CHECK(netif::rx_flags(netif::from_rx_flags(f)) == (f & 3));
    }
    CHECK(netif::from_rx_flags(1) == Meta{.data_validated = true});
    CHECK(netif::from_tx_flags(1) == Meta{.csum_blank = true});
}

TEST_CASE("netif: parse_number, parse_state, state_name, gso_extra") {
    for (const char* bad : {"", "-1", "+4", "0x10", " 4", "4 ", "4\n", "99999999999999999999999",
                            "18446744073709551616"}) {
        CAPTURE(bad);
        CHECK_FALSE(netif::parse_number(bad, UINT64_MAX).has_value());
    }
    CHECK(netif::parse_number("0", 10) == 0u);
    CHECK(netif::parse_number("42", 42) == 42u);
    CHECK(netif::parse_number("18446744073709551615", UINT64_MAX) == UINT64_MAX);
    CHECK_FALSE(netif::parse_number("43", 42).has_value());

    CHECK(netif::parse_state("4") == netif::State::connected);
    CHECK(netif::parse_state("8") == netif::State::reconfigured);
    for (const char* bad : {"9", "x", "", "-1"}) {
        CAPTURE(bad);
        CHECK_FALSE(netif::parse_state(bad).has_value());
    }
    CHECK(netif::state_name(netif::State::connected) == "Connected");
    CHECK(netif::state_name(netif::State::init_wait) == "InitWait");

    auto e = netif::gso_extra({.gso = Gso::tcpv6, .gso_size = 1440});
    CHECK(e.type == XEN_NETIF_EXTRA_TYPE_GSO);
    CHECK(e.flags == 0);
    CHECK(e.u.gso.size == 1440);
    CHECK(e.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6);
    CHECK(e.u.gso.features == 0);
    CHECK(netif::gso_extra({.gso = Gso::tcpv4, .gso_size = 1}).u.gso.type ==
          XEN_NETIF_GSO_TYPE_TCPV4);
}
