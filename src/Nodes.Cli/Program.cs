using System.CommandLine;
using Nodes.Cli;

return await NodesCommand.Root().Parse(args).InvokeAsync();

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
            root.Subcommands.Add(ClusterCommands.Probe());
            return root;
        }
    }
}
