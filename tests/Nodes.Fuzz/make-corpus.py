#!/usr/bin/env python3
"""Writes tests/Nodes.Fuzz/corpus/TARGET/*: the seeds of each fuzz target, made from the published packets the
codec tests already use (tests/Nodes.Wire.Tests/Packets.cs: RFC 791/792/768/3948 datagrams cross-checked with
Wireshark; tests/Nodes.Wire.Tests/Ike/IkeFixtures.cs: the AOSP IKE library's published IKEv2 messages) and the
shipped topologies. Run it again when those change; the seeds are committed so that afl-fuzz needs nothing else."""
import os, re, shutil, struct

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.normpath(os.path.join(here, "..", ".."))
out = os.path.join(here, "corpus")

def hexes(path, pattern):
    """Every `NAME = "hex" + "hex";` (or `NAME => Hex.Decode("hex" + ...);`) in a C# file, as bytes."""
    text = open(os.path.join(repo, path)).read()
    found = {}
    for m in re.finditer(pattern, text, re.S):
        literals = re.findall(r'"([0-9a-fA-F ]*)"', m.group(2))
        found[m.group(1)] = bytes.fromhex("".join(literals).replace(" ", ""))
    return found

packets = hexes("tests/Nodes.Wire.Tests/Packets.cs", r'const string (\w+) =\s*((?:"[^"]*"\s*\+?\s*)+);')
ike = hexes("tests/Nodes.Wire.Tests/Ike/IkeFixtures.cs", r'static byte\[\] (\w+) => Hex\.Decode\(\s*((?:"[^"]*"\s*\+?\s*)+)\);')

def checksum(data):
    if len(data) % 2: data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def ipv4(src, dst, proto, payload, ident=0x1c46, flags_offset=0, ttl=128):
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags_offset, ttl, proto, 0, bytes(src), bytes(dst)))
    struct.pack_into("!H", h, 10, checksum(bytes(h)))
    return bytes(h) + payload

def frames(items):
    return b"".join(bytes([tag]) + struct.pack("!H", len(b)) + b for tag, b in items)

ping = packets["Ping"]
src, dst, icmp = ping[12:16], ping[16:20], ping[20:]
outside = bytes([203, 0, 113, 10])
reply = bytearray(b"\0\0\0\0" + icmp[4:])
struct.pack_into("!H", reply, 2, checksum(bytes(reply)))
seeds = {
    "ike-parse": {"ike-sa-init": ike["IkeSaInit"], "ike-auth": ike["IkeAuth"], "empty-informational": ike["EmptyInformational"]},
    "ike-sk-open": {"ike-auth": ike["IkeAuth"], "empty-informational": ike["EmptyInformational"]},
    "ike-sk-sealed": {
        # IKE_AUTH's decrypted payloads without their padding, behind the first inner payload type (IDi, 35).
        "ike-auth-inner": bytes([35]) + ike["IkeAuthDecryptedBody"][:-(ike["IkeAuthDecryptedBody"][-1] + 1)],
        "empty": bytes([0]),
    },
    "esp-open": {"esp": packets["EspInUdp"][28:]},
    "esp-sealed": {"ping": bytes([4]) + ping, "time-exceeded": bytes([4]) + packets["TimeExceeded"]},
    "udp-encap-classify": {"esp": packets["EspInUdp"][28:], "ike": packets["IkeNatT"][28:], "keepalive": packets["Keepalive"][28:]},
    "ipv4-parse": {name.lower(): data for name, data in packets.items() if len(data) > 20},
    "ipv4-reassembly": {
        "whole": frames([(0, ping)]),
        # The ping in two fragments (RFC 791): 16 octets with MF, then 24 at offset 2 (16 octets).
        "two-fragments": frames([(0, ipv4(src, dst, 1, icmp[:16], flags_offset=0x2000)), (0, ipv4(src, dst, 1, icmp[16:], flags_offset=2))]),
        "reordered": frames([(0, ipv4(src, dst, 1, icmp[16:], flags_offset=2)), (0x10, ipv4(src, dst, 1, icmp[:16], flags_offset=0x2000))]),
    },
    "nat-table": {
        # The ping out through the NAT, and Azure's reply to the NAT's outside address coming back.
        "ping-and-reply": frames([(0, ping), (1, ipv4(dst, outside, 1, bytes(reply), ident=0x0303))]),
        "ike-out-esp-in": frames([(0, packets["IkeNatT"]), (1, packets["EspInUdp"])]),
    },
    "topology-load": {},
}
# gateway-engine frames (tests/Nodes.Fuzz/GatewayTarget.cs): tag bits 0-2 the kind, bits 3-7 seconds to let pass.
client, vm = bytes([192, 168, 29, 55]), bytes([10, 0, 10, 4])
echo = bytearray(b"\x08\0\0\0" + icmp[4:])
struct.pack_into("!H", echo, 2, checksum(bytes(echo)))
to_vm = ipv4(client, vm, 1, bytes(echo), ttl=127)
to_client = ipv4(vm, client, 1, bytes(reply), ident=0x0404, ttl=64)
# Delete payload (RFC 7296 section 3.11): no next payload, length 12, protocol ESP (3), SPI size 4, one SPI.
delete_esp = struct.pack("!BBHBBHI", 0, 0, 12, 3, 4, 1, 0x01020304)
seeds["gateway-engine"] = {
    "liveness-check": frames([(0, bytes([0, 0]))]),
    "delete-unknown-child": frames([(0, bytes([0, 42]) + delete_esp)]),
    "esp-ping": frames([(2, to_vm)]),
    "cleartext-to-vm": frames([(3, ipv4(outside, vm, 1, bytes(echo)))]),
    "vnet-reply": frames([(4, to_client)]),
    "client-ping": frames([(5, to_vm)]),
    "udp4500-forged": frames([(6, b"\xff"), (6, packets["EspInUdp"][28:])]),
    "liveness-check-to-rras": frames([(7, bytes([0, 0]))]),
    "idle-then-ping": frames([(5 | 31 << 3, to_vm), (5 | 31 << 3, to_vm), (4, to_client)]),
}
for f in sorted(os.listdir(os.path.join(repo, "topology"))):
    if f.endswith(".yaml"):
        seeds["topology-load"][f[:-5]] = open(os.path.join(repo, "topology", f), "rb").read()

shutil.rmtree(out, ignore_errors=True)
for target, files in seeds.items():
    os.makedirs(os.path.join(out, target))
    for name, data in files.items():
        open(os.path.join(out, target, name), "wb").write(data)
    print(f"{target}: {len(files)} seeds")
