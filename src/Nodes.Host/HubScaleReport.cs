using System.Text.Json;

namespace Nodes.Host;

/// <summary>A hub scale run's figures as the command prints them: a JSON object, or lines for a terminal.</summary>
public static class HubScaleReport
{
    public static string Json(HubScaleResult r) => JsonSerializer.Serialize(new
    {
        branches = r.Branches,
        members = r.Members.Count == 0 ? 1 : r.Members.Count,
        proposal = r.Proposal,
        seed = r.Seed,
        dialRate = r.DialRate,
        nodes = r.Nodes,
        links = r.Links,
        buildSeconds = Math.Round(r.Built.TotalSeconds, 3),
        membersReadySeconds = r.MembersReady is { } m ? Math.Round(m.TotalSeconds, 3) : (double?)null,
        tunnelsUpSeconds = Math.Round(r.TunnelsUpAt.TotalSeconds, 3),
        upSeconds = Math.Round(r.UpAt.TotalSeconds, 3),
        tunnelsUp = r.TunnelsUp,
        firstPingsAnswered = r.FirstPingsAnswered,
        pingsAnswered = r.PingsAnswered,
        ikeRetransmissions = r.IkeRetransmissions,
        ikeSaInitRetransmissions = r.InitRetransmissions,
        otherRetransmissions = r.IkeRetransmissions - r.InitRetransmissions,
        hubKeyExchanges = r.HubKeyExchanges,
        hubIkeDrops = r.HubIkeDrops,
        setupsPerSecond = Math.Round(r.SetupsPerSecond, 1),
        managedBytesPerTunnel = Math.Round(r.ManagedBytes / (double)r.Branches),
        managedBytesPerBranchBeforeTraffic = r.ManagedBytesBeforeTraffic >= 0 ? Math.Round(r.ManagedBytesBeforeTraffic / (double)r.Branches) : (double?)null,
        residentBytesPerTunnel = Math.Round(r.ResidentBytes / (double)r.Branches),
        peakResidentBytes = r.PeakResidentBytes,
        memberFigures = r.Members.Count == 0 ? null : r.Members.Select(m => new
        {
            process = m.Process,
            buildSeconds = Math.Round(m.BuildMs / 1000, 3),
            managedBytes = m.ManagedBytes,
            residentBytes = m.ResidentBytes,
            peakResidentBytes = m.PeakResidentBytes,
        }).ToList(),
    });

    public static void Print(HubScaleResult r, TextWriter o)
    {
        var across = r.Members.Count == 0 ? "in one process" : $"across {r.Members.Count} members";
        o.WriteLine($"hub-scale: {r.Branches} branch sites, {r.Nodes} nodes, {r.Links} links, {across}, IKE {r.Proposal}, seed {r.Seed}, {(r.DialRate == 0 ? "every branch dialing at once" : $"{r.DialRate} branches dialing a second")}");
        if (r.MembersReady is { } ready) o.WriteLine($"  members started, loaded the topology, built their nodes and found their peers in {ready.TotalSeconds:0.00} s");
        o.WriteLine($"  lab built in {r.Built.TotalSeconds:0.00} s{(r.Members.Count == 0 ? "" : " (the slowest member)")}");
        o.WriteLine($"  {r.TunnelsUp} of {r.Branches} tunnels up after {r.TunnelsUpAt.TotalSeconds:0.00} s ({r.SetupsPerSecond:0} setups/s); {r.FirstPingsAnswered} first pings answered (the others timed out while their tunnel dialed)");
        o.WriteLine($"  {r.PingsAnswered} of {r.Branches} pings answered through their tunnel after {r.UpAt.TotalSeconds:0.00} s");
        o.WriteLine($"  IKE retransmissions on the way: {r.IkeRetransmissions} ({r.InitRetransmissions} of IKE_SA_INIT requests, {r.IkeRetransmissions - r.InitRetransmissions} of later exchanges)");
        o.WriteLine($"  key exchanges the hub answered: {r.HubKeyExchanges} for {r.TunnelsUp} tunnels");
        o.WriteLine($"  the hub's IKE drops: {(r.HubIkeDrops.Count == 0 ? "none" : string.Join(", ", r.HubIkeDrops.Select(d => $"{d.Key} {d.Value}")))}");
        var before = r.ManagedBytesBeforeTraffic >= 0 ? $"; {r.ManagedBytesBeforeTraffic / (double)r.Branches / 1024:0.0} KiB per branch before any traffic" : "";
        o.WriteLine($"  managed memory held by the lab: {r.ManagedBytes / 1048576.0:0.0} MiB, {r.ManagedBytes / (double)r.Branches / 1024:0.0} KiB per tunnel (both gateways' SAs, the branch's three nodes and links){before}");
        o.WriteLine($"  resident memory: {r.ResidentBytes / (double)r.Branches / 1024:0.0} KiB per tunnel, peak {r.PeakResidentBytes / 1048576.0:0} MiB{(r.Members.Count == 0 ? "" : " (all members)")}");
        foreach (var m in r.Members)
            o.WriteLine($"    member {m.Process}: built in {m.BuildMs / 1000:0.00} s, {m.ManagedBytes / 1048576.0:0.0} MiB managed, {m.ResidentBytes / 1048576.0:0} MiB resident (peak {m.PeakResidentBytes / 1048576.0:0} MiB)");
    }
}
