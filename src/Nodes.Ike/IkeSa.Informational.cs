using Nodes.Wire.Ike;
using Nodes.Wire.Ip;

namespace Nodes.Ike;

// INFORMATIONAL (RFC 7296 sections 1.4, 1.5, 2.4):
//   liveness check:   HDR, SK {}                 -->  <--  HDR, SK {}
//   delete Child SA:  HDR, SK {D(ESP, SPIs)}     -->  <--  HDR, SK {D(ESP, SPIs of the paired SAs)}
//   delete IKE SA:    HDR, SK {D(IKE)}           -->  <--  HDR, SK {}
public sealed partial class IkeSa
{
    private void StartDpd(DateTimeOffset now)
    {
        Emit(new IkeEvent(IkeEventKind.LivenessCheck, $"nothing heard from {Remote} since {_lastInbound:HH:mm:ss}"));
        SendProtectedRequest(ExchangeType.Informational, IkePurpose.LivenessCheck, [], now, (_, _, _, t) =>
        {
            Emit(new IkeEvent(IkeEventKind.PeerAlive, $"{Remote} answered the liveness check"));
            return Step.Success;
        });
    }

    private void StartChildDelete(ChildRecord c, DateTimeOffset now)
    {
        c.State = ChildState.Deleting;
        StartChildDelete(c.Info.InboundSpi, now);
    }

    private void StartChildDelete(uint inboundSpi, DateTimeOffset now)
    {
        SendProtectedRequest(ExchangeType.Informational, IkePurpose.DeleteChildSa, [new DeletePayload(IkeProtocolId.Esp, new[] { inboundSpi })], now, (_, _, _, t) =>
        {
            if (_children.TryGetValue(inboundSpi, out var c)) RemoveChild(c, "deleted");
            ActivateSuccessorsOf(inboundSpi);
            return Step.Success;
        });
    }

    private void StartIkeDelete(DateTimeOffset now)
    {
        SetState(IkeSaState.Deleting, "deleting the IKE SA");
        SendProtectedRequest(ExchangeType.Informational, IkePurpose.DeleteIkeSa, [DeletePayload.IkeSa()], now, (_, _, _, t) =>
        {
            Close("deleted", t);
            return Step.Success;
        });
    }

    private void StartInvalidSpi(uint spi, DateTimeOffset now)
    {
        Span<byte> data = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(data, spi);
        SendProtectedRequest(ExchangeType.Informational, IkePurpose.ReportInvalidSpi, [NotifyPayload.Status(NotifyType.InvalidSpi, data)], now, (_, _, _, _) => Step.Success);
    }

    private (List<IkePayload> Response, Action? After) HandleInformationalRequest(List<IkePayload> request, DateTimeOffset now)
    {
        var response = new List<IkePayload>();
        Action? after = null;
        foreach (var d in request.OfType<DeletePayload>())
        {
            if (d.Protocol == IkeProtocolId.Ike)
            {
                Emit(new IkeEvent(IkeEventKind.PeerDeletedIkeSa, $"{Remote} sent DELETE for the IKE SA"));
                after = () => Close("the peer deleted the IKE SA", now);
                return (response, after);
            }
            if (d.Protocol != IkeProtocolId.Esp) continue;
            var ours = new List<uint>();
            foreach (var peerInbound in d.Spis)
            {
                var c = _children.Values.FirstOrDefault(x => x.Info.OutboundSpi == peerInbound && x.State != ChildState.Deleted);
                if (c is null)
                {
                    // Deleted already (a duplicate DELETE, libreswan CVE-2023-38712 class) or never ours: nothing to do,
                    // and the response does not name it (RFC 7296 section 1.4.1).
                    Drop(IkeDropReason.DeleteForUnknownSa, $"{Remote} deletes Child SA 0x{peerInbound:x8}, which we do not have");
                    continue;
                }
                // RFC 7296 section 1.4.1: an SA we are deleting ourselves is not listed again in the response.
                if (c.State != ChildState.Deleting) ours.Add(c.Info.InboundSpi);
                RemoveChild(c, "the peer deleted it");
                ActivateSuccessorsOf(c.Info.InboundSpi);
            }
            if (ours.Count > 0) response.Add(new DeletePayload(IkeProtocolId.Esp, ours.ToArray()));
        }
        foreach (var n in request.OfType<NotifyPayload>())
        {
            switch (n.NotifyType)
            {
                case NotifyType.AuthenticationFailed:
                    Emit(new IkeFailure(NotifyType.AuthenticationFailed, $"{Remote} reports that our AUTH did not verify: the pre-shared keys differ", ReportedByPeer: true));
                    after = () => Close("AUTHENTICATION_FAILED", now);
                    break;
                case NotifyType.InvalidSpi:
                    Emit(new IkeEvent(IkeEventKind.PeerReportsInvalidSpi, n.Data.Length == 4 ? $"0x{System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(n.Data.Span):x8}" : "unknown SPI"));
                    break;
                default:
                    if (n.IsError) Emit(new IkeFailure(n.NotifyType, "reported by the peer in an INFORMATIONAL exchange", ReportedByPeer: true));
                    break;
            }
        }
        return (response, after);
    }

