using Nodes.Ike.Proposals;
using Nodes.Topology.Loading;
using Nodes.Topology.Model;

namespace Nodes.Topology.Tests;

public class PolicyNameTests
{
    [Theory]
    [InlineData("AES256", "SHA256", "DHGroup14", "aes256-sha256-modp2048")]
    [InlineData("AES256", "SHA256", "DHGroup2048", "aes256-sha256-modp2048")]
    [InlineData("AES128", "SHA1", "DHGroup2", "aes128-sha1-modp1024")]
    [InlineData("AES192", "SHA384", "DHGroup24", "aes192-sha384-modp2048s256")]
    [InlineData("GCMAES256", "SHA384", "ECP384", "aes256gcm16-sha384-ecp384")]
    [InlineData("GCMAES128", "SHA256", "ECP256", "aes128gcm16-sha256-ecp256")]
    [InlineData("DES3", "SHA1", "DHGroup2", "3des-sha1-modp1024")]
    public void Azure_ike_names_must_map_to_proposals(string enc, string integ, string dh, string expected)
    {
        var errors = new List<PolicyNameError>();
        var text = PolicyNames.IkeProposal(PolicyVendor.Azure, enc, integ, dh, errors);
        Assert.Empty(errors);
        Assert.Equal(expected, text);
        Assert.True(ProposalText.TryParse(text!, forIke: true, out _, out var reason), reason);
    }

    [Theory]
    [InlineData("GCMAES256", "GCMAES256", "None", "aes256gcm16")]
    [InlineData("GCMAES128", "GCMAES128", "PFS2048", "aes128gcm16-modp2048")]
    [InlineData("AES256", "SHA1", "PFS2", "aes256-sha1-modp1024")]
    [InlineData("AES256", "SHA256", "PFS24", "aes256-sha256-modp2048s256")]
    [InlineData("AES128", "SHA1", "ECP256", "aes128-sha1-ecp256")]
    [InlineData("AES256", "SHA256", "ECP384", "aes256-sha256-ecp384")]
    [InlineData("DES3", "SHA1", "None", "3des-sha1")]
    [InlineData("None", "SHA256", "None", "null-sha256")]
    [InlineData("AES256", "SHA256", "PFSMM", "aes256-sha256-modp2048")]
    public void Azure_ipsec_names_must_map_to_proposals(string enc, string integ, string pfs, string expected)
    {
        var errors = new List<PolicyNameError>();
        var text = PolicyNames.EspProposal(PolicyVendor.Azure, enc, integ, pfs, "DHGroup14", errors);
        Assert.Empty(errors);
        Assert.Equal(expected, text);
        Assert.True(ProposalText.TryParse(text!, forIke: false, out _, out var reason), reason);
    }

    [Theory]
    [InlineData("AES256", "SHA256", "Group14", "GCMAES256", "GCMAES256", "None", "aes256-sha256-modp2048", "aes256gcm16")]
    [InlineData("DES3", "SHA1", "Group2", "AES256", "SHA196", "PFS2", "3des-sha1-modp1024", "aes256-sha1-modp1024")]
    [InlineData("AES128", "SHA384", "Group24", "AES128", "SHA256128", "PFSMM", "aes128-sha384-modp2048s256", "aes128-sha256-modp2048s256")]
    public void Windows_names_must_map_to_proposals(string enc, string integ, string dh, string cipher, string auth, string pfs, string ike, string esp)
    {
        var errors = new List<PolicyNameError>();
        Assert.Equal(ike, PolicyNames.IkeProposal(PolicyVendor.Windows, enc, integ, dh, errors));
        Assert.Equal(esp, PolicyNames.EspProposal(PolicyVendor.Windows, cipher, auth, pfs, dh, errors));
        Assert.Empty(errors);
    }

