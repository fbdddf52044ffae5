using Nodes.Topology.Loading;

namespace Nodes.Topology.Tests;

/// <summary>
/// One broken file per rule. Each file is the two-host lab below with one change, and each test pins the
/// diagnostic's line, column and message.
/// </summary>
public class RuleTests
{
    // Line numbers of the base lab, for reading the assertions:
    //  1 name: t                                 8     b:
    //  2 topology:                               9       kind: host
    //  3   nodes:                               10       interfaces:
    //  4     a:                                 11         eth0: { address: 10.1.0.2/24 }
    //  5       kind: host                       12   links:
    //  6       interfaces:                      13     - endpoints: ["a:eth0", "b:eth0"]
    //  7         eth0: { address: 10.1.0.1/24 }
    private static readonly string[] Base =
    [
        "name: t",
        "topology:",
        "  nodes:",
        "    a:",
        "      kind: host",
        "      interfaces:",
        "        eth0: { address: 10.1.0.1/24 }",
        "    b:",
        "      kind: host",
        "      interfaces:",
        "        eth0: { address: 10.1.0.2/24 }",
        "  links:",
        "    - endpoints: [\"a:eth0\", \"b:eth0\"]",
    ];

    private static string[] Replace(int line, string text) { var l = Base.ToArray(); l[line - 1] = text; return l; }

    private static string[] Insert(int afterLine, params string[] text) => [.. Base.Take(afterLine), .. text, .. Base.Skip(afterLine)];

    private static TopologyDiagnostic Only(string[] lines)
    {
        var result = TopologyLoader.LoadFromString(string.Join('\n', lines), "t.yaml");
        Assert.Null(result.Topology);
        return Assert.Single(result.Diagnostics);
    }

    private static void AssertAt(TopologyDiagnostic d, int line, int column, string message, string? hint = null)
    {
        Assert.Equal(("t.yaml", line, column, message), (d.File, d.Line, d.Column, d.Message));
        if (hint is not null) Assert.Equal(hint, d.Hint);
    }

    [Fact]
    public void Base_lab_must_load_clean()
    {
        var result = TopologyLoader.LoadFromString(string.Join('\n', Base), "t.yaml");
        Assert.Empty(result.Diagnostics);
        Assert.Equal(2, result.Topology!.Nodes.Length);
    }

    [Fact]
    public void Unknown_key_must_be_reported_with_did_you_mean()
    {
        var d = Only(Insert(7, "      defualt-gateway: 10.1.0.2"));
        AssertAt(d, 8, 7, "unknown key 'defualt-gateway' in host node 'a'", "did you mean 'default-gateway'?");
    }

    [Fact]
    public void Unknown_key_far_from_any_must_list_allowed_keys()
    {
        var d = Only(Insert(1, "colour: blue"));
        AssertAt(d, 2, 1, "unknown key 'colour' in the topology file", "allowed keys: name, seed, topology, hub, placement, scenarios");
    }

    [Fact]
    public void Missing_kind_must_be_reported_at_the_node()
    {
        var lines = Base.Where((_, i) => i != 4).ToArray();
        var d = Only(lines);
        AssertAt(d, 5, 7, "node 'a' is missing required key 'kind'");
    }

    [Fact]
    public void Wrong_kind_must_suggest_the_nearest()
    {
        var d = Only(Replace(5, "      kind: hots"));
        AssertAt(d, 5, 13, "kind of node 'a' 'hots' is not one of host, router, nat-router, rras, azure-vpn-gateway", "did you mean 'host'?");
    }

    [Fact]
    public void Bad_address_must_be_reported_once_without_cascading_into_links()
    {
        var d = Only(Replace(7, "        eth0: { address: 10.1.0.300/24 }"));
        AssertAt(d, 7, 26, "address of interface 'eth0' of node 'a' '10.1.0.300/24' is not an IPv4 address with prefix length");
    }

    [Fact]
    public void Address_without_prefix_length_must_ask_for_one()
    {
        var d = Only(Replace(7, "        eth0: { address: 10.1.0.1 }"));
        AssertAt(d, 7, 26, "address of interface 'eth0' of node 'a' '10.1.0.1' has no prefix length", "write it with the subnet's length, e.g. 10.1.0.1/24");
    }

    [Fact]
    public void Network_address_on_an_interface_must_be_refused()
    {
        var d = Only(Replace(7, "        eth0: { address: 10.1.0.0/24 }"));
        AssertAt(d, 7, 26, "10.1.0.0/24 is the network address of 10.1.0.0/24");
    }

