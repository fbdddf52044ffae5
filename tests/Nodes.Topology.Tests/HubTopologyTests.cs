using System.Collections.Immutable;
using Nodes.Topology.Model;
using Nodes.Topology.Validation;

namespace Nodes.Topology.Tests;

public class HubTopologyTests
{
    [Fact]
    public void Hub_with_three_branches_must_validate_clean()
    {
        var hub = HubTopology.Generate(3);
        Assert.Empty(TopologyValidator.Validate(hub));
        Assert.Equal(3 * 3 + 4, hub.Nodes.Length);
        Assert.Equal(3, hub.Nodes.OfType<AzureVpnGatewaySpec>().Single().Connections.Length);
    }

    [Fact]
    public void Hub_with_a_thousand_branches_must_validate_clean()
    {
        // How fast is the benchmark's question (TopologyValidationBenchmarks, against one pass over the names).
        var hub = HubTopology.Generate(1000);
        Assert.Empty(TopologyValidator.Validate(hub));
        Assert.Equal(1000, hub.Nodes.OfType<RrasSpec>().Count());
    }

    [Fact]
    public void Hub_branch_addresses_must_be_unique_and_clear_of_the_vnet()
    {
        var hub = HubTopology.Generate(1000);
        var addresses = hub.Nodes.SelectMany(n => n.Interfaces).Select(i => i.Address).ToList();
        Assert.Equal(addresses.Count, addresses.Distinct().Count());
        var vnet = Wire.Ip.Ipv4Prefix.Parse("10.0.0.0/16");
        Assert.All(hub.Nodes.OfType<RrasSpec>(), r => Assert.False(vnet.Contains(r.Interfaces[0].Address)));
        Assert.Equal("10.64.249.244", hub.FindNode("branch1000-rras")!.Interfaces[0].Address.ToString());
    }

    [Fact]
    public void Branches_past_the_benchmarking_range_must_take_shared_address_space_with_every_address_still_unique()
    {
        var hub = HubTopology.Generate(65_537);
        var last = (NatRouterSpec)hub.FindNode("branch65537-nat")!;
        Assert.Equal("100.64.0.1", last.Interfaces.Single(i => i.Name == "wan").Address.ToString());
        Assert.Equal("198.19.255.255", ((NatRouterSpec)hub.FindNode("branch65536-nat")!).Interfaces.Single(i => i.Name == "wan").Address.ToString());
        var addresses = hub.Nodes.SelectMany(n => n.Interfaces).Select(i => i.Address).ToList();
        Assert.Equal(addresses.Count, addresses.Distinct().Count());
        Assert.Equal("10.65.0.0/26", ((AzureVpnGatewaySpec)hub.FindNode("azure-gw")!).Connections[1024].LocalNetworkGateway.AddressSpaces.Single().ToString());
    }

    [Fact]
    public void Hub_shared_keys_must_match_per_branch_and_depend_on_the_seed()
    {
        var a = HubTopology.Generate(2, seed: 1);
        var b = HubTopology.Generate(2, seed: 2);
        string Key(TopologySpec t, int i) => ((RrasSpec)t.FindNode($"branch{i}-rras")!).Vpn!.SharedKey;
        var gw = a.Nodes.OfType<AzureVpnGatewaySpec>().Single();
        Assert.Equal(Key(a, 1), gw.Connections[0].SharedKey);
        Assert.NotEqual(Key(a, 1), Key(a, 2));
        Assert.NotEqual(Key(a, 1), Key(b, 1));
    }

    [Fact]
    public void Validator_must_catch_a_broken_generated_topology()
    {
        var hub = HubTopology.Generate(2);
        var client = (HostSpec)hub.FindNode("branch1-client")!;
        var broken = hub with { Nodes = hub.Nodes.Replace(client, client with { DefaultGateway = Wire.Ip.Ipv4Address.Parse("10.64.0.9") }) };
        var d = Assert.Single(TopologyValidator.Validate(broken));
        Assert.Contains("no node on link 'branch1-lan' has address 10.64.0.9", d.Message, StringComparison.Ordinal);
    }
}

public class InterfaceLookupTests
{
    [Fact]
    public void A_node_with_many_interfaces_must_find_each_by_name_and_a_copy_with_others_must_find_its_own()
    {
        var hub = HubTopology.Generate(40);
        var internet = hub.Nodes.Single(n => n.Interfaces.Length > 40);
        foreach (var i in internet.Interfaces) Assert.Same(i, internet.FindInterface(i.Name));
        Assert.Null(internet.FindInterface("no-such-interface"));
        // `with` copies the record: the index must follow the interfaces, not the copy's origin.
        var renamed = internet.Interfaces.Select(i => i with { Name = "x-" + i.Name }).ToImmutableArray();
        var copy = internet with { Interfaces = renamed };
        Assert.Null(copy.FindInterface(internet.Interfaces[0].Name));
        Assert.Same(renamed[7], copy.FindInterface(renamed[7].Name));
        Assert.Same(internet.Interfaces[7], internet.FindInterface(internet.Interfaces[7].Name));
    }

