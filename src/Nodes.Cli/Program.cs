using System.CommandLine;
using Nodes.Cli;

return await NodesCommand.InvokeAsync(args);

namespace Nodes.Cli
{
    /// <summary>The <c>nodes</c> command and its subcommands.</summary>
    internal static class NodesCommand
    {
        public static RootCommand Root()
        {
            var root = new RootCommand("Nodes: a site-to-site IPsec VPN lab in which every device is an actor and every packet is real.");
            root.Subcommands.Add(Commands.Run());
            root.Subcommands.Add(Commands.Validate());
            root.Subcommands.Add(Commands.Trace());
            root.Subcommands.Add(ClusterCommands.Host());
            root.Subcommands.Add(FaultCommands.Fault());
            root.Subcommands.Add(StatusCommands.Status());
            root.Subcommands.Add(ConfigCommands.Import());
            root.Subcommands.Add(ConfigCommands.Export());
            root.Subcommands.Add(ExtcapCommand.Create());
            root.Subcommands.Add(ClusterCommands.Probe());
            root.Subcommands.Add(ScaleCommand.HubScale());
            return root;
        }

        /// <summary>Runs <c>nodes</c> with <paramref name="args"/>: a flag or argument the parser refuses is bad input too, exit code 2.</summary>
        public static async Task<int> InvokeAsync(string[] args, InvocationConfiguration? configuration = null)
        {
            var parse = Root().Parse(args);
            var code = await parse.InvokeAsync(configuration);
            return parse.Errors.Count > 0 ? 2 : code;
        }
    }
}