    [Fact]
    public void Route_prefix_with_host_bits_must_suggest_the_network()
    {
        var d = Only(Insert(7, "      routes: [ { to: 10.2.0.1/24, via: 10.1.0.2 } ]"));
        AssertAt(d, 8, 23, "route destination '10.2.0.1/24' has host bits set", "did you mean '10.2.0.0/24'?");
    }

    [Fact]
    public void Duplicate_node_name_must_point_at_the_second()
    {
        var d = Only(Insert(11, "    a:", "      kind: router", "      interfaces: { x: { address: 10.7.0.1/24, external: { address: 198.51.100.7 } } }"));
        AssertAt(d, 12, 5, "duplicate key 'a' (first defined at line 4)");
    }

    [Fact]
    public void Endpoint_naming_an_unknown_node_must_list_the_nodes()
    {
        var result = TopologyLoader.LoadFromString(string.Join('\n', Replace(13, "    - endpoints: [\"a:eth0\", \"client:eth0\"]")), "t.yaml");
        Assert.Equal(2, result.Diagnostics.Length);
        // b:eth0 really is on no link now.
        AssertAt(result.Diagnostics[0], 11, 9, "interface 'b:eth0' is not attached to any link");
        AssertAt(result.Diagnostics[1], 13, 29, "link endpoint 'client:eth0' names unknown node 'client'", "nodes are: a, b");
    }

    [Fact]
    public void Endpoint_naming_an_unknown_interface_must_suggest_one()
    {
        // The typo is the only diagnostic: b's interfaces are not also reported as unattached.
        var d = Only(Replace(13, "    - endpoints: [\"a:eth0\", \"b:eth1\"]"));
        AssertAt(d, 13, 29, "link endpoint 'b:eth1': node 'b' has no interface 'eth1'", "did you mean 'b:eth0'?");
    }

    [Fact]
    public void Interface_on_two_links_must_be_reported()
    {
        var result = TopologyLoader.LoadFromString(string.Join('\n', [.. Insert(11, "    c:", "      kind: host", "      interfaces: { eth0: { address: 10.1.0.3/24 } }"),
            "    - endpoints: [\"c:eth0\", \"a:eth0\"]"]), "t.yaml");
        Assert.Equal(2, result.Diagnostics.Length);
        // c's link is a second link on 10.1.0.0/24, which is a problem of its own.
        AssertAt(result.Diagnostics[0], 17, 7, "subnet 10.1.0.0/24 of link 'c:eth0--a:eth0' overlaps 10.1.0.0/24 of link 'a:eth0--b:eth0' (line 16)");
        AssertAt(result.Diagnostics[1], 17, 29, "interface 'a:eth0' is already on link 'a:eth0--b:eth0' (line 16)", "an interface plugs into one link; use a segment to join several nodes");
    }

    [Fact]
    public void Interfaces_of_one_link_must_share_a_subnet()
    {
        var d = Only(Replace(11, "        eth0: { address: 10.1.1.2/24 }"));
        AssertAt(d, 13, 29, "'b:eth0' has 10.1.1.2/24, which is not in 10.1.0.0/24 like 'a:eth0' on the same link");
    }

    [Fact]
    public void Overlapping_subnets_of_two_links_must_be_reported()
    {
        var d = Only([.. Insert(11,
            "    c:", "      kind: host", "      interfaces: { eth0: { address: 10.1.0.129/25 } }",
            "    d:", "      kind: host", "      interfaces: { eth0: { address: 10.1.0.130/25 } }"),
            "    - endpoints: [\"c:eth0\", \"d:eth0\"]"]);
        AssertAt(d, 20, 7, "subnet 10.1.0.128/25 of link 'c:eth0--d:eth0' overlaps 10.1.0.0/24 of link 'a:eth0--b:eth0' (line 19)", "give every link its own, non-overlapping subnet");
    }

    [Fact]
    public void Route_whose_next_hop_is_off_every_subnet_must_be_a_route_to_nowhere()
    {
        var d = Only(Insert(7, "      routes:", "        - { to: 10.9.0.0/16, via: 10.5.0.1 }"));
        AssertAt(d, 9, 11, "route to 10.9.0.0/16 via 10.5.0.1 on node 'a' leads nowhere: 10.5.0.1 is on none of the node's subnets (10.1.0.0/24)");
    }