    [Fact]
    public void Validating_a_hub_of_ten_thousand_branches_must_be_clean()
    {
        Assert.Empty(TopologyValidator.Validate(HubTopology.Generate(10_000)));
    }
}

/// <summary>The topology file's <c>hub:</c> block: the generator behind a file, and its mistakes.</summary>
public class HubFileTests
{
    [Fact]
    public void A_hub_file_must_generate_the_same_hub_with_its_placement_in_equal_shares()
    {
        var loaded = Loading.TopologyLoader.LoadFromString("name: my-hub\nseed: 7\nhub:\n  branches: 10\n  proposal: aes128-sha256-x25519\n  members: 4\n", "hub.yaml");
        Assert.True(loaded.Succeeded, string.Join("; ", loaded.Diagnostics));
        var hub = loaded.Topology!;
        var generated = HubTopology.Generate(10, 7, Ike.Proposals.ProposalText.Parse("aes128-sha256-x25519", forIke: true));
        Assert.Equal("my-hub", hub.Name);
        Assert.Equal(generated.Nodes.Select(n => n.Name), hub.Nodes.Select(n => n.Name));
        Assert.Equal(((RrasSpec)generated.FindNode("branch10-rras")!).Vpn!.SharedKey, ((RrasSpec)hub.FindNode("branch10-rras")!).Vpn!.SharedKey);
        Assert.Equal(["hub", "branches-1", "branches-2", "branches-3"], hub.Placement!.Processes.Select(p => p.Name).ToArray());
        Assert.Equal(["internet", "azure-gw", "vnet-router", "vm"], hub.Placement.Processes[0].Nodes.ToArray());
        Assert.Equal([3, 3, 4], hub.Placement.Processes.Skip(1).Select(p => p.Nodes.Length / 3).ToArray());
        Assert.Equal("branches-3", hub.Placement.ProcessOf("branch10-nat"));
        Assert.Equal("branches-1", hub.Placement.ProcessOf("branch1-client"));
        Assert.All(hub.Nodes, n => Assert.NotNull(hub.Placement.ProcessOf(n.Name)));
        // Located at the hub block, so a problem found later names the lines of the file that asked for the hub.
        Assert.Equal(("hub.yaml", 4), (hub.FindNode("branch1-rras")!.Location.File, hub.FindNode("branch1-rras")!.Location.Line));
    }

    [Theory]
    [InlineData(10, 4)]
    [InlineData(7, 3)]
    [InlineData(100, 8)]
    [InlineData(5, 6)]
    public void A_branchs_process_must_be_the_one_its_placement_puts_it_in(int branches, int members)
    {
        var hub = HubTopology.Generate(branches, 1, null, members);
        for (var i = 1; i <= branches; i++)
            Assert.Equal(hub.Placement!.ProcessOf($"branch{i}-rras"), HubTopology.ProcessOfBranch(i, branches, members));
        Assert.Throws<ArgumentOutOfRangeException>(() => HubTopology.ProcessOfBranch(branches + 1, branches, members));
    }

    [Theory]
    [InlineData("name: h\nhub:\n  branches: 0\n", 3, "hub branches 0 is out of range")]
    [InlineData("name: h\nhub:\n  branches: 5\n  members: 7\n", 4, "hub members 7 is more than the hub's process and one per branch (6)")]
    [InlineData("name: h\nhub:\n  branches: 5\n  proposal: aes128-md7-x25519\n", 4, "hub proposal 'aes128-md7-x25519' is not an IKE proposal")]
    [InlineData("name: h\nhub:\n  branches: 5\ntopology:\n  nodes: {}\n", 5, "'topology' cannot stand beside 'hub'")]
    [InlineData("name: h\nhub:\n  branchs: 5\n", 3, "'branchs'")]
    public void A_bad_hub_block_must_be_one_clear_diagnostic_at_its_line(string text, int line, string message)
    {
        var loaded = Loading.TopologyLoader.LoadFromString(text, "hub.yaml");
        Assert.False(loaded.Succeeded);
        var d = Assert.Single(loaded.Diagnostics.Where(d => d.Message.Contains(message, StringComparison.Ordinal)));
        Assert.Equal(line, d.Line);
        Assert.False(string.IsNullOrEmpty(d.Hint));
    }
}
