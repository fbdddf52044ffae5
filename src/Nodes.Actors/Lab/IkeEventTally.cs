using Nodes.Messages;

namespace Nodes.Actors.Lab;

/// <summary>
/// Counts, from the nodes' events, the IKE retransmissions (those of IKE_SA_INIT requests apart) and the IKE_SA_INIT
/// requests the Azure gateways answered as responder (each one key exchange): what a scale run reports. Safe to read
/// from another thread while one actor adds.
/// </summary>
public sealed class IkeEventTally(Func<string, bool> isAzureGateway)
{
    private static readonly string Retransmit = Ike.IkeEventKinds.ToName(Ike.IkeEventKind.Retransmit);
    private static readonly string InitMessage = $"{Wire.Ike.ExchangeType.IkeSaInit} message ID";

    private long _retransmissions;
    private long _initRetransmissions;
    private long _responderExchanges;

    public long Retransmissions => Volatile.Read(ref _retransmissions);
    public long InitRetransmissions => Volatile.Read(ref _initRetransmissions);
    public long ResponderExchanges => Volatile.Read(ref _responderExchanges);

    public void Add(NodeEvent e)
    {
        if (e.Kind != "ike") return;
        if (e.Text.Contains(Retransmit, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _retransmissions);
            if (e.Text.Contains(InitMessage, StringComparison.Ordinal)) Interlocked.Increment(ref _initRetransmissions);
        }
        else if (e.Text.EndsWith(Gateway.GatewayEngine.AnsweringAsResponder, StringComparison.Ordinal) && isAzureGateway(e.Node))
            Interlocked.Increment(ref _responderExchanges);
    }
}
