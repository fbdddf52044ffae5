using Nodes.Ike;
using Nodes.Net;

namespace Nodes.Gateway;

/// <summary>
/// What a <see cref="GatewayEngine"/> needs from the node it runs in, and tells it: links to send on, a place to count
/// drops and write log lines, timers, and the telemetry of IKE (negotiation spans, metrics, capture keys). The engine
/// calls these synchronously while it handles an input; it never calls them from anywhere else.
/// </summary>
public interface IGatewayPort
{
    /// <summary>A datagram leaves on <see cref="Transmission.Interface"/>, carrying <paramref name="traceparent"/>.</summary>
    void Transmit(Transmission transmission, string traceparent);

    /// <summary>The trace context of a datagram the gateway sends of its own accord (its BGP speaker's segments), or empty.</summary>
    string Originated(byte[] datagram);

    /// <summary>A packet was discarded; <paramref name="reason"/> is a stable name (see <see cref="GatewayDropReason"/>), <paramref name="detail"/> a log line or null.</summary>
    void Dropped(string reason, string? detail);

    /// <summary>A line for the terminal and the run summary: <paramref name="kind"/> is "ike", "ipsec" or "fault".</summary>
    void Report(string kind, string text);

    /// <summary>Call <see cref="GatewayEngine.Redial"/> for <paramref name="tunnel"/> after <paramref name="delay"/> (protocol time, before any time scale).</summary>
    void RedialAfter(string tunnel, TimeSpan delay);

    /// <summary>Fragments addressed to the gateway wait for the rest: call <see cref="GatewayEngine.ExpireFragments"/> about once a second until none wait.</summary>
    void FragmentsWaiting();

    /// <summary>A disconnect asked for with <see cref="GatewayEngine.Disconnect"/> is complete: no IKE SA is left.</summary>
    void Disconnected();

    /// <summary>An IKE SA joined the gateway's table: one it initiates (<paramref name="initiator"/>), or a responder's for an IKE_SA_INIT that arrived with <paramref name="traceparent"/>.</summary>
    void IkeSaStarted(IkeSa sa, string tunnel, bool initiator, string traceparent);

    /// <summary>The trace context an IKE message of <paramref name="sa"/> travels with.</summary>
    string IkeMessageTrace(IkeSa sa, string tunnel, IkeSend send);

    /// <summary>Every output of an IKE SA, before the engine carries it out.</summary>
    void IkeOutput(IkeSa sa, string tunnel, IkeOutput output);

    /// <summary>The SA's negotiation is over: established (<paramref name="failure"/> null) or closed.</summary>
    void IkeNegotiationEnded(IkeSa sa, string? failure);

    /// <summary>The SA left the table for <paramref name="reason"/>.</summary>
    void IkeSaForgotten(IkeSa sa, string reason);

    /// <summary>A Child SA's data plane is installed.</summary>
    void ChildSaInstalled(IkeSa sa, string tunnel, ChildSaInfo info);

    /// <summary>A Child SA's data plane is gone, for <paramref name="reason"/>.</summary>
    void ChildSaRemoved(IkeSa sa, ChildSaInfo info, string reason);
}
