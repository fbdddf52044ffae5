using System.CommandLine;
using System.Diagnostics;
using Nodes.Host;
using Nodes.Ike.Proposals;
using Nodes.Topology;

namespace Nodes.Cli;

/// <summary><c>nodes hub-scale N</c>: a generated hub with N branch sites, up and measured, in one process or across members.</summary>
internal static class ScaleCommand
{
    public static Command HubScale()
    {
        var branches = new Argument<int>("branches") { Description = $"How many branch sites (1 to {HubTopology.MaxBranches})" };
        var proposal = new Option<string?>("--proposal") { Description = "The IKE proposal every RRAS and Azure connection uses, in strongSwan syntax (e.g. aes128-sha256-x25519); default: each device's own" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the shared keys and every random choice (default 1)", DefaultValueFactory = _ => 1 };
        var members = new Option<int>("--members") { Description = $"Run the lab as this many nodes host processes on this machine: the hub in one, the branches in equal shares in the others (2 to {HubTopology.MaxMembers}; default 1: this process)", DefaultValueFactory = _ => 1 };
        var rate = new Option<int>("--dial-rate") { Description = "Branches that dial their tunnel per second, as a network's branches come up over time (default 0: every branch at once)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object (progress goes to standard error)" };
        var command = new Command("hub-scale", "Build a hub with N NATed RRAS branches, bring every tunnel up, ping through each, and report build and up times, IKE retransmissions and memory per tunnel")
        {
            branches, proposal, seed, members, rate, json,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var err = parse.InvocationConfiguration.Error;
            var output = parse.InvocationConfiguration.Output;
            var n = parse.GetValue(branches);
            if (n is < 1 or > HubTopology.MaxBranches)
            {
                err.WriteLine($"hub-scale: {n} branches is out of range; give a number from 1 to {HubTopology.MaxBranches}");
                return 2;
            }
            var k = parse.GetValue(members);
            if (k < 1 || k > Math.Min(HubTopology.MaxMembers, n + 1))
            {
                err.WriteLine($"--members {k}: give from 1 to {Math.Min(HubTopology.MaxMembers, n + 1)} (the hub's process and at most one per branch)");
                return 2;
            }
            var dialRate = parse.GetValue(rate);
            if (dialRate < 0)
            {
                err.WriteLine($"--dial-rate {dialRate}: give a number of dials per second, or 0 for every branch at once");
                return 2;
            }
            var text = parse.GetValue(proposal);
            Proposal? ike = null;
            if (text is not null && !ProposalText.TryParse(text, forIke: true, out ike, out var why))
            {
                err.WriteLine($"--proposal {text}: not an IKE proposal ({why}); write it in strongSwan syntax, e.g. aes128-sha256-x25519");
                return 2;
            }
            var asJson = parse.GetValue(json);
            var progress = asJson ? err : output;
            void Progress(string line) => progress.WriteLine("  " + line);
            HubScaleResult result;
            try
            {
                result = k == 1
                    ? await Task.Run(() => HubScaleRun.Run(n, ike, parse.GetValue(seed), Progress, dialRate), cancel)
                    : await HubScaleCluster.RunAsync(n, k, text, parse.GetValue(seed), Self, Progress, cancel, dialRate);
            }
            catch (InvalidOperationException e)
            {
                err.WriteLine($"hub-scale: {e.Message}");
                return 1;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A run that breaks (an actor system that will not start, a member process that cannot be launched) is
                // one sentence, not a stack trace.
                err.WriteLine($"hub-scale: the run stopped: {e.GetBaseException().Message}");
                return 1;
            }
            if (asJson) output.WriteLine(HubScaleReport.Json(result));
            else HubScaleReport.Print(result, output);
            return result.PingsAnswered == n && result.TunnelsUp == n ? 0 : 1;
        });
        return command;
    }

    /// <summary>This same <c>nodes</c> program with other arguments: the apphost, or <c>dotnet nodes.dll</c>.</summary>
    private static ProcessStartInfo Self(IReadOnlyList<string> args)
    {
        var exe = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which program this is, to start the members");
        var start = new ProcessStartInfo(exe);
        if (Path.GetFileNameWithoutExtension(exe).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            start.ArgumentList.Add(typeof(ScaleCommand).Assembly.Location);
        foreach (var a in args) start.ArgumentList.Add(a);
        return start;
    }
}
