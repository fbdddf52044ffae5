using Nodes.Crypto;
using Nodes.Gateway;
using Nodes.Ike;
using Nodes.Net;
using Nodes.Net.Forwarding;
using Nodes.Net.Nat;
using Nodes.Topology.Loading;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.TestKit;

/// <summary>
/// The seed lab's two gateways without actors: the RRAS engine and the Azure gateway engine built from topology/azure-s2s-rras.yaml,
/// the ISP router's NAT between them as the pure <see cref="NatTable"/>, and sinks for what leaves toward the client's
/// LAN and the VNet. Frames move one at a time (<see cref="Step"/>), so a test can look at both engines after every
/// arrow; time is virtual and moves only when a test says so.
/// </summary>
public sealed class GatewayLab : IDisposable
{
    public static readonly Ipv4Address Client = Ipv4Address.Parse("192.168.29.55");
    public static readonly Ipv4Address Vm = Ipv4Address.Parse("10.0.10.4");
    public static readonly Ipv4Address RrasLan = Ipv4Address.Parse("192.168.29.52");
    public static readonly Ipv4Address HomePublic = Ipv4Address.Parse("203.0.113.10");
    public static readonly Ipv4Address AzurePublic = Ipv4Address.Parse("52.172.171.0");

    /// <summary>The second instance's public address in the active-active lab (topology/azure-active-active-bgp.yaml).</summary>
    public static readonly Ipv4Address AzureSecondPublic = Ipv4Address.Parse("52.172.171.2");
    private static readonly Ipv4Address IspLan = Ipv4Address.Parse("192.168.29.1");
    private static readonly Ipv4Address InternetNextHop = Ipv4Address.Parse("52.172.171.1");
    private static readonly Ipv4Address SecondInternetNextHop = Ipv4Address.Parse("52.172.171.3");

    private readonly NatTable _nat;
    private readonly Queue<(string To, byte[] Datagram, string Trace)> _wire = new();

    /// <param name="file">A lab of topology/ with the seed's nodes (rras, azure-gw); the seed lab when null.</param>
    public GatewayLab(ulong seed = 29, Func<string, string>? edit = null, string? file = null)
    {
        var path = file is null ? SeedFile : Path.Combine(Repo(), "topology", file);
        var topology = edit is null && file is null ? Seed.Value : Load((edit ?? (t => t))(File.ReadAllText(path)));
        var rras = (RrasSpec)topology.Nodes.Single(n => n.Name == "rras");
        var azure = (AzureVpnGatewaySpec)topology.Nodes.Single(n => n.Name == "azure-gw");
        RrasPort = new RecordingPort("rras", this);
        AzurePort = new RecordingPort("azure-gw", this);
        var streams = 0;
        Rras = new GatewayEngine("rras", GatewayProfile.Rras(rras, new TimeScale(1)), Router(rras), () => new SeededRandomSource(seed, $"rras/{++streams}"), RrasPort, GatewayEngine.QueuedIkeOptions, seed + 1);
        var azureStreams = 0;
        var azureRouter = Router(azure);
        foreach (var space in azure.VnetAddressSpaces)
            azureRouter.Routes.Add(new Net.Routing.Route(space, azure.VnetNextHop, "gateway-subnet", 10));
        Azure = new GatewayEngine("azure-gw", GatewayProfile.Azure(azure, new TimeScale(1)), azureRouter, () => new SeededRandomSource(seed, $"azure-gw/{++azureStreams}"), AzurePort, GatewayEngine.QueuedIkeOptions, seed + 2);
        _nat = new NatTable(new NatOptions { OutsideAddress = HomePublic, Seed = seed });
        Now = new DateTimeOffset(2026, 12, 3, 0, 0, 0, TimeSpan.Zero);
        Epoch = Now;
        Rras.Start(Time);
        Azure.Start(Time);
    }

    private static readonly string SeedFile = Path.Combine(Repo(), "topology", "azure-s2s-rras.yaml");

