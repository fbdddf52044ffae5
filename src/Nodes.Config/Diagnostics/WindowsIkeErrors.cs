namespace Nodes.Config.Diagnostics;

/// <summary>One Windows IKE error (winerror.h), as Azure's gateway logs name it: <c>13801(ERROR_IPSEC_IKE_AUTH_FAIL)</c>.</summary>
public sealed record WindowsIkeError(int Code, string Name, string Message)
{
    /// <summary>The form of Azure's IKEErrors.txt: <c>13801(ERROR_IPSEC_IKE_AUTH_FAIL)</c>.</summary>
    public override string ToString() => $"{Code}({Name})";
}

/// <summary>
/// The Windows IKE error codes the Azure VPN gateway reports (it runs Windows IKEEXT), and which IKEv2 failure of a
/// simulated gateway stands for which. Sources: Network Watcher's VPN troubleshoot overview (IKEErrors.txt: 13801
/// ERROR_IPSEC_IKE_AUTH_FAIL, 13843 ERROR_IPSEC_IKE_INVALID_PAYLOAD; IKElogs.txt: error 13868 with "Policy Mismatch";
/// Scrubbed-wfpdiag.txt: 0x000035e9 "IKE authentication credentials are unacceptable"), winerror.h's IKE block
/// (13805 TIMED_OUT, 13865 INVALID_GROUP, 13868 POLICY_MATCH), Azure's self-help form (0x0000363e
/// PEER_MM_ASSUMED_INVALID) and a customer's IKEDiagnosticLog line for 13885.
/// </summary>
public static class WindowsIkeErrors
{
    public static readonly WindowsIkeError AuthFail = new(13801, "ERROR_IPSEC_IKE_AUTH_FAIL", "IKE authentication credentials are unacceptable");
    public static readonly WindowsIkeError TimedOut = new(13805, "ERROR_IPSEC_IKE_TIMED_OUT", "Negotiation timed out");
    public static readonly WindowsIkeError InvalidPayload = new(13843, "ERROR_IPSEC_IKE_INVALID_PAYLOAD", "Invalid payload received");
    public static readonly WindowsIkeError InvalidGroup = new(13865, "ERROR_IPSEC_IKE_INVALID_GROUP", "Invalid Diffie-Hellman group");
    public static readonly WindowsIkeError PolicyMatch = new(13868, "ERROR_IPSEC_IKE_POLICY_MATCH", "Policy match error");
    public static readonly WindowsIkeError MainModeDeleted = new(13885, "ERROR_IPSEC_IKE_MM_DELETED", "Main mode SA lifetime expired or peer sent a main mode delete.");
    public static readonly WindowsIkeError PeerMmAssumedInvalid = new(13886, "ERROR_IPSEC_IKE_PEER_MM_ASSUMED_INVALID", "Main mode SA assumed to be invalid because peer stopped responding");

    /// <summary>Every error of the table, by code.</summary>
    public static IReadOnlyList<WindowsIkeError> All { get; } = [AuthFail, TimedOut, InvalidPayload, InvalidGroup, PolicyMatch, MainModeDeleted, PeerMmAssumedInvalid];

    /// <summary>
    /// The Windows error an IKEv2 failure of the gateway stands for: the RFC 7296 notify it carries
    /// (AUTHENTICATION_FAILED, NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, INVALID_KE_PAYLOAD, INVALID_SYNTAX), or a peer that
    /// stopped answering; null for a failure Windows has no code for here.
    /// </summary>
    public static WindowsIkeError? For(IkeFailureKind kind) => kind switch
    {
        IkeFailureKind.Authentication => AuthFail,
        IkeFailureKind.NoProposalChosen or IkeFailureKind.TrafficSelectors => PolicyMatch,
        IkeFailureKind.KeyExchangeGroup => InvalidGroup,
        IkeFailureKind.InvalidSyntax => InvalidPayload,
        IkeFailureKind.NoAnswer => TimedOut,
        IkeFailureKind.DeadPeer => PeerMmAssumedInvalid,
        IkeFailureKind.Deleted => MainModeDeleted,
        _ => null,
    };
}