    /// <summary>After an old Child SA is gone, its successor (the rekeyed SA) carries outbound traffic.</summary>
    private void ActivateSuccessorsOf(uint oldInboundSpi)
    {
        foreach (var c in _children.Values)
            if (c.Info.ReplacesInboundSpi == oldInboundSpi && c.State == ChildState.Installed) ActivateOutbound(c);
    }

    /// <summary>A message on the SPIs of the IKE SA being replaced: only its DELETE is expected there.</summary>
    private void ReceiveOnOldSa(IkeHeader header, byte[] message, Ipv4Endpoint from, Ipv4Endpoint to, DateTimeOffset now)
    {
        if (header.IsResponse && header.Exchange == ExchangeType.Informational && _oldDelete is { } d && header.MessageId == d.MessageId && _oldCrypto is not null)
        {
            // The answer to our DELETE of the old SA: believed only once it opens with the old keys.
            if (!_oldCrypto.TryOpen((byte[])message.Clone(), out _, out var why, out _))
            {
                Drop(why == OpenFailure.Integrity ? IkeDropReason.Integrity : IkeDropReason.Malformed, $"answer on the IKE SA being replaced did not open ({why})");
                return;
            }
            // It proves the peer alive, but an SA on its way out never moves the new SA's peer endpoint.
            _lastInbound = now;
            OldIkeDeleteAnswered(now);
            return;
        }
        if (header.IsResponse || header.Exchange != ExchangeType.Informational || _oldCrypto is null || _old is not { } old)
        {
            Drop(IkeDropReason.UnexpectedExchange, $"{header.Exchange} on the IKE SA being replaced");
            return;
        }
        var copy = (byte[])message.Clone();
        if (!_oldCrypto.TryOpen(copy, out var payloads, out var failure, out _))
        {
            Drop(failure == OpenFailure.Integrity ? IkeDropReason.Integrity : IkeDropReason.Malformed, $"message on the IKE SA being replaced did not open ({failure})");
            return;
        }
        _requestPath = (to, from);
        AuthenticatedFrom(from, now);
        var flags = (old.WeOriginalInitiator ? IkeFlags.Initiator : 0) | IkeFlags.Response;
        var bytes = _oldCrypto.Seal(old.SpiI, old.SpiR, ExchangeType.Informational, flags, header.MessageId, []);
        Send(bytes, ExchangeType.Informational, header.MessageId, isResponse: true, retransmission: false);
        Emit(new IkeExchangeDone(ExchangeType.Informational, IkePurpose.DeleteIkeSa, header.MessageId, false, now, now, true, null));
        if (payloads.OfType<DeletePayload>().Any(d => d.Protocol == IkeProtocolId.Ike)) RetireOld();
    }
}
