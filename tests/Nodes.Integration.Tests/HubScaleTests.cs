using Nodes.Host;
using Nodes.Ike.Proposals;

namespace Nodes.Integration.Tests;

/// <summary>
/// A few hundred branches dialing one hub at once, as the scale run does with thousands: the shape of the figures, not
/// their speed (speed is for the benchmark): every tunnel up, a ping through each, no retransmission storm.
/// </summary>
public class HubScaleTests
{
    [Fact]
    public void Two_hundred_branches_dialing_at_once_must_all_come_up_without_a_retransmission_storm()
    {
        const int branches = 200;
        var r = HubScaleRun.Run(branches, ProposalText.Parse("aes128-sha256-x25519", forIke: true), seed: 5);
        Assert.Equal(branches, r.TunnelsUp);
        Assert.Equal(branches, r.PingsAnswered);
        // A storm is more retransmissions than tunnels: every initiator repeating itself into an overloaded hub.
        Assert.True(r.IkeRetransmissions < branches, $"{r.IkeRetransmissions} IKE retransmissions for {branches} tunnels");
        // Paced, not repeated: the hub paid one key exchange per tunnel, and no exchange after IKE_SA_INIT timed out
        // behind the queue of new ones.
        Assert.Equal(branches, r.HubKeyExchanges);
        Assert.Equal(0, r.IkeRetransmissions - r.InitRetransmissions);
        Assert.True(r.ManagedBytes > 0 && r.ManagedBytesBeforeTraffic > 0 && r.ManagedBytesBeforeTraffic < r.ManagedBytes,
            $"memory before traffic {r.ManagedBytesBeforeTraffic} B, after {r.ManagedBytes} B");
        Assert.True(r.UpAt >= r.TunnelsUpAt && r.TunnelsUpAt >= r.Built);
    }
}
