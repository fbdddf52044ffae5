using Nodes.Ike;

namespace Nodes.Gateway;

/// <summary>
/// One tunnel of a gateway: its settings, the IKE SA it currently runs on, the demand-dial queue and the outage
/// accounting behind its status. A tunnel's current SA is one this side initiated or one whose peer authenticated.
/// </summary>
public sealed class Tunnel(TunnelProfile profile)
{
    /// <summary>Packets a down demand-dial interface holds while it dials (RRAS keeps a few, then drops the oldest).</summary>
    public const int DemandDialQueueLimit = 16;

    /// <summary>The tunnel's settings; a shared-key or proposal fault replaces them.</summary>
    public TunnelProfile Profile { get; internal set; } = profile;
    internal IkeLink? Current { get; set; }
    internal Queue<(byte[] Packet, string Traceparent)> Held { get; } = new();
    /// <summary>Failures seen on the tunnel, oldest first, as "NOTIFY: reason".</summary>
    public List<string> Failures { get; } = [];
    /// <summary>Dial attempts since the tunnel was last up (or the demand-dial budget was reset).</summary>
    public int Attempts { get; internal set; }
    public bool EverConnected { get; internal set; }
    public DateTimeOffset? DownSince { get; internal set; }
    public TimeSpan TotalDown { get; internal set; }
    public int Outages { get; internal set; }
    /// <summary>When the tunnel's current IKE SA was last established (lab time), kept while the tunnel is down.</summary>
    public DateTimeOffset? EstablishedAt { get; internal set; }
    /// <summary>The IKE SA the tunnel runs on now, if any.</summary>
    public IkeSa? CurrentSa => Current?.Sa;
    /// <summary>Packets waiting for the tunnel to come up.</summary>
    public int HeldCount => Held.Count;
}

/// <summary>An IKE SA of the gateway's table, with its tunnel and the inbound SPIs of its Child SAs.</summary>
internal sealed class IkeLink(IkeSa sa, Tunnel tunnel)
{
    public IkeSa Sa { get; } = sa;
    public Tunnel Tunnel { get; } = tunnel;
    public List<uint> Children { get; } = [];
}