    [Fact]
    public void Route_whose_next_hop_nobody_owns_must_list_the_neighbours()
    {
        var d = Only(Insert(7, "      routes:", "        - { to: 10.9.0.0/16, via: 10.1.0.9 }"));
        AssertAt(d, 9, 11, "route to 10.9.0.0/16 via 10.1.0.9 on node 'a' leads nowhere: no node on link 'a:eth0--b:eth0' has address 10.1.0.9", "addresses on that link: b:eth0 10.1.0.2");
    }

    [Fact]
    public void Default_gateway_outside_the_subnets_must_be_reported_at_its_value()
    {
        var d = Only(Insert(7, "      default-gateway: 10.2.0.1"));
        AssertAt(d, 8, 24, "default gateway 10.2.0.1 of node 'a' leads nowhere: 10.2.0.1 is on none of the node's subnets (10.1.0.0/24)");
    }

    [Fact]
    public void Loss_above_one_hundred_percent_must_be_refused()
    {
        var d = Only([.. Base, "      loss: 150%"]);
        AssertAt(d, 14, 13, "loss 150% on this link is out of range", "a percentage goes from 0% to 100%");
    }

    [Fact]
    public void Jitter_without_delay_must_be_refused()
    {
        var d = Only([.. Base, "      jitter: 5ms"]);
        AssertAt(d, 14, 7, "jitter on this link needs a delay");
    }

    [Fact]
    public void Rate_without_unit_must_be_refused()
    {
        var d = Only([.. Base, "      rate: 100"]);
        AssertAt(d, 14, 13, "rate '100' on this link is not a positive rate");
    }

