using System.Collections.Immutable;
using Nodes.Crypto;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ike;

namespace Nodes.Ike;

// Child SA negotiation shared by IKE_AUTH and CREATE_CHILD_SA: proposal choice, traffic selector narrowing
// (RFC 7296 section 2.9) and KEYMAT (section 2.17).
public sealed partial class IkeSa
{
    /// <summary>
    /// Responder side: chooses an ESP proposal and narrows the selectors of a request. Returns the new Child SA, or
    /// null with the refusal already in <paramref name="responsePayloads"/> (a notify) and <paramref name="error"/>.
    /// </summary>
    private ChildSaInfo? NegotiateChild(List<IkePayload> request, SecretKey? pfsShared, bool weInitiated, uint? replaces, DateTimeOffset now,
        out List<IkePayload> responsePayloads, out string? error, byte[]? ni = null, byte[]? nr = null)
    {
        responsePayloads = [];
        var sa = request.OfType<SecurityAssociationPayload>().FirstOrDefault();
        var tsi = request.OfType<TrafficSelectorPayload>().FirstOrDefault(t => t.PayloadType == IkePayloadType.TrafficSelectorInitiator);
        var tsr = request.OfType<TrafficSelectorPayload>().FirstOrDefault(t => t.PayloadType == IkePayloadType.TrafficSelectorResponder);
        if (sa is null || tsi is null || tsr is null)
        {
            error = "the Child SA request lacks SA, TSi or TSr";
            responsePayloads.Add(NotifyPayload.Status(NotifyType.InvalidSyntax));
            Emit(new IkeFailure(NotifyType.InvalidSyntax, error, false));
            return null;
        }
        var espProposals = sa.Proposals.Where(p => p.Protocol == IkeProtocolId.Esp && p.Spi32 is >= 256).ToList();
        var offered = espProposals.Select(ProposalWire.FromWire).ToList();
        var choice = ProposalSelection.SelectEsp(offered, _config.EspProposals, keyExchangePresent: pfsShared is not null);
        if (choice is null)
        {
            error = "NO_PROPOSAL_CHOSEN";
            responsePayloads.Add(NotifyPayload.Status(NotifyType.NoProposalChosen));
            Emit(new IkeFailure(NotifyType.NoProposalChosen, ProposalSelection.NoProposalChosenReason(offered, _config.EspProposals, weOffered: false) + " (Child SA)", false));
            return null;
        }
        var peerTsi = tsi.Selectors.Select(TsRange.FromWire).OfType<TsRange>().ToList();
        var peerTsr = tsr.Selectors.Select(TsRange.FromWire).OfType<TsRange>().ToList();
        var narrowedI = Narrow(peerTsi, _config.RemoteTs);
        var narrowedR = Narrow(peerTsr, _config.LocalTs);
        if (narrowedI.Length == 0 || narrowedR.Length == 0)
        {
            error = "TS_UNACCEPTABLE";
            responsePayloads.Add(NotifyPayload.Status(NotifyType.TsUnacceptable));
            Emit(new IkeFailure(NotifyType.TsUnacceptable,
                $"the peer proposed {string.Join(',', peerTsi)} === {string.Join(',', peerTsr)}; we allow {string.Join(',', _config.RemoteTs)} === {string.Join(',', _config.LocalTs)}", false));
            return null;
        }
        var suite = choice.Value.Suite;
        var outboundSpi = espProposals[choice.Value.ProposalIndex].Spi32!.Value;
        var inboundSpi = NewChildSpi();
        var keys = IkeKeySchedule.DeriveChildSaKeys(_suite!.Prf, suite.Cipher, _crypto!.Keys.SkD, pfsShared, ni ?? _ni, nr ?? _nr);
        responsePayloads.Add(ProposalWire.Chosen(suite, espProposals[choice.Value.ProposalIndex].Number, inboundSpi));
        responsePayloads.Add(new TrafficSelectorPayload(IkePayloadType.TrafficSelectorInitiator, narrowedI.Select(t => t.ToWire()).ToArray()));
        responsePayloads.Add(new TrafficSelectorPayload(IkePayloadType.TrafficSelectorResponder, narrowedR.Select(t => t.ToWire()).ToArray()));
        error = null;
        return new ChildSaInfo(_config.Name, inboundSpi, outboundSpi, suite, keys, weInitiated, narrowedR, narrowedI, Encapsulated, Local, Remote, replaces, _config.ReplayWindow, now);
    }

    /// <summary>Our ranges cut down to what the peer proposed (RFC 7296 section 2.9).</summary>
    private static ImmutableArray<TsRange> Narrow(List<TsRange> proposed, ImmutableArray<TsRange> allowed)
    {
        var result = ImmutableArray.CreateBuilder<TsRange>();
        foreach (var p in proposed)
            foreach (var a in allowed)
                if (p.Intersect(a) is { } i && !result.Contains(i)) result.Add(i);
        return result.ToImmutable();
    }