    [Theory]
    [InlineData(PolicyVendor.Azure, "DES", "SHA1", "DHGroup2", PolicyField.IkeEncryption)]
    [InlineData(PolicyVendor.Azure, "AES256", "MD5", "DHGroup2", PolicyField.IkeIntegrity)]
    [InlineData(PolicyVendor.Azure, "AES256", "SHA1", "DHGroup1", PolicyField.DhGroup)]
    [InlineData(PolicyVendor.Azure, "AES256", "SHA1", "None", PolicyField.DhGroup)]
    [InlineData(PolicyVendor.Windows, "AES256", "SHA1", "Group1", PolicyField.DhGroup)]
    [InlineData(PolicyVendor.Windows, "GCMAES256", "SHA1", "Group2", PolicyField.IkeEncryption)]
    [InlineData(PolicyVendor.Azure, "AES256", "SHA1", "DHGroup14x", PolicyField.DhGroup)]
    public void Unsupported_ike_names_must_be_refused_with_a_hint(PolicyVendor vendor, string enc, string integ, string dh, PolicyField field)
    {
        var errors = new List<PolicyNameError>();
        Assert.Null(PolicyNames.IkeProposal(vendor, enc, integ, dh, errors));
        var e = Assert.Single(errors);
        Assert.Equal(field, e.Field);
        Assert.StartsWith("use one of ", e.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Gcm_encryption_with_other_integrity_must_be_refused()
    {
        var errors = new List<PolicyNameError>();
        Assert.Null(PolicyNames.EspProposal(PolicyVendor.Azure, "GCMAES256", "SHA256", "None", "DHGroup2", errors));
        Assert.Equal("AES-GCM needs the same GCMAES name for encryption and integrity, found GCMAES256 and SHA256", Assert.Single(errors).Message);
    }

    [Fact]
    public void Every_error_of_a_policy_must_be_reported_at_once()
    {
        var errors = new List<PolicyNameError>();
        Assert.Null(PolicyNames.IkeProposal(PolicyVendor.Azure, "DES", "MD5", "DHGroup1", errors));
        Assert.Equal([PolicyField.IkeEncryption, PolicyField.IkeIntegrity, PolicyField.DhGroup], errors.Select(e => e.Field));
    }

    [Fact]
    public void Connection_without_policy_must_use_azure_defaults()
    {
        var lab = TopologyLoader.Load(Path.Combine(Labs.Folder, "azure-s2s-rras.yaml")).Topology!;
        var c = lab.Nodes.OfType<AzureVpnGatewaySpec>().Single().Connections.Single();
        Assert.Equal(PolicySource.DeviceDefaults, c.PolicySource);
        Assert.Equal(DeviceDefaults.AzureIke, c.IkeProposals);
        Assert.Equal(DeviceDefaults.AzureEspResponder, c.EspProposalsAsResponder);
        Assert.Equal(TimeSpan.FromSeconds(27_000), c.ChildLifetime);
        var rras = lab.Nodes.OfType<RrasSpec>().Single();
        Assert.Equal(DeviceDefaults.WindowsIke, rras.Vpn!.IkeProposals);
        Assert.Equal("52.172.171.0", rras.Vpn.InterfaceName);
    }

    [Fact]
    public void Custom_policies_must_resolve_to_one_proposal_each_side()
    {
        var lab = TopologyLoader.Load(Path.Combine(Labs.Folder, "azure-s2s-policy-based.yaml")).Topology!;
        var c = lab.Nodes.OfType<AzureVpnGatewaySpec>().Single().Connections.Single();
        Assert.Equal(PolicySource.CustomPolicy, c.PolicySource);
        Assert.Equal("AES256/SHA256/MODP2048", Assert.Single(c.IkeProposals).ToString());
        Assert.Equal("GCMAES256", Assert.Single(c.EspProposalsAsInitiator).ToString());
        Assert.True(c.UsePolicyBasedTrafficSelectors);
        var vpn = lab.Nodes.OfType<RrasSpec>().Single().Vpn!;
        Assert.Equal(c.IkeProposals.ToArray(), vpn.IkeProposals.ToArray());
        Assert.Equal(c.EspProposalsAsResponder.ToArray(), vpn.EspProposals.ToArray());
    }
}