    [Fact]
    public void Unparsable_proposal_must_carry_the_parsers_reason()
    {
        var d = Only(Replace(9, "      kind: rras\n      vpn: { destination: 52.172.171.0, ipv4-subnets: [\"10.0.0.0/16:100\"], shared-key: k, proposals: [aes256-md5-modp1024] }"));
        Assert.Equal((10, 103), (d.Line, d.Column));
        Assert.StartsWith("IKE proposal 'aes256-md5-modp1024' does not parse: unknown algorithm 'md5'", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Windows_custom_policy_with_md5_must_be_refused_with_alternatives()
    {
        var d = Only(Replace(9, string.Join('\n',
            "      kind: rras",
            "      vpn:",
            "        destination: 52.172.171.0",
            "        ipv4-subnets: [\"10.0.0.0/16:100\"]",
            "        shared-key: k",
            "        custom-policy: { encryption-method: AES256, integrity-check-method: MD5, dh-group: Group14,",
            "          cipher-transform-constants: AES256, authentication-transform-constants: SHA256128, pfs-group: None }")));
        AssertAt(d, 14, 77, "MD5 is not supported by Nodes (HMAC-MD5 is not implemented)", "use one of SHA384, SHA256, SHA1");
    }

    [Fact]
    public void Scenario_naming_an_unknown_node_must_suggest_one()
    {
        var d = Only([.. Base, "scenarios:", "  s:", "    traffic:", "      - ping: { from: bb, to: 10.1.0.2 }"]);
        AssertAt(d, 17, 23, "from in scenario 's' names unknown node 'bb'", "did you mean 'b'?");
    }

    [Fact]
    public void Expectation_that_can_never_hold_must_be_refused()
    {
        var d = Only([.. Base, "scenarios:", "  s:", "    traffic:", "      - ping: { from: a, to: b, count: 2 }", "    expect: { pings-answered: \">= 3\" }"]);
        AssertAt(d, 18, 31, "pings-answered '>= 3' can never hold: the scenario sends 2 ping packets");
    }

    [Fact]
    public void Unknown_fault_must_suggest_the_nearest()
    {
        var d = Only([.. Base, "scenarios:", "  s:", "    faults:", "      - { at: 5s, fault: link-dwn, link: \"a:eth0\" }"]);
        AssertAt(d, 17, 26, "unknown fault 'link-dwn'", "did you mean 'link-down'?");
    }

    [Fact]
    public void Nat_fault_on_a_plain_host_must_be_refused()
    {
        var d = Only([.. Base, "scenarios:", "  s:", "    faults:", "      - { at: 5s, fault: nat-rebind, node: a }"]);
        AssertAt(d, 17, 44, "fault 'nat-rebind' needs a nat-router, and 'a' is a Host");
    }

    [Fact]
    public void Unknown_fault_parameter_must_suggest_the_nearest()
    {
        var d = Only([.. Base, "scenarios:", "  s:", "    faults:", "      - { at: 5s, fault: link-impair, link: \"a:eth0\", params: { los: 30% } }"]);
        AssertAt(d, 17, 65, "fault 'link-impair' has no parameter 'los'", "did you mean 'loss'?");
    }

    [Fact]
    public void Bad_fault_parameter_value_must_be_reported_at_the_value_with_the_way_to_write_it()
    {
        var d = Only([.. Base, "scenarios:", "  s:", "    faults:", "      - { at: 5s, fault: link-down, link: \"a:eth0\", params: { for: soon } }"]);
        AssertAt(d, 17, 68, "link-down for: 'soon' is not a duration", "write e.g. 500ms, 10s, 2m or 1h");
    }

    [Fact]
    public void Gateway_fault_on_a_host_must_be_refused()
    {
        var d = Only([.. Base, "scenarios:", "  s:", "    faults:", "      - { at: 5s, fault: force-rekey, node: a }"]);
        AssertAt(d, 17, 45, "fault 'force-rekey' needs a VPN gateway, and 'a' is a Host", "name a node of kind rras or azure-vpn-gateway");
    }

    [Fact]
    public void Placement_must_refuse_unknown_and_doubly_placed_nodes()
    {
        var result = TopologyLoader.LoadFromString(string.Join('\n', [.. Base, "placement:", "  p1: [a, b]", "  p2: [b, c]"]), "t.yaml");
        Assert.Equal(2, result.Diagnostics.Length);
        AssertAt(result.Diagnostics[0], 16, 8, "node 'b' is placed in process 'p2' and in process 'p1' (line 15)");
        AssertAt(result.Diagnostics[1], 16, 11, "placement of process 'p2' names unknown node 'c'");
    }

    [Fact]
    public void Placement_must_place_every_node()
    {
        var d = Only([.. Base, "placement:", "  p1: [a]"]);
        AssertAt(d, 15, 3, "node 'b' is not placed in any process");
    }

    [Fact]
    public void Yaml_syntax_error_must_become_one_positioned_diagnostic()
    {
        var d = Only(Replace(5, "      kind: host: extra"));
        // The second ':' on the line, where the scanner gives up.
        Assert.Equal(("t.yaml", 5, 17), (d.File, d.Line, d.Column));
        Assert.StartsWith("YAML syntax error: ", d.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("(Line:", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unclosed_flow_mapping_must_be_a_diagnostic_not_an_exception()
    {
        var d = Only(Replace(7, "        eth0: { address: 10.1.0.1/24"));
        // The place is the end of the last complete YAML event: the key 'address' on the broken line.
        AssertAt(d, 7, 24, "YAML syntax error: unterminated or malformed flow collection after this point");
    }

    [Fact]
    public void Empty_file_must_be_a_diagnostic()
    {
        var d = Only([""]);
        AssertAt(d, 1, 1, "the file is empty");
    }

    [Fact]
    public void Every_problem_must_be_reported_at_once_in_file_order()
    {
        string[] lines =
        [
            "name: t",
            "topology:",
            "  nodes:",
            "    a:",
            "      kind: host",
            "      mtu: 1500",
            "      interfaces:",
            "        eth0: { address: 10.1.0.1/24, mtu: 20 }",
            "    b:",
            "      kind: hots",
            "      interfaces:",
            "        eth0: { address: 10.1.0.2/24 }",
            "  links:",
            "    - endpoints: [\"a:eth0\", \"b:eth0\"]",
            "      loss: 101%",
        ];
        var result = TopologyLoader.LoadFromString(string.Join('\n', lines), "t.yaml");
        Assert.Equal(
        [
            "t.yaml:6:7: error: unknown key 'mtu' in host node 'a' (hint: allowed keys: kind, interfaces, routes, default-gateway, os)",
            "t.yaml:8:44: error: mtu of interface 'eth0' of node 'a' 20 is out of range (hint: use a value from 68 to 9216)",
            "t.yaml:10:13: error: kind of node 'b' 'hots' is not one of host, router, nat-router, rras, azure-vpn-gateway (hint: did you mean 'host'?)",
            "t.yaml:15:13: error: loss 101% on this link is out of range (hint: a percentage goes from 0% to 100%)",
        ], result.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void Shared_key_mismatch_between_gateways_must_not_be_a_validation_error()
    {
        var text = File.ReadAllText(Path.Combine(Labs.Folder, "azure-s2s-rras.yaml"))
            .Replace("shared-key: \"Nodes4LabSharedKey\"\n          connection-protocol", "shared-key: \"SomethingElse\"\n          connection-protocol", StringComparison.Ordinal);
        Assert.Contains("SomethingElse", text, StringComparison.Ordinal);
        var result = TopologyLoader.LoadFromString(text, "mismatch.yaml");
        Assert.Empty(result.Diagnostics);
    }
}