    // The seed topology parsed once: a benchmark builds many labs, and the YAML is not what it measures.
    private static readonly Lazy<TopologySpec> Seed = new(() => Load(File.ReadAllText(SeedFile)));

    private static TopologySpec Load(string text)
    {
        var loaded = TopologyLoader.LoadFromString(text, "azure-s2s-rras.yaml");
        return loaded.Topology ?? throw new InvalidOperationException(string.Join('\n', loaded.Diagnostics));
    }

    public GatewayEngine Rras { get; }
    public GatewayEngine Azure { get; }
    public RecordingPort RrasPort { get; }
    public RecordingPort AzurePort { get; }
    public DateTimeOffset Now { get; private set; }
    private DateTimeOffset Epoch { get; }
    public GatewayTime Time => new(Now, Now, Now - Epoch);

    /// <summary>Datagrams that left RRAS toward the home LAN (the client), in order.</summary>
    public List<byte[]> ToHomeLan { get; } = [];

    /// <summary>Datagrams that left the Azure gateway into the VNet, in order.</summary>
    public List<byte[]> ToVnet { get; } = [];

    /// <summary>Datagrams on the internet between the NAT and Azure, both directions, as they were on the wire.</summary>
    public List<byte[]> OnInternet { get; } = [];

    /// <summary>Sees every datagram on its way from the NAT to the Azure gateway first; true takes it off the wire (a man in the middle).</summary>
    public Func<byte[], bool>? Intercept { get; set; }

    /// <summary>
    /// Hands the next frame on the wire to the node it is for; with the wire empty, lets a gateway answer a queued
    /// IKE_SA_INIT (as its actor does between frames); false when there is nothing left to do.
    /// </summary>
    public bool Step()
    {
        if (!_wire.TryDequeue(out var f))
        {
            foreach (var engine in new[] { Azure, Rras })
                if (engine.QueuedKeyExchanges > 0)
                {
                    engine.RunQueuedKeyExchange(Time);
                    return true;
                }
            return false;
        }
        switch (f.To)
        {
            case "rras": Rras.Receive(f.Datagram, "lan", f.Trace, Time); break;
            case "azure-gw": Azure.Receive(f.Datagram, Destination(f.Datagram) == AzureSecondPublic ? "internet-2" : "internet", f.Trace, Time); break;
        }
        return true;
    }

    /// <summary>Steps until the wire is empty, then moves time on by <paramref name="by"/> in 10 ms ticks, firing IKE timers.</summary>
    public void Run(TimeSpan by = default)
    {
        while (Step()) { }
        var end = Now + by;
        while (Now < end)
        {
            Now += TimeSpan.FromMilliseconds(10);
            foreach (var engine in new[] { Rras, Azure })
            {
                if (engine.NextDeadline is { } at && at <= Now) engine.Tick(Time, at);
                if (engine.NextBgpDeadline is { } b && b <= Time.Elapsed) engine.BgpTick(Time);
            }
            while (Step()) { }
        }
    }

    /// <summary>A datagram arriving at RRAS from the home LAN (the client sends it).</summary>
    public void FromClient(byte[] datagram) => Rras.Receive(datagram, "lan", "", Time);

    /// <summary>A datagram arriving at the Azure gateway from the VNet (the VM sends it).</summary>
    public void FromVnet(byte[] datagram) => Azure.Receive(datagram, "gateway-subnet", "", Time);

    /// <summary>A datagram arriving at the Azure gateway's internet interface, from anyone.</summary>
    public void AtAzureFromInternet(byte[] datagram) => Azure.Receive(datagram, "internet", "", Time);

    /// <summary>A datagram put on the wire from the NAT to the Azure gateway (one held back by <see cref="Intercept"/>, late).</summary>
    public void ToAzureLater(byte[] datagram) => _wire.Enqueue(("azure-gw", datagram, ""));

    /// <summary>A datagram arriving at RRAS from the internet, through the NAT (an inbound mapping must exist).</summary>
    public void AtRrasFromInternet(byte[] datagram)
    {
        if (_nat.TranslateInbound(datagram, Time.Elapsed).Translated) _wire.Enqueue(("rras", datagram, ""));
    }

