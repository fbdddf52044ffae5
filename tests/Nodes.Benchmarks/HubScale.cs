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
        if (json) Console.WriteLine(HubScaleReport.Json(r));
        else HubScaleReport.Print(r, Console.Out);
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
