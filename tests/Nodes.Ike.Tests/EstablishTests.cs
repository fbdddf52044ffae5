using Nodes.Crypto;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ike;

namespace Nodes.Ike.Tests;

public class EstablishTests
{
    // IKE_SA_INIT { SA, KE, Ni, N(NAT_D src), N(NAT_D dst) } -->  <-- { SA, KE, Nr, N(NAT_D src), N(NAT_D dst) }
    // IKE_AUTH SK { IDi, AUTH, N(INITIAL_CONTACT), SAi2, TSi, TSr } --> <-- SK { IDr, AUTH, SAr2, TSi, TSr }
    [Fact]
    public void Rras_behind_nat_and_azure_must_establish_with_ipsec_in_udp_4500()
    {
        using var pair = new IkePair(IkePair.Rras(), IkePair.Azure());
        pair.Start();

        Assert.Equal(IkeSaState.Established, pair.Initiator.State);
        Assert.Equal(IkeSaState.Established, pair.Responder!.State);
        Assert.Equal("3DES/SHA1/MODP1024", pair.Initiator.Suite!.ToString());
        Assert.True(pair.Initiator.LocalBehindNat);
        Assert.False(pair.Initiator.RemoteBehindNat);
        Assert.True(pair.Responder.RemoteBehindNat);
        Assert.False(pair.Responder.LocalBehindNat);

        // The wire: IKE_SA_INIT on 500, then IKE_AUTH floated to 4500 behind the non-ESP marker.
        Assert.Equal(4, pair.Wire.Count);
        Assert.All(pair.Wire.Take(2), w => Assert.True(w.From.Port != 4500 || w.To.Port != 4500));
        Assert.All(pair.Wire.Skip(2), w => { Assert.Equal(4500, w.To.Port == 4500 ? w.To.Port : w.From.Port); Assert.True(w.Marker); });
        Assert.Equal(4500, pair.Responder.Local.Port);
        Assert.Equal(IkePair.NatPublic, pair.Responder.Remote.Address);

        var i = Assert.Single(pair.Initiator.ChildSas);
        var r = Assert.Single(pair.Responder.ChildSas);
        Assert.Equal(i.InboundSpi, r.OutboundSpi);
        Assert.Equal(i.OutboundSpi, r.InboundSpi);
        Assert.Equal(i.OutboundEncryptionKey, r.InboundEncryptionKey);
        Assert.Equal(i.InboundEncryptionKey, r.OutboundEncryptionKey);
        Assert.Equal(i.OutboundIntegrityKey, r.InboundIntegrityKey);
        Assert.NotEqual(i.OutboundEncryptionKey, i.InboundEncryptionKey);
        Assert.True(i.Encapsulated && r.Encapsulated);
        Assert.Equal("AES256/SHA1", i.Suite.ToString());
        Assert.Equal("0.0.0.0/0", i.LocalTs.Single().ToString());
        Assert.Equal(IkeIdentity.Address(IkePair.AzureGw.Address), pair.Initiator.PeerIdentity);
        Assert.Contains(pair.InitiatorOutputs, o => o is ChildSaOutboundActive a && a.InboundSpi == i.InboundSpi);
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeExchangeDone { PhaseName: "IKE phase 1: IKE_AUTH", Succeeded: true });
    }

    [Fact]
    public void Without_nat_both_sides_must_stay_on_port_500_and_send_no_keepalives()
    {
        using var pair = new IkePair(IkePair.Rras(), IkePair.Azure(), nat: false);
        pair.Start();
        pair.Advance(TimeSpan.FromSeconds(70));
        Assert.Equal(IkeSaState.Established, pair.Responder!.State);
        Assert.False(pair.Initiator.Encapsulated);
        Assert.All(pair.Wire, w => Assert.Equal(500, w.From.Port));
        Assert.DoesNotContain(pair.Wire, w => w.Keepalive);
    }

    [Fact]
    public void Behind_nat_the_initiator_must_send_keepalives_every_20_seconds_when_idle()
    {
        using var pair = new IkePair(IkePair.Rras() with { DpdDelay = null }, IkePair.Azure() with { DpdDelay = null });
        pair.Start();
        var start = pair.Now;
        pair.Advance(TimeSpan.FromSeconds(61));
        var keepalives = pair.Wire.Where(w => w.Keepalive).ToList();
        Assert.Equal(3, keepalives.Count);
        Assert.Equal([20, 40, 60], keepalives.Select(k => (int)(k.At - start).TotalSeconds));
        Assert.All(keepalives, k => Assert.Equal(4500, k.To.Port));
    }

    [Fact]
    public void Forced_encapsulation_without_nat_must_float_to_4500()
    {
        using var pair = new IkePair(IkePair.Rras() with { ForceEncapsulation = true }, IkePair.Azure(), nat: false);
        pair.Start();
        Assert.True(pair.Initiator.Encapsulated);
        Assert.True(pair.Responder!.RemoteBehindNat); // the fake source hash makes the responder see a NAT
        Assert.True(pair.Initiator.ChildSas.Single().Encapsulated);
        Assert.Equal(4500, pair.Wire[^1].From.Port);
    }

    [Theory]
    [InlineData("aes256-sha256-modp2048", "aes256gcm16", "AES256/SHA256/MODP2048", "GCMAES256")]
    [InlineData("aes128-sha1-ecp256", "aes128-sha256", "AES128/SHA1/ECP256", "AES128/SHA256")]
    [InlineData("aes256gcm16-prfsha384-ecp384", "aes256gcm16-esn", "GCMAES256/PRFSHA384/ECP384", "GCMAES256/ESN")]
    [InlineData("aes256-sha512-curve25519", "null-sha256", "AES256/SHA512/CURVE25519", "NULL/SHA256")]
    [InlineData("3des-sha1-modp2048s256", "3des-sha1", "3DES/SHA1/MODP2048S256", "3DES/SHA1")]
    public void Custom_policies_must_negotiate_what_both_sides_allow(string ike, string esp, string ikeShort, string espShort)
    {
        var ikeP = new[] { IkePair.IkeP(ike) };
        var espP = new[] { IkePair.EspP(esp) };
        using var pair = new IkePair(IkePair.Rras(ike: ikeP, esp: espP), IkePair.Azure(ike: ikeP, esp: espP));
        pair.Start();
        Assert.Equal(ikeShort, pair.Initiator.Suite!.ToString());
        Assert.Equal(espShort, pair.Responder!.ChildSas.Single().Suite.ToString());
    }

    [Fact]
    public void A_wrong_guess_of_the_dh_group_must_be_corrected_by_invalid_ke_payload()
    {
        // The initiator guesses MODP1024 (its first proposal); the responder only takes MODP2048.
        var ike = new[] { IkePair.IkeP("aes256-sha256-modp1024"), IkePair.IkeP("aes256-sha256-modp2048") };
        using var pair = new IkePair(IkePair.Rras(ike: ike), IkePair.Azure(ike: [IkePair.IkeP("aes256-sha256-modp2048")]));
        pair.Start();
        Assert.Equal(IkeSaState.Established, pair.Initiator.State);
        Assert.Equal(DhGroup.Modp2048, pair.Initiator.Suite!.Group);
        Assert.Contains(pair.ResponderRefusals, r => r.Notify == NotifyType.InvalidKePayload);
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeFailure { Notify: NotifyType.InvalidKePayload, ReportedByPeer: true });
        Assert.Equal(6, pair.Wire.Count);
    }
}

