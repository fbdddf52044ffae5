using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Config.Tests;

public class ImportTests
{
    [Fact]
    public void Azures_rras_script_must_import_as_the_seed_lab_with_every_value_traced()
    {
        var (result, t) = Fixture.ImportValid("rras-azure-script.ps1");
        var v = t.Rras();
        Assert.Equal("52.172.171.0", v.InterfaceName);
        Assert.Equal(Ipv4Address.Parse("52.172.171.0"), v.Destination);
        Assert.Equal("10.0.0.0/16", v.Ipv4Subnets.Single().Prefix.ToString());
        Assert.Equal(100, v.Ipv4Subnets.Single().Metric);
        Assert.Equal("Nodes4LabSharedKey", v.SharedKey);
        Assert.Equal(3, v.NumberOfTries);
        Assert.Equal(0, v.IdleDisconnectSeconds);
        // The Azure side takes RRAS's key and the gateway's address from -Destination.
        Assert.Equal("Nodes4LabSharedKey", t.Connection().SharedKey);
        Assert.Equal(Ipv4Address.Parse("52.172.171.0"), t.Gateway().PublicAddress);
        var yaml = result.Lab!.Yaml;
        Assert.Contains("destination: 52.172.171.0   # rras-azure-script.ps1:42:", yaml);
        Assert.Contains("idle-disconnect-seconds: 0   # rras-azure-script.ps1:49:", yaml);
        // What the script does that the lab does not need is named with its line, not dropped.
        Assert.Contains(result.Notes, n => n.At.Line == 31 && n.What == "Install-WindowsFeature");
        Assert.Contains(result.Notes, n => n.At.Line == 46 && n.What.Contains("InitiateConfigPayload"));
        Assert.Contains(result.Notes, n => n.At.Line == 50 && n.What.Contains("RedialOnLinkFailure"));
        Assert.Contains(result.Notes, n => n.At.Line == 7 && n.What.StartsWith("function Invoke-WindowsApi"));
        Assert.Contains(result.Notes, n => n.At.Line == 36 && n.What.StartsWith("'if"));
    }

    [Fact]
    public void Format_list_output_must_import_and_take_the_key_from_the_azure_connection()
    {
        var (result, t) = Fixture.ImportValid("get-vpns2sinterface.txt", "vpn-connection-show.json", "lng-show.json");
        var v = t.Rras();
        Assert.Equal("52.172.171.0", v.InterfaceName);
        Assert.Equal("10.0.0.0/16", v.Ipv4Subnets.Single().Prefix.ToString());
        Assert.Equal("Nodes4LabSharedKey", v.SharedKey);
        Assert.Contains(result.Notes, n => n.What.StartsWith("ConnectionState") && n.At.Line == 4);
        Assert.Contains(result.Notes, n => n.What.StartsWith("RRAS's shared secret"));
        Assert.Equal("VNet1toSite2", t.Connection().Name);
    }

    [Fact]
    public void Azure_powershell_must_import_the_connection_its_policy_and_the_local_network_gateway()
    {
        var (result, t) = Fixture.ImportValid("azure-connection.ps1");
        var c = t.Connection();
        Assert.Equal("VNet1toSite6", c.Name);
        Assert.Equal("AzureA1b2C3", c.SharedKey);
        Assert.Equal(PolicySource.CustomPolicy, c.PolicySource);
        Assert.Equal("AES256/SHA256/MODP2048", c.IkeProposals.Single().ToString());
        Assert.Equal(TimeSpan.FromSeconds(14400), c.ChildLifetime);
        Assert.Equal("Site6", c.LocalNetworkGateway.Name);
        Assert.Equal(Ipv4Address.Parse("203.0.113.10"), c.LocalNetworkGateway.GatewayAddress);
        // The value of a variable is traced to where the variable is set.
        Assert.Contains("gateway-address: 203.0.113.10   # azure-connection.ps1:11:", result.Lab!.Yaml);
        // RRAS gets the same policy in Windows' names.
        var v = t.Rras();
        Assert.Equal(PolicySource.CustomPolicy, v.PolicySource);
        Assert.Equal(c.IkeProposals.Single().ToString(), v.IkeProposals.Single().ToString());
        Assert.Contains(result.Notes, n => n.What.Contains("-Location"));
    }

    [Fact]
    public void Az_show_json_must_import_with_status_named_as_not_configuration()
    {
        var (result, t) = Fixture.ImportValid("vpn-connection-show.json");
        Assert.Equal("VNet1toSite2", t.Connection().Name);
        Assert.Equal(45, t.Connection().DpdTimeoutSeconds);
        Assert.Contains(result.Notes, n => n.What == "connectionStatus" && n.Why.Contains("state"));
        Assert.Contains(result.Notes, n => n.What == "ingressBytesTransferred");
        Assert.Contains("shared-key: \"Nodes4LabSharedKey\"   # vpn-connection-show.json:23:", result.Lab!.Yaml);
    }

    [Fact]
    public void Arm_template_must_import_with_parameters_resolved_to_their_defaults()
    {
        var (result, t) = Fixture.ImportValid("arm-template.json");
        var c = t.Connection();
        Assert.Equal("Azure2Local", c.Name);
        Assert.Equal("Nodes4LabArmKey", c.SharedKey);
        Assert.Equal("192.168.29.0/24", c.LocalNetworkGateway.AddressSpaces.Single().ToString());
        Assert.Equal("10.3.0.0/16", t.Gateway().VnetAddressSpaces.Single().ToString());
        Assert.Equal("10.3.200.0/29", t.Gateway().GatewaySubnet.ToString());
        // A parameter's value is traced to its defaultValue.
        Assert.Contains("shared-key: \"Nodes4LabArmKey\"   # arm-template.json:18:", result.Lab!.Yaml);
        Assert.Contains(result.Notes, n => n.What == "routingWeight");
    }

    [Fact]
    public void Terraform_must_import_connection_policy_and_gateway_subnet()
    {
        var (result, t) = Fixture.ImportValid("main.tf");
        var c = t.Connection();
        Assert.Equal("onpremise", c.Name);
        Assert.Equal("Nodes4LabTfKey", c.SharedKey);
        Assert.Equal("AES256/SHA256/MODP2048", c.IkeProposals.Single().ToString());
        Assert.Equal("10.0.1.0/24", t.Gateway().GatewaySubnet.ToString());
        Assert.Contains("shared-key: \"Nodes4LabTfKey\"   # main.tf:6:", result.Lab!.Yaml);
        Assert.Contains(result.Notes, n => n.What == "sku");
        Assert.Contains(result.Notes, n => n.What.StartsWith("azurerm_public_ip"));
    }

    [Fact]
    public void A_file_of_no_known_format_must_be_refused_with_its_name()
    {
        var result = Importer.Import([("notes.txt", "hello\nworld\n")], "x", "lab.yaml");
        Assert.Null(result.Lab);
        var d = Assert.Single(result.Fatal);
        Assert.Equal("notes.txt", d.At.File);
        Assert.Contains("cannot tell the format", d.Message);
    }

    [Fact]
    public void Malformed_json_must_be_refused_at_its_line_and_column()
    {
        var result = Importer.Import([("c.json", "{\n  \"type\": \"Microsoft.Network/connections\",\n  \"sharedKey\" \"x\"\n}\n")], "x", "lab.yaml");
        var d = Assert.Single(result.Fatal);
        Assert.Equal((3, 15), (d.At.Line, d.At.Column));
    }
}
