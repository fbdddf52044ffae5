using Nodes.Crypto;
using Nodes.Ike.Proposals;

namespace Nodes.Ike.Tests.Proposals;

public class ProposalTextTests
{
    [Theory]
    [InlineData("aes256-sha1-modp1024", true, "AES256/SHA1/MODP1024")]
    [InlineData("aes256-sha256-modp2048", true, "AES256/SHA256/MODP2048")]
    [InlineData("aes256gcm16-prfsha256-ecp256", true, "GCMAES256/PRFSHA256/ECP256")]
    [InlineData("aes128-aes256-sha256-modp2048-curve25519", true, "AES128|AES256/SHA256/MODP2048|CURVE25519")]
    [InlineData("aes256gcm16", false, "GCMAES256")]
    [InlineData("aes256-sha1-modp2048", false, "AES256/SHA1/MODP2048")]
    [InlineData("null-sha256", false, "NULL/SHA256")]
    [InlineData("3des-sha1-esn", false, "3DES/SHA1/ESN")]
    public void Parse_must_read_strongswan_syntax(string text, bool forIke, string shortForm) =>
        Assert.Equal(shortForm, ProposalText.Parse(text, forIke).ToString());

    [Theory]
    [InlineData("aes256-md5-modp1024", true, "unknown algorithm 'md5'")]
    [InlineData("aes256-sha1", true, "names no DH group")]
    [InlineData("aes256-modp1024", true, "names no integrity algorithm")]
    [InlineData("sha1-modp1024", true, "names no encryption algorithm")]
    [InlineData("aes256gcm16-ecp256", true, "needs a PRF")]
    [InlineData("aes256gcm16-sha256", false, "takes no integrity")]
    [InlineData("aes256gcm16-aes256-sha1", false, "mixes AES-GCM")]
    [InlineData("null-sha1-modp1024", true, "unknown algorithm 'null'")]
    [InlineData("aes256-sha1-modp1024-esn", true, "ESN applies to ESP")]
    [InlineData("aes256-sha1-prfsha1", false, "PRF applies to IKE")]
    public void Parse_must_refuse_with_a_reason_that_names_the_problem(string text, bool forIke, string reason)
    {
        Assert.False(ProposalText.TryParse(text, forIke, out var p, out var error));
        Assert.Null(p);
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Device_defaults_must_have_the_documented_counts_and_first_entries()
    {
        Assert.Equal(6, DeviceDefaults.AzureIke.Count);
        Assert.Equal("AES256/SHA1/MODP1024", DeviceDefaults.AzureIke[0].ToString());
        Assert.Equal("GCMAES256", DeviceDefaults.AzureEspInitiator[0].ToString());
        Assert.Equal(20, DeviceDefaults.AzureEspResponder.Count);
        Assert.Equal(DeviceDefaults.AzureEspInitiator, DeviceDefaults.AzureEspResponder.Take(6));
    }
}

public class ProposalSelectionTests
{
    private static Proposal Ike(string s) => ProposalText.Parse(s, forIke: true);
    private static Proposal Esp(string s) => ProposalText.Parse(s, forIke: false);

    [Fact]
    public void Responder_must_pick_the_first_of_the_initiators_proposals_it_accepts()
    {
        var offered = new[] { Ike("aes256-sha256-modp2048"), Ike("3des-sha1-modp1024"), Ike("aes256-sha1-modp1024") };
        var chosen = ProposalSelection.SelectIke(offered, DeviceDefaults.AzureIke);
        Assert.NotNull(chosen);
        Assert.Equal(1, chosen.Value.ProposalIndex);
        Assert.Equal(new IkeSuite(new CipherSuite(EncryptionAlgorithm.Des3Cbc, 192, IntegrityAlgorithm.HmacSha1_96), PrfAlgorithm.HmacSha1, DhGroup.Modp1024), chosen.Value.Suite);
    }

    [Fact]
    public void Responder_must_take_the_initiators_first_acceptable_choice_inside_a_proposal()
    {
        var offered = new[] { Ike("aes128-aes256-sha512-sha256-modp2048-ecp256") };
        var accepted = new[] { Ike("aes256-aes128-sha256-ecp256-modp2048") };
        var chosen = ProposalSelection.SelectIke(offered, accepted)!.Value.Suite;
        Assert.Equal("AES128/SHA256/MODP2048", chosen.ToString());
    }

    [Fact]
    public void Windows_defaults_against_Azure_must_settle_on_3des_sha1_dh2()
    {
        var ike = ProposalSelection.SelectIke(DeviceDefaults.WindowsIke, DeviceDefaults.AzureIke)!.Value.Suite;
        Assert.Equal("3DES/SHA1/MODP1024", ike.ToString());
        var esp = ProposalSelection.SelectEsp(DeviceDefaults.WindowsEsp, DeviceDefaults.AzureEspResponder, keyExchangePresent: false)!.Value.Suite;
        Assert.Equal("AES256/SHA1", esp.ToString());
    }

    [Fact]
    public void Disjoint_lists_must_select_nothing_and_explain_both_sides()
    {
        var offered = new[] { Ike("aes256-sha256-modp2048") };
        Assert.Null(ProposalSelection.SelectIke(offered, DeviceDefaults.AzureIke));
        var reason = ProposalSelection.NoProposalChosenReason(offered, DeviceDefaults.AzureIke, weOffered: true);
        Assert.StartsWith("we offered AES256/SHA256/MODP2048; the peer accepts only AES256/SHA1/MODP1024, AES256/SHA256/MODP1024,", reason);
    }

    [Fact]
    public void Esp_with_pfs_must_agree_on_a_group_only_when_a_key_exchange_is_present()
    {
        var offered = new[] { Esp("aes256-sha1-modp2048") };
        var withKe = ProposalSelection.SelectEsp(offered, DeviceDefaults.AzureEspResponder, keyExchangePresent: true)!.Value;
        Assert.Equal(DhGroup.Modp2048, withKe.Suite.Pfs);
        Assert.Equal(0, withKe.ProposalIndex);
        var withoutKe = ProposalSelection.SelectEsp(offered, DeviceDefaults.AzureEspResponder, keyExchangePresent: false)!.Value;
        Assert.Null(withoutKe.Suite.Pfs);
        Assert.Null(ProposalSelection.SelectEsp([Esp("aes256-sha1-ecp384")], DeviceDefaults.AzureEspResponder, keyExchangePresent: true));
    }

    [Fact]
    public void Gcm_offer_with_an_integrity_transform_must_not_be_chosen()
    {
        var offered = new[] { new Proposal([new(EncryptionAlgorithm.AesGcm16, 256)], [IntegrityAlgorithm.HmacSha1_96], [], [], []) };
        Assert.Null(ProposalSelection.SelectEsp(offered, DeviceDefaults.AzureEspResponder, keyExchangePresent: false));
    }

    [Fact]
    public void Esn_must_be_agreed_when_both_sides_allow_it_and_refused_when_only_one_insists()
    {
        var esnOnly = new[] { Esp("aes256gcm16-esn") };
        Assert.True(ProposalSelection.SelectEsp(esnOnly, [Esp("aes256gcm16-esn-noesn")], false)!.Value.Suite.Esn);
        Assert.Null(ProposalSelection.SelectEsp(esnOnly, [Esp("aes256gcm16")], false));
    }
}
