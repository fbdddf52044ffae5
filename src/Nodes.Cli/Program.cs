using System.CommandLine;

var root = new RootCommand("Nodes: a site-to-site IPsec VPN lab whose every node is an actor.");
return root.Parse(args).Invoke();