    public static byte[] Echo(Ipv4Address from, Ipv4Address to, ushort sequence, int data = 32, bool reply = false)
    {
        var packet = new byte[Ipv4PacketWriter.IcmpDatagramLength(data)];
        Ipv4PacketWriter.WriteIcmpEcho(packet, new Ipv4Template(from, to, sequence, 128), reply, 1, sequence, new byte[data]);
        return packet;
    }

    /// <summary>Where a transmission goes: the ISP router (NAT, then the internet), the client, the VNet or Azure's internet side.</summary>
    public void Carry(string node, Transmission t, string trace)
    {
        var datagram = t.Datagram.ToArray();
        if (node == "rras")
        {
            if (t.NextHop == IspLan)
            {
                if (!_nat.TranslateOutbound(datagram, Time.Elapsed).Translated) return;
                OnInternet.Add(datagram.ToArray());
                if ((Destination(datagram) == AzurePublic || Destination(datagram) == AzureSecondPublic) && Intercept?.Invoke(datagram) != true)
                    _wire.Enqueue(("azure-gw", datagram, trace));
            }
            else ToHomeLan.Add(datagram);
            return;
        }
        if (t.NextHop == InternetNextHop || t.NextHop == SecondInternetNextHop)
        {
            OnInternet.Add(datagram.ToArray());
            if (Destination(datagram) == HomePublic && _nat.TranslateInbound(datagram, Time.Elapsed).Translated) _wire.Enqueue(("rras", datagram, trace));
        }
        else ToVnet.Add(datagram);
    }

    private static Ipv4Address Destination(byte[] datagram) => Ipv4Header.TryParse(datagram, out var h, out _) ? h.Destination : default;

    private static Router Router(NodeSpec spec)
    {
        var interfaces = SpecNetwork.Interfaces(spec);
        return new Router(interfaces, SpecNetwork.Routes(spec, interfaces));
    }

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", ".."));

    public void Dispose()
    {
        Rras.Dispose();
        Azure.Dispose();
    }
}

/// <summary>A port that records what an engine did and puts its frames on the lab's wire.</summary>
public sealed class RecordingPort(string node, GatewayLab lab) : IGatewayPort
{
    public Dictionary<string, int> Drops { get; } = [];
    public List<string> Reports { get; } = [];
    public List<IkeOutput> IkeOutputs { get; } = [];
    public List<ChildSaInfo> Installed { get; } = [];
    public List<string> Redials { get; } = [];
    public int Transmitted { get; private set; }

    public int Dropped(string reason) => Drops.GetValueOrDefault(reason);

    public string Originated(byte[] datagram) => "";

    public void Transmit(Transmission transmission, string traceparent)
    {
        Transmitted++;
        lab.Carry(node, transmission, traceparent);
    }

    public void Dropped(string reason, string? detail) => Drops[reason] = Drops.GetValueOrDefault(reason) + 1;
    public void Report(string kind, string text) => Reports.Add($"{kind}: {text}");
    public void RedialAfter(string tunnel, TimeSpan delay) => Redials.Add(tunnel);
    public void FragmentsWaiting() { }
    public void Disconnected() => Reports.Add("disconnected");
    public void IkeSaStarted(IkeSa sa, string tunnel, bool initiator, string traceparent) { }
    public string IkeMessageTrace(IkeSa sa, string tunnel, IkeSend send) => "";
    public void IkeOutput(IkeSa sa, string tunnel, IkeOutput output) => IkeOutputs.Add(output);
    public void IkeNegotiationEnded(IkeSa sa, string? failure) { }
    public void IkeSaForgotten(IkeSa sa, string reason) { }
    public void ChildSaInstalled(IkeSa sa, string tunnel, ChildSaInfo info) => Installed.Add(info);
    public void ChildSaRemoved(IkeSa sa, ChildSaInfo info, string reason) { }
}
