using Nodes.Topology.Loading;
using Nodes.Topology.Model;

namespace Nodes.Topology.Tests;

public class TcpScenarioTests
{
    private static string Lab => File.ReadAllText(Path.Combine(Labs.Folder, "tcp-mss.yaml"));

    private static List<string> Problems(string from, string to)
    {
        var result = TopologyLoader.LoadFromString(Lab.Replace(from, to, StringComparison.Ordinal), "tcp-mss.yaml");
        return result.Diagnostics.Select(d => $"{d.Location.Line}: {d.Message}").ToList();
    }

    [Fact]
    public void The_tcp_lab_must_load_its_flows_and_expectations()
    {
        var lab = TopologyLoader.LoadFromString(Lab, "tcp-mss.yaml").Topology!;
        Assert.True(lab.TrySelectScenario("clamped", out var clamped, out _));
        var flows = clamped!.Traffic.OfType<TcpSpec>().ToList();
        Assert.Equal(2, flows.Count);
        Assert.True(flows[0].IsBulk);
        Assert.Equal((5001, 300_000L, TimeSpan.FromSeconds(30)), (flows[0].Port, flows[0].Bytes, flows[0].Limit));
        Assert.Equal((10, 200, 6000, TimeSpan.FromSeconds(2)), (flows[1].Requests, flows[1].RequestSize, flows[1].ResponseSize, flows[1].Start));
        Assert.Equal(CountComparison.All, clamped.Expect.TcpCompleted!.Comparison);
        Assert.Equal(1350, ((AzureVpnGatewaySpec)lab.ForScenario(clamped).FindNode("azure-gw")!).MssClamp);
        Assert.Null(((AzureVpnGatewaySpec)lab.FindNode("azure-gw")!).MssClamp);
    }

    [Theory]
    [InlineData("bytes and requests", "bytes: 300000, limit: 30s }", "bytes: 300000, requests: 3, limit: 30s }", "a tcp flow is either a bulk transfer (bytes) or request/response (requests), not both")]
    [InlineData("neither", "port: 5001, bytes: 300000, limit: 15s }", "port: 5001, limit: 15s }", "a tcp flow needs bytes (a bulk transfer) or requests (request/response)")]
    [InlineData("not a host", "tcp: { from: client, to: 10.0.10.4, port: 5001, bytes: 300000, limit: 30s }", "tcp: { from: client, to: 10.0.255.1, port: 5001, bytes: 300000, limit: 30s }", "no host has the address 10.0.255.1")]
    [InlineData("from a router", "tcp: { from: client, to: 10.0.10.4, port: 8080", "tcp: { from: vnet-router, to: 10.0.10.4, port: 8080", "tcp traffic comes from a host, and 'vnet-router' is not one")]
    [InlineData("zero port", "port: 8080, requests", "port: 0, requests", "port")]
    public void A_wrong_tcp_flow_must_be_refused_where_it_is_written(string description, string from, string to, string message)
    {
        var problems = Problems(from, to);
        Assert.True(problems.Exists(p => p.Contains(message, StringComparison.Ordinal)), $"{description}: {string.Join("; ", problems)}");
    }

    [Fact]
    public void Tcp_completed_without_tcp_traffic_must_be_refused()
    {
        var problems = Problems("    traffic:\n      - tcp: { from: client, to: 10.0.10.4, port: 5001, bytes: 300000, limit: 15s }\n    expect:\n      tcp-completed: all\n      tunnel: { name: home-rras, state: Connected }\n",
            "    expect:\n      tcp-completed: all\n");
        Assert.Contains(problems, p => p.Contains("tcp-completed is expected but the scenario sends no tcp traffic", StringComparison.Ordinal));
    }
}
