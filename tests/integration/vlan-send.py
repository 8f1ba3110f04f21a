#!/usr/bin/python3
"""Sends VLAN (802.1Q) and QinQ (802.1ad + 802.1Q) tagged UDP frames over
IPv4 and IPv6 with a *partial* checksum, the way a stack with checksum
offload hands them to a NIC: a packet socket with a virtio net header
(PACKET_VNET_HDR) saying NEEDS_CSUM at the UDP header behind the tags.
Whoever completes the checksum downstream must find that header through
the tags; a capture with checksum validation shows whether it did. Needs
no VLAN support in the kernel.

Usage: vlan-send.py IFNAME DST_MAC COUNT
"""
import socket
import struct
import sys

SOL_PACKET = 263  # linux/socket.h; not in every Python build
PACKET_VNET_HDR = 15
NEEDS_CSUM = 1


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def sum16(data):
    if len(data) % 2:
        data += b"\0"
    return sum(struct.unpack("!%dH" % (len(data) // 2), data))


def frame(dst, src, tags, v6, seq):
    payload = bytes((seq + i) & 0xFF for i in range(300))
    udp_len = 8 + len(payload)
    if v6:
        saddr = socket.inet_pton(socket.AF_INET6, "fd30::11")
        daddr = socket.inet_pton(socket.AF_INET6, "fd30::100")
        ip = struct.pack("!IHBB", 6 << 28, udp_len, 17, 64) + saddr + daddr
        pseudo = saddr + daddr + struct.pack("!IxxxB", udp_len, 17)
        ethertype = 0x86DD
    else:
        saddr, daddr = socket.inet_aton("10.30.0.11"), socket.inet_aton("10.30.0.100")
        hdr = struct.pack("!BBHHHBBH", 0x45, 0, 20 + udp_len, seq & 0xFFFF, 0, 64, 17, 0)
        hdr += saddr + daddr
        ip = hdr[:10] + struct.pack("!H", 0xFFFF ^ fold(sum16(hdr))) + hdr[12:]
        pseudo = saddr + daddr + struct.pack("!xBH", 17, udp_len)
        ethertype = 0x0800
    # The field holds the folded pseudo-header sum: a partial checksum.
    udp = struct.pack("!HHHH", 40000, 9999, udp_len, fold(sum16(pseudo))) + payload
    l2 = dst + src
    for tpid, vid in tags:
        l2 += struct.pack("!HH", tpid, vid)
    l2 += struct.pack("!H", ethertype)
    csum_start = len(l2) + len(ip)
    vnet = struct.pack("=BBHHHH", NEEDS_CSUM, 0, 0, 0, csum_start, 6)
    return vnet + l2 + ip + udp


def main():
    ifname, dst, count = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), int(sys.argv[3])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    s.bind((ifname, 0))
    src = s.getsockname()[4]
    sent = 0
    for tags in ([(0x8100, 100)], [(0x88A8, 200), (0x8100, 100)]):
        for v6 in (False, True):
            for seq in range(count):
                s.send(frame(dst, src, tags, v6, seq))
                sent += 1
    print(sent)


main()
