using Nodes.Host;

namespace Nodes.Config.Tests;

/// <summary>An imported lab runs its default scenario in this process, every message serialized as across processes.</summary>
public class ImportedLabRunTests
{
    [Theory]
    [InlineData("rras-azure-script.ps1", "vpn-connection-show.json", "lng-show.json")]
    [InlineData("rras-azure-script.ps1")]
    [InlineData("azure-connection.ps1")]
    [InlineData("main.tf")]
    [InlineData("arm-template.json")]
    [InlineData("vpn-connection-show.json")]
    [InlineData("get-vpns2sinterface.txt", "vpn-connection-show.json", "lng-show.json")]
    public async Task The_default_scenario_of_an_imported_lab_must_bring_the_tunnel_up_and_answer_every_ping(params string[] files)
    {
        var (_, t) = Fixture.ImportValid(files);
        Assert.True(t.TrySelectScenario(null, out var s, out var error), error);
        var summary = await LabRunner.RunAsync(t, s!, new RunOptions { SerializeAllMessages = true, Count = 2 });
        Assert.True(summary.Ok, summary.ToJson());
        Assert.Equal(2, summary.Pings.Received);
        Assert.All(summary.Tunnels, x => Assert.Equal("Connected", x.State));
    }
}
