using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Nodes.Actors.Lab;
using Nodes.Host;
using Nodes.Ike.Proposals;
using Nodes.Messages;
using Nodes.Topology;
using Nodes.Topology.Model;

namespace Nodes.Benchmarks;

/// <summary>
/// The scale run (<see cref="HubScaleRun"/>) from the command line: a generated hub with N branch sites in one process,
/// reported as text or JSON: build and up times, IKE retransmissions, the managed memory the lab holds per tunnel and
/// the process's resident memory per tunnel.
/// <c>dotnet run -c Release --project tests/Nodes.Benchmarks -- hub-scale 10000 [--proposal aes128-sha256-x25519] [--seed 1] [--json]</c>
/// </summary>
internal static class HubScale
{
    private static readonly string Usage = $"usage: hub-scale N [--proposal IKE-PROPOSAL] [--seed S] [--json]   (N from 1 to {HubTopology.MaxBranches}; the proposal in strongSwan syntax, e.g. aes128-sha256-x25519)";

    public static int Run(string[] args)
    {
        if (!TryParse(args, out var branches, out var proposal, out var seed, out var json, out var error))
        {
            Console.Error.WriteLine($"hub-scale: {error}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
        var r = HubScaleRun.Run(branches, proposal, seed, line => Log(json, "  " + line));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                branches = r.Branches,
                proposal = r.Proposal,
                seed = r.Seed,
                nodes = r.Nodes,
                links = r.Links,
                buildSeconds = Math.Round(r.Built.TotalSeconds, 3),
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
                managedBytesPerTunnel = Math.Round(r.ManagedBytes / (double)branches),
                managedBytesPerBranchBeforeTraffic = Math.Round(r.ManagedBytesBeforeTraffic / (double)branches),
                residentBytesPerTunnel = Math.Round(r.ResidentBytes / (double)branches),
                peakResidentBytes = r.PeakResidentBytes,
            }));
        }
        else
        {
            Console.WriteLine($"hub-scale: {branches} branch sites, {r.Nodes} nodes, {r.Links} links, IKE {r.Proposal}, seed {r.Seed}");
            Console.WriteLine($"  lab built in {r.Built.TotalSeconds:0.00} s");
            Console.WriteLine($"  {r.TunnelsUp} of {branches} tunnels up after {r.TunnelsUpAt.TotalSeconds:0.00} s ({r.SetupsPerSecond:0} setups/s); {r.FirstPingsAnswered} first pings answered (the others timed out while their tunnel dialed)");
            Console.WriteLine($"  {r.PingsAnswered} of {branches} pings answered through their tunnel after {r.UpAt.TotalSeconds:0.00} s");
            Console.WriteLine($"  IKE retransmissions on the way: {r.IkeRetransmissions} ({r.InitRetransmissions} of IKE_SA_INIT requests, {r.IkeRetransmissions - r.InitRetransmissions} of later exchanges)");
            Console.WriteLine($"  key exchanges the hub answered: {r.HubKeyExchanges} for {r.TunnelsUp} tunnels");
            Console.WriteLine($"  the hub's IKE drops: {(r.HubIkeDrops.Count == 0 ? "none" : string.Join(", ", r.HubIkeDrops.Select(d => $"{d.Key} {d.Value}")))}");
            Console.WriteLine($"  managed memory held by the lab: {r.ManagedBytes / 1048576.0:0.0} MiB, {r.ManagedBytes / (double)branches / 1024:0.0} KiB per tunnel (both gateways' SAs, the branch's three nodes and links); {r.ManagedBytesBeforeTraffic / (double)branches / 1024:0.0} KiB per branch before any traffic");
            Console.WriteLine($"  resident memory: {r.ResidentBytes / (double)branches / 1024:0.0} KiB per tunnel, peak {r.PeakResidentBytes / 1048576.0:0} MiB");
        }
        return r.PingsAnswered == branches ? 0 : 1;
    }

    private static void Log(bool json, string line)
    {
        if (json) Console.Error.WriteLine(line);
        else Console.WriteLine(line);
    }

    private static bool TryParse(string[] args, out int branches, out Proposal? proposal, out ulong seed, out bool json, out string error)
    {
        branches = 1000;
        proposal = null;
        seed = 1;
        json = false;
        error = "";
        for (var i = 1; i < args.Length; i++)
        {
            var a = args[i];
            string? Value() => i + 1 < args.Length ? args[++i] : null;
            switch (a)
            {
                case "--json":
                    json = true;
                    break;
                case "--proposal":
                    if (Value() is not { } text || !ProposalText.TryParse(text, forIke: true, out proposal, out var why))
                    {
                        error = $"--proposal needs an IKE proposal in strongSwan syntax ({(i < args.Length ? args[i] : "none given")})";
                        return false;
                    }
                    break;
                case "--seed":
                    if (!ulong.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out seed))
                    {
                        error = "--seed needs a whole number";
                        return false;
                    }
                    break;
                default:
                    if (i == 1 && int.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out branches) && branches is >= 1 and <= HubTopology.MaxBranches) break;
                    error = i == 1 ? $"'{a}' is not a number of branches from 1 to {HubTopology.MaxBranches}" : $"unknown option '{a}'";
                    return false;
            }
        }
        return true;
    }
}
