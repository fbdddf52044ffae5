using System.CommandLine;
using Nodes.Cli;

var root = new RootCommand("Nodes: a site-to-site IPsec VPN lab in which every device is an actor and every packet is real.");
root.Subcommands.Add(Commands.Run());
root.Subcommands.Add(Commands.Validate());
root.Subcommands.Add(Commands.Trace());
root.Subcommands.Add(ClusterCommands.Host());
return await root.Parse(args).InvokeAsync();
