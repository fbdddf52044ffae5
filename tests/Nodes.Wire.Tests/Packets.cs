namespace Nodes.Wire.Tests;

/// <summary>
/// Reference datagrams shared by the network-layer codec tests. Each was written out field by field
/// from RFC 791/792/768/3948 and cross-checked once with Wireshark's dissector (tshark 4, "Raw IP"
/// link type, IP/UDP/ICMP checksum validation on): every checksum below was reported "[correct]".
/// </summary>
internal static class Packets
{
    /// <summary>
    /// Windows-style ping 192.168.29.55 → 10.0.10.4: TTL 128, ID 0x1c46, no DF, ICMP echo request
    /// id 1 seq 33, 32 octets "abcdefghijklmnopqrstuvwabcdefghi". IP checksum 0x2c98, ICMP 0x4d3a.
    /// </summary>
    public const string Ping =
        "45 00 00 3c 1c 46 00 00 80 01 2c 98 c0 a8 1d 37 0a 00 0a 04" +
        "08 00 4d 3a 00 01 00 21" +
        "61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 75 76 77 61 62 63 64 65 66 67 68 69";

    /// <summary>The same ping as it reaches a router with TTL 1 (IP checksum 0xab98).</summary>
    public const string PingTtl1 =
        "45 00 00 3c 1c 46 00 00 01 01 ab 98 c0 a8 1d 37 0a 00 0a 04" +
        "08 00 4d 3a 00 01 00 21" +
        "61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 75 76 77 61 62 63 64 65 66 67 68 69";

    /// <summary>
    /// Router 192.168.29.1 → 192.168.29.55, ICMP time exceeded (11/0) quoting <see cref="PingTtl1"/>'s
    /// header and first 8 data octets. TTL 255, ID 0x0100; IP checksum 0xff3b, ICMP 0x9fa3.
    /// </summary>
    public const string TimeExceeded =
        "45 00 00 38 01 00 00 00 ff 01 ff 3b c0 a8 1d 01 c0 a8 1d 37" +
        "0b 00 9f a3 00 00 00 00" +
        "45 00 00 3c 1c 46 00 00 01 01 ab 98 c0 a8 1d 37 0a 00 0a 04 08 00 4d 3a 00 01 00 21";

    /// <summary>
    /// ESP-in-UDP 198.51.100.7:4500 → 203.0.113.10:4500 with DF, TTL 64, ID 0x3333, UDP checksum 0
    /// (RFC 3948 §2.1), SPI 0xc0ffee01, sequence 1, 8 further octets. IP checksum 0xa148.
    /// </summary>
    public const string EspInUdp =
        "45 00 00 2c 33 33 40 00 40 11 a1 48 c6 33 64 07 cb 00 71 0a" +
        "11 94 11 94 00 18 00 00" +
        "c0 ff ee 01 00 00 00 01 01 02 03 04 05 06 07 08";

    /// <summary>
    /// 203.0.113.10 → 198.51.100.7, ICMP destination unreachable / fragmentation needed (3/4) with
    /// next-hop MTU 1400 (RFC 1191), quoting <see cref="EspInUdp"/>'s header and UDP header.
    /// TTL 64, ID 0x0200; IP checksum 0x1280, ICMP 0xd443.
    /// </summary>
    public const string FragmentationNeeded =
        "45 00 00 38 02 00 00 00 40 01 12 80 cb 00 71 0a c6 33 64 07" +
        "03 04 d4 43 00 00 05 78" +
        "45 00 00 2c 33 33 40 00 40 11 a1 48 c6 33 64 07 cb 00 71 0a 11 94 11 94 00 18 00 00";

    /// <summary>
    /// IKE on port 4500, 192.168.29.55 → 203.0.113.10, TTL 128, ID 0x2a02: UDP checksum 0xb301, the
    /// non-ESP marker, then a bare 28-octet IKEv2 header (INFORMATIONAL, initiator, message ID 2,
    /// next payload SK). Wireshark decodes it as "Non-ESP Marker" + ISAKMP INFORMATIONAL.
    /// </summary>
    public const string IkeNatT =
        "45 00 00 3c 2a 02 00 00 80 11 f6 c4 c0 a8 1d 37 cb 00 71 0a" +
        "11 94 11 94 00 28 b3 01" +
        "00 00 00 00" +
        "00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 2e 20 25 08 00 00 00 02 00 00 00 1c";

    /// <summary>
    /// NAT-keepalive 192.168.29.55:4500 → 203.0.113.10:4500, TTL 128, ID 0x2a01: the single octet
    /// 0xFF (RFC 3948 §2.3). IP checksum 0xf6e4, UDP checksum 0xc3c8.
    /// </summary>
    public const string Keepalive =
        "45 00 00 1d 2a 01 00 00 80 11 f6 e4 c0 a8 1d 37 cb 00 71 0a" +
        "11 94 11 94 00 09 c3 c8 ff";

    /// <summary>
    /// A header with options: IHL 6, TOS 0xb8 (DSCP 46 EF, ECN 0), DF, TTL 64, options NOP NOP NOP
    /// EOL, then UDP 500 → 500 carrying "hi" (UDP checksum 0x799e). IP checksum 0x15b1.
    /// </summary>
    public const string WithOptions =
        "46 b8 00 22 07 77 40 00 40 11 15 b1 c0 a8 1d 37 cb 00 71 0a 01 01 01 00" +
        "01 f4 01 f4 00 0a 79 9e 68 69";

    /// <summary>
    /// The header used as the worked example of the IPv4 header checksum in Wikipedia's
    /// "Internet checksum"/"IPv4" articles: 192.168.0.1 → 192.168.0.199, UDP, DF, checksum 0xb861.
    /// </summary>
    public const string WikipediaHeader = "45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7";
}