public class FailureTests
{
    [Fact]
    public void Wrong_shared_key_must_fail_with_authentication_failed_on_both_sides_and_no_child_sa()
    {
        using var pair = new IkePair(IkePair.Rras(psk: "one key"), IkePair.Azure(psk: "another key"));
        pair.Start();
        Assert.Equal(IkeSaState.Closed, pair.Initiator.State);
        Assert.Equal(IkeSaState.Closed, pair.Responder!.State);
        var r = pair.ResponderOutputs.OfType<IkeFailure>().Single();
        Assert.Equal(NotifyType.AuthenticationFailed, r.Notify);
        Assert.Contains("shared keys differ", r.Reason);
        var i = pair.InitiatorOutputs.OfType<IkeFailure>().Single();
        Assert.Equal(NotifyType.AuthenticationFailed, i.Notify);
        Assert.True(i.ReportedByPeer);
        Assert.DoesNotContain(pair.InitiatorOutputs, o => o is ChildSaUp);
        Assert.DoesNotContain(pair.ResponderOutputs, o => o is ChildSaUp);
        Assert.DoesNotContain("one key", r.ToString() + i.ToString());
    }

    [Fact]
    public void Disjoint_ike_proposals_must_fail_with_no_proposal_chosen_naming_both_lists()
    {
        using var pair = new IkePair(IkePair.Rras(ike: [IkePair.IkeP("aes256-sha256-modp2048")]), IkePair.Azure());
        pair.Start();
        // The refusal is unprotected: RRAS retransmits until its budget is spent before it believes it.
        pair.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(IkeSaState.Closed, pair.Initiator.State);
        Assert.Null(pair.Responder);
        var refusal = pair.ResponderRefusals.Distinct().Single();
        Assert.Equal(NotifyType.NoProposalChosen, refusal.Notify);
        Assert.Equal("the peer offered AES256/SHA256/MODP2048; we accept only AES256/SHA1/MODP1024, AES256/SHA256/MODP1024, AES128/SHA1/MODP1024, AES128/SHA256/MODP1024, 3DES/SHA1/MODP1024, 3DES/SHA256/MODP1024", refusal.Reason);
        var failure = pair.InitiatorOutputs.OfType<IkeFailure>().Single();
        Assert.Equal(NotifyType.NoProposalChosen, failure.Notify);
        Assert.Contains("we offered AES256/SHA256/MODP2048", failure.Reason);
    }