    /// <summary>
    /// Initiator side: checks the responder's choice against what we offered and derives the keys. Returns null, with a
    /// failure emitted and a DELETE queued for what the peer may have installed, when the answer is not acceptable.
    /// </summary>
    private ChildSaInfo? AcceptChildResponse(List<IkePayload> response, uint inboundSpi, SecretKey? pfsShared, uint? replaces, DateTimeOffset now,
        out Step refusal, byte[]? ni = null, byte[]? nr = null)
    {
        refusal = Step.Success;
        var sa = response.OfType<SecurityAssociationPayload>().FirstOrDefault();
        var tsi = response.OfType<TrafficSelectorPayload>().FirstOrDefault(t => t.PayloadType == IkePayloadType.TrafficSelectorInitiator);
        var tsr = response.OfType<TrafficSelectorPayload>().FirstOrDefault(t => t.PayloadType == IkePayloadType.TrafficSelectorResponder);
        if (sa is null || tsi is null || tsr is null || sa.Proposals.Count != 1 || sa.Proposals[0].Spi32 is not (>= 256))
        {
            refusal = Fail(NotifyType.InvalidSyntax, "the Child SA response lacks SA, TSi or TSr, or its SA is not one ESP proposal", byPeer: false, now);
            return null;
        }
        var chosen = ProposalWire.FromWire(sa.Proposals[0]);
        var allowed = pfsShared is null ? WithoutGroups(_config.EspProposals) : _config.EspProposals;
        var suite = ProposalSelection.SelectEsp([chosen], allowed, keyExchangePresent: pfsShared is not null);
        if (suite is null)
        {
            refusal = Fail(NotifyType.NoProposalChosen, $"the peer chose {chosen} for the Child SA, which we did not offer ({ProposalText.List(_config.EspProposals)})", byPeer: false, now);
            _work.Enqueue(new Work(WorkKind.DeleteChild, inboundSpi));
            return null;
        }
        var localTs = tsi.Selectors.Select(TsRange.FromWire).OfType<TsRange>().ToImmutableArray();
        var remoteTs = tsr.Selectors.Select(TsRange.FromWire).OfType<TsRange>().ToImmutableArray();
        if (localTs.Length == 0 || remoteTs.Length == 0
            || !localTs.All(t => _config.LocalTs.Any(a => a.Intersect(t) == t))
            || !remoteTs.All(t => _config.RemoteTs.Any(a => a.Intersect(t) == t)))
        {
            refusal = Fail(NotifyType.TsUnacceptable, $"the peer narrowed our selectors to {string.Join(',', localTs)} === {string.Join(',', remoteTs)}, outside what we proposed", byPeer: false, now);
            _work.Enqueue(new Work(WorkKind.DeleteChild, inboundSpi));
            return null;
        }
        var s = suite.Value.Suite;
        var keys = IkeKeySchedule.DeriveChildSaKeys(_suite!.Prf, s.Cipher, _crypto!.Keys.SkD, pfsShared, ni ?? _ni, nr ?? _nr);
        return new ChildSaInfo(_config.Name, inboundSpi, sa.Proposals[0].Spi32!.Value, s, keys, WeInitiatedExchange: true, localTs, remoteTs, Encapsulated, Local, Remote, replaces, _config.ReplayWindow, now);
    }

    private ChildRecord InstallChild(ChildSaInfo info, bool outboundActive, byte[] lowestNonce, DateTimeOffset now)
    {
        if (_config.Lifetimes.ChildRekeyBytes > 0) info = info with { SoftLimitBytes = (long)(_config.Lifetimes.ChildRekeyBytes * SoftFraction()) };
        var record = new ChildRecord(info)
        {
            OutboundActive = outboundActive,
            LowestNonce = lowestNonce,
            RekeyAt = now + Soft(_config.Lifetimes.ChildRekey),
            ExpireAt = now + _config.Lifetimes.ChildRekey + _config.Lifetimes.HardMargin,
        };
        _children[info.InboundSpi] = record;
        Emit(new ChildSaUp(info));
        if (outboundActive) Emit(new ChildSaOutboundActive(info.InboundSpi));
        return record;
    }

    private void RemoveChild(ChildRecord c, string reason)
    {
        if (c.State == ChildState.Deleted) return;
        c.State = ChildState.Deleted;
        _children.Remove(c.Info.InboundSpi);
        ReleaseSpi(c.Info.InboundSpi);
        Emit(new ChildSaDown(c.Info.InboundSpi, c.Info.OutboundSpi, reason));
    }

    /// <summary>
    /// The data plane reached a soft limit on a Child SA (bytes, or sequence numbers about to run out): rekey it
    /// (RFC 4303 section 3.3.3 forbids a sequence number to cycle).
    /// </summary>
    public void ChildSoftLimitReached(uint inboundSpi, string why, DateTimeOffset now)
    {
        if (_children.TryGetValue(inboundSpi, out var c) && c.State == ChildState.Installed)
        {
            Emit(new IkeEvent(IkeEventKind.ChildSaSoftLimit, $"0x{inboundSpi:x8}: {why}"));
            c.RekeyAt = null;
            RekeyChild(inboundSpi, now);
        }
    }
}
