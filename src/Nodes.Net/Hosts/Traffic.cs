using Nodes.Wire.Ip;

namespace Nodes.Net.Hosts;

/// <summary>Initial TTLs operating systems send (RFC 1700 recommended 64; Windows uses 128).</summary>
public static class DefaultTimeToLive
{
    /// <summary>Windows.</summary>
    public const byte Windows = 128;

    /// <summary>Linux (net.ipv4.ip_default_ttl).</summary>
    public const byte Linux = 64;
}

/// <summary>What a ping sends.</summary>
/// <param name="Destination">Address pinged.</param>
/// <param name="Identifier">ICMP echo identifier (Windows uses 1; Linux the process id).</param>
/// <param name="DataLength">Echo data octets (Windows 32, Linux 56).</param>
/// <param name="DontFragment">Set DF (ping -f on Windows, -M do on Linux).</param>
/// <param name="Timeout">How long a request waits for its reply (Windows 4 s).</param>
public sealed record PingOptions(Ipv4Address Destination, ushort Identifier = 1, int DataLength = 32, bool DontFragment = false, TimeSpan? Timeout = null)
{
    /// <summary>The timeout, 4 s when not given.</summary>
    public TimeSpan EffectiveTimeout => Timeout ?? TimeSpan.FromSeconds(4);
}

/// <summary>
/// One ping run: requests sent, replies matched by identifier and sequence number, round-trip times
/// from the caller's clock, and the accounting ping prints. Owned by its <see cref="HostStack"/>.
/// </summary>
public sealed class PingSession
{
    private readonly List<TimeSpan> _roundTrips = [];

    internal PingSession(PingOptions options) => Options = options;

    /// <summary>What this session sends.</summary>
    public PingOptions Options { get; }

    /// <summary>Sequence number of the next request.</summary>
    public ushort NextSequence { get; internal set; } = 1;

    /// <summary>Requests put on the wire.</summary>
    public int Sent { get; internal set; }

    /// <summary>Replies matched.</summary>
    public int Received { get; private set; }

    /// <summary>Requests that timed out.</summary>
    public int TimedOut { get; internal set; }

    /// <summary>Requests answered by an ICMP error, or that could not be sent.</summary>
    public int Failed { get; internal set; }

    /// <summary>Requests lost: timed out or failed.</summary>
    public int Lost => TimedOut + Failed;

    /// <summary>Requests still waiting.</summary>
    public int Outstanding => Pending.Count;

    /// <summary>Round-trip times of matched replies, in order.</summary>
    public IReadOnlyList<TimeSpan> RoundTrips => _roundTrips;

    /// <summary>Shortest round trip, or null before the first reply.</summary>
    public TimeSpan? Minimum => _roundTrips.Count == 0 ? null : _roundTrips.Min();

    /// <summary>Longest round trip, or null before the first reply.</summary>
    public TimeSpan? Maximum => _roundTrips.Count == 0 ? null : _roundTrips.Max();

    /// <summary>Mean round trip (whole ticks), or null before the first reply.</summary>
    public TimeSpan? Average => _roundTrips.Count == 0 ? null : TimeSpan.FromTicks(_roundTrips.Sum(t => t.Ticks) / _roundTrips.Count);

    internal Dictionary<ushort, TimeSpan> Pending { get; } = new();

    internal void Reserve(int requests)
    {
        Pending.EnsureCapacity(requests);
        _roundTrips.Capacity = Math.Max(_roundTrips.Capacity, requests);
    }

    internal void Matched(TimeSpan roundTrip)
    {
        Received++;
        _roundTrips.Add(roundTrip);
    }
}

/// <summary>A UDP flow: <paramref name="Count"/> datagrams of <paramref name="PayloadLength"/> octets to <paramref name="Destination"/>.</summary>
public sealed record UdpFlowOptions(Ipv4Endpoint Destination, ushort SourcePort, int Count, int PayloadLength, bool DontFragment = false);

/// <summary>
/// A UDP traffic generator. Each payload starts with a 4-octet big-endian sequence number (from 0)
/// when it has room, so a <see cref="UdpReceiver"/> can count losses, duplicates and reordering.
/// </summary>
public sealed class UdpFlow
{
    internal UdpFlow(UdpFlowOptions options) => Options = options;

    /// <summary>What this flow sends.</summary>
    public UdpFlowOptions Options { get; }

    /// <summary>Datagrams sent so far.</summary>
    public int Sent { get; internal set; }

    /// <summary>Datagrams still to send.</summary>
    public int Remaining => Options.Count - Sent;
}

/// <summary>Counts what arrives on one UDP port.</summary>
public sealed class UdpReceiver
{
    private readonly HashSet<uint> _seen = [];
    private long _highest = -1;

    internal UdpReceiver(ushort port) => Port = port;

    /// <summary>The listening port.</summary>
    public ushort Port { get; }

    /// <summary>Datagrams received.</summary>
    public long Packets { get; private set; }

    /// <summary>Payload octets received.</summary>
    public long Bytes { get; private set; }

    /// <summary>Datagrams whose sequence number had been seen already.</summary>
    public long Duplicates { get; private set; }

    /// <summary>Datagrams whose sequence number was below one seen earlier.</summary>
    public long OutOfOrder { get; private set; }

    /// <summary>Distinct sequence numbers seen.</summary>
    public int Distinct => _seen.Count;

    internal void Count(ReadOnlySpan<byte> payload)
    {
        Packets++;
        Bytes += payload.Length;
        if (payload.Length < 4) return;
        var sequence = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(payload);
        if (!_seen.Add(sequence))
        {
            Duplicates++;
            return;
        }

        if (sequence < _highest) OutOfOrder++;
        else _highest = sequence;
    }
}
