using Nodes.Crypto;
using Nodes.Ike;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;
using Proposal = Nodes.Ike.Proposals.Proposal;

namespace Nodes.Benchmarks;

/// <summary>
/// Two IKE engines in one process, joined directly (no NAT, no loss, one instant of time): the initiator's
/// datagrams go to <see cref="IkeSa.RespondToInit"/> and then to the responder's <see cref="IkeSa.Receive"/>, the
/// responder's back to the initiator, until both ends have the IKE SA and the Child SA of IKE_AUTH.
/// </summary>
public sealed class IkeHandshake
{
    public static readonly Ipv4Endpoint InitiatorEndpoint = new(Ipv4Address.Parse("192.0.2.10"), 500);
    public static readonly Ipv4Endpoint ResponderEndpoint = new(Ipv4Address.Parse("198.51.100.20"), 500);

    /// <summary>An IKE_SA_INIT + IKE_AUTH exchange rarely needs more than two round trips; this bounds a broken run.</summary>
    private const int MaxRounds = 8;

    private readonly DateTimeOffset _now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    /// <param name="ike">The IKE SA proposal both ends configure, in strongSwan syntax ("aes256-sha256-modp2048").</param>
    /// <param name="esp">The Child SA proposal both ends configure ("aes256gcm16").</param>
    /// <param name="environment">Randomness and key exchange for both ends.</param>
    public IkeHandshake(string ike, string esp, IkeEnvironment environment)
        : this([ProposalText.Parse(ike, forIke: true)], [ProposalText.Parse(esp, forIke: false)], environment)
    {
    }

    /// <param name="ike">The IKE SA proposals both ends configure, in order.</param>
    /// <param name="esp">The Child SA proposals both ends configure, in order.</param>
    /// <param name="environment">Randomness and key exchange for both ends.</param>
    public IkeHandshake(IReadOnlyList<Proposal> ike, IReadOnlyList<Proposal> esp, IkeEnvironment environment)
    {
        var psk = new SecretKey("benchmark pre-shared key"u8);
        Environment = environment;
        Initiator = Config("initiator", InitiatorEndpoint.Address, psk, ike, esp);
        Responder = Config("responder", ResponderEndpoint.Address, psk, ike, esp);
    }

    public IkeSaConfig Initiator { get; }

    public IkeSaConfig Responder { get; }

    public IkeEnvironment Environment { get; }

    private static IkeSaConfig Config(string name, Ipv4Address address, SecretKey psk, IReadOnlyList<Proposal> ike, IReadOnlyList<Proposal> esp) => new()
    {
        Name = name,
        LocalId = IkeIdentity.Address(address),
        SharedKey = psk,
        IkeProposals = ike,
        EspProposals = esp,
    };

    /// <summary>The first datagram the initiator sends: its IKE_SA_INIT request, as bytes on the wire.</summary>
    public byte[] InitRequest()
    {
        using var initiator = IkeSa.CreateInitiator(Initiator, Environment, InitiatorEndpoint, ResponderEndpoint);
        initiator.Start(_now);
        return initiator.TakeOutputs().OfType<IkeSend>().First().Message;
    }

    /// <summary>Runs IKE_SA_INIT and IKE_AUTH to the end and returns the SPI of the Child SA both ends installed.</summary>
    public uint Establish()
    {
        using var initiator = IkeSa.CreateInitiator(Initiator, Environment, InitiatorEndpoint, ResponderEndpoint);
        IkeSa? responder = null;
        try
        {
            initiator.Start(_now);
            ChildSaInfo? initiatorChild = null;
            ChildSaInfo? responderChild = null;
            for (var round = 0; round < MaxRounds; round++)
            {
                foreach (var output in initiator.TakeOutputs())
                {
                    if (output is ChildSaUp up) initiatorChild = up.Sa;
                    else if (output is IkeSend send) responder = Deliver(send, responder);
                }
                if (responder is not null)
                {
                    foreach (var output in responder.TakeOutputs())
                    {
                        if (output is ChildSaUp up) responderChild = up.Sa;
                        else if (output is IkeSend send) initiator.Receive(send.Message, send.From, send.To, _now);
                    }
                }
                if (initiatorChild is not null && responderChild is not null)
                {
                    if (initiator.State != IkeSaState.Established || responder!.State != IkeSaState.Established)
                        throw new InvalidOperationException($"Child SAs are up but the IKE SA is {initiator.State} / {responder!.State}");
                    if (initiatorChild.OutboundSpi != responderChild.InboundSpi)
                        throw new InvalidOperationException("the two ends disagree on the Child SA's SPIs");
                    return responderChild.InboundSpi;
                }
            }
            throw new InvalidOperationException($"no Child SA after {MaxRounds} rounds: initiator {initiator.State}, responder {responder?.State}");
        }
        finally
        {
            responder?.Dispose();
        }
    }

    private IkeSa Deliver(IkeSend send, IkeSa? responder)
    {
        if (responder is not null)
        {
            responder.Receive(send.Message, send.From, send.To, _now);
            return responder;
        }
        if (!IkeMessage.TryParse(send.Message, out var request, out var error))
            throw new InvalidOperationException($"the initiator's IKE_SA_INIT does not parse: {error}");
        return IkeSa.RespondToInit(Responder, Environment, request!, send.Message, send.From, send.To, _now, out _, out var refusal)
            ?? throw new InvalidOperationException($"the responder refused IKE_SA_INIT: {refusal}");
    }
}