    [Fact]
    public void Disjoint_esp_proposals_must_leave_the_ike_sa_up_without_a_child_sa()
    {
        using var pair = new IkePair(IkePair.Rras(esp: [IkePair.EspP("aes128gcm16")]), IkePair.Azure(esp: [IkePair.EspP("aes256-sha256")]));
        pair.Start();
        Assert.Equal(IkeSaState.Established, pair.Initiator.State);
        Assert.Empty(pair.Initiator.ChildSas);
        Assert.Empty(pair.Responder!.ChildSas);
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeFailure { Notify: NotifyType.NoProposalChosen } f && f.Reason.Contains("GCMAES128"));
        Assert.Contains(pair.ResponderOutputs, o => o is IkeFailure { Notify: NotifyType.NoProposalChosen } f && f.Reason.Contains("we accept only AES256/SHA256"));
    }

    [Fact]
    public void Selectors_outside_the_responders_policy_must_give_ts_unacceptable()
    {
        var rras = IkePair.Rras() with
        {
            LocalTs = [TsRange.FromPrefix(Wire.Ip.Ipv4Prefix.Parse("192.168.29.0/24"))],
            RemoteTs = [TsRange.FromPrefix(Wire.Ip.Ipv4Prefix.Parse("10.0.10.0/24"))],
        };
        var azure = IkePair.Azure() with { RemoteTs = [TsRange.FromPrefix(Wire.Ip.Ipv4Prefix.Parse("172.16.0.0/16"))] };
        using var pair = new IkePair(rras, azure);
        pair.Start();
        Assert.Equal(IkeSaState.Established, pair.Initiator.State);
        Assert.Empty(pair.Initiator.ChildSas);
        Assert.Contains(pair.ResponderOutputs, o => o is IkeFailure { Notify: NotifyType.TsUnacceptable });
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeFailure { Notify: NotifyType.TsUnacceptable, ReportedByPeer: true });
    }

    [Fact]
    public void Policy_based_prefix_pairs_must_be_narrowed_to_the_intersection()
    {
        var rras = IkePair.Rras() with
        {
            LocalTs = [TsRange.FromPrefix(Wire.Ip.Ipv4Prefix.Parse("192.168.0.0/16"))],
            RemoteTs = [TsRange.FromPrefix(Wire.Ip.Ipv4Prefix.Parse("10.0.0.0/16"))],
        };
        var azure = IkePair.Azure() with
        {
            LocalTs = [TsRange.FromPrefix(Wire.Ip.Ipv4Prefix.Parse("10.0.10.0/24"))],
            RemoteTs = [TsRange.FromPrefix(Wire.Ip.Ipv4Prefix.Parse("192.168.29.0/24"))],
        };
        using var pair = new IkePair(rras, azure);
        pair.Start();
        var child = pair.Initiator.ChildSas.Single();
        Assert.Equal("192.168.29.0/24", child.LocalTs.Single().ToString());
        Assert.Equal("10.0.10.0/24", child.RemoteTs.Single().ToString());
    }
}
