using System.Collections.Immutable;
using System.Globalization;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Topology.Loading;

/// <summary>Reads one scenario, resolving node, link and tunnel references against the parsed topology.</summary>
internal sealed class ScenarioParser(ParseContext ctx, TopologySpec topology, YMap? nodesYaml, NodeParser nodeParser, string[] declaredNodes)
{
    private string _scenario = "";

    public ScenarioSpec? Parse(YScalar key, YNode body)
    {
        _scenario = key.Value;
        var what = $"scenario '{key.Value}'";
        var m = ctx.Map(body, what, TopologyKeys.Scenario);
        if (m is null) return null;
        var ok = true;
        var description = m.Has("description") ? ctx.Text(m["description"], "description") : null;
        var isDefault = m.Has("default") ? ctx.Bool(m["default"], "default") ?? false : false;
        var duration = m.Has("duration") ? ctx.Duration(m["duration"], "duration") : null;
        if (m.Has("duration") && duration is null) ok = false;
        var timeScale = m.Has("time-scale") ? ctx.Number(m["time-scale"], "time-scale", 0.001, 1000) : 1.0;
        if (timeScale is null) ok = false;

        var overrides = ImmutableArray.CreateBuilder<NodeSpec>();
        if (m["nodes"] is { } on)
        {
            if (on is not YMap om)
            {
                ctx.Error(on, $"nodes of {what} must be a mapping of node names to changed settings, found {on.Describe()}", "write 'client: { default-gateway: 192.168.29.52 }'");
                ok = false;
            }
            else
            {
                foreach (var (nk, nv) in om.Entries)
                {
                    if (nodesYaml?[nk.Value] is not YMap baseMap)
                    {
                        if (nodesYaml?[nk.Value] is null) UnknownNode(nk, nk.Value, $"{what} overrides");
                        ok = false;
                        continue;
                    }
                    if (nv is not YMap ovm)
                    {
                        ctx.Error(nv, $"override of node '{nk.Value}' must be a mapping, found {nv.Describe()}", "write the keys that change, e.g. '{ default-gateway: 192.168.29.52 }'");
                        ok = false;
                        continue;
                    }
                    var n = nodeParser.Parse(nk, YMap.Merge(baseMap, ovm));
                    if (n is null) ok = false;
                    else overrides.Add(n with { Location = nk.At });
                }
            }
        }
        var view = topology with { Nodes = [.. topology.Nodes.Select(n => overrides.FirstOrDefault(o => o.Name == n.Name) ?? n)] };

        var traffic = ImmutableArray.CreateBuilder<TrafficSpec>();
        var trafficBroken = false;
        foreach (var item in ctx.List(m["traffic"], "traffic"))
        {
            var t = Traffic(item, view);
            if (t is null) trafficBroken = true;
            else traffic.Add(t);
        }
        ok &= !trafficBroken;
        var expect = ExpectationSpec.Empty(body.At);
        if (m["expect"] is { } en)
        {
            var e = Expect(en, traffic, view, trafficBroken);
            if (e is null) ok = false;
            else expect = e;
        }
        var faults = ImmutableArray.CreateBuilder<FaultSpec>();
        foreach (var item in ctx.List(m["faults"], "faults"))
        {
            var f = Fault(item, view, duration);
            if (f is null) ok = false;
            else faults.Add(f);
        }
        if (!ok) return null;
        return new ScenarioSpec(key.Value, description, isDefault, traffic.ToImmutable(), expect, faults.ToImmutable(), duration, timeScale!.Value, overrides.ToImmutable(), key.At);
    }

    private void UnknownNode(YNode at, string name, string where)
    {
        var near = Suggest.Closest(name, declaredNodes);
        ctx.Error(at, $"{where} unknown node '{name}'", near is not null ? $"did you mean '{near}'?" : $"nodes are: {string.Join(", ", declaredNodes)}");
    }

    private string? NodeRef(YNode? node, string what)
    {
        if (ctx.Text(node, what) is not { } n) return null;
        if (declaredNodes.Contains(n)) return topology.FindNode(n) is not null ? n : null;
        UnknownNode(node!, n, $"{what} in scenario '{_scenario}' names");
        return null;
    }

    private TrafficSpec? Traffic(YNode item, TopologySpec view)
    {
        var m = ctx.Map(item, "traffic item", TopologyKeys.TrafficItem);
        if (m is null) return null;
        if (m.Node.Entries.Count != 1)
        {
            ctx.Error(item, $"a traffic item holds exactly one of ping, udp or tcp, found {m.Node.Entries.Count} keys", "split it into one list item per kind of traffic");
            return null;
        }
        var (kindKey, body) = m.Node.Entries[0];
        var isPing = kindKey.Value == "ping";
        if (!isPing && kindKey.Value is not ("udp" or "tcp")) return null;
        var t = ctx.Map(body, kindKey.Value, isPing ? TopologyKeys.Ping : kindKey.Value == "udp" ? TopologyKeys.Udp : TopologyKeys.Tcp);
        if (t is null) return null;
        var ok = true;
        var fromNode = t.Required("from", "the node that sends, e.g. client");
        var from = NodeRef(fromNode, "from");
        var toNode = t.Required("to", "an address such as 10.0.10.4, or a node name");
        Ipv4Address? to = null;
        string? toText = ctx.Text(toNode, "to");
        if (toText is not null)
        {
            if (Ipv4Address.TryParse(toText, out var a)) to = a;
            else if (declaredNodes.Contains(toText))
            {
                if (view.FindNode(toText) is { } target) to = target.Interfaces.FirstOrDefault()?.Address;
            }
            else UnknownNode(toNode!, toText, $"to in scenario '{_scenario}' is not an IPv4 address and names");
        }
        var start = t.Has("start") ? ctx.Duration(t["start"], "start") : TimeSpan.Zero;
        if (from is null || to is null || start is null) return null;
        if (isPing)
        {
            var count = t.Has("count") ? ctx.Int(t["count"], "count", 1, TopologyLimits.MaxPingCount) : 4;
            var interval = t.Has("interval") ? ctx.Duration(t["interval"], "interval") : TimeSpan.FromSeconds(1);
            if (interval is { } iv && iv < TopologyLimits.MinPingInterval)
            {
                ctx.Error(t["interval"]!, $"ping interval {((YScalar)t["interval"]!).Value} is shorter than 1ms", "write 1ms or more, e.g. 1s or 200ms");
                ok = false;
            }
            else if (interval is { } iv2 && count is { } c && PingLength(start.Value, iv2, c) > TopologyLimits.MaxDuration)
            {
                ctx.Error(item, $"the pings of this item would last {Days(PingLength(start.Value, iv2, c))} ({c} every {((YScalar?)t["interval"])?.Value ?? "1s"}), longer than a day, the longest a lab runs",
                    $"send at most {Math.Max(1, (long)((TopologyLimits.MaxDuration - start.Value) / iv2))} pings at this interval, or shorten the interval");
                ok = false;
            }
            var defaultSize = view.FindNode(from) is HostSpec h ? h.DefaultPingSize : 56;
            var size = t.Has("size") ? ctx.Int(t["size"], "size", 0, 65_507) : defaultSize;
            var df = t.Has("df") ? ctx.Bool(t["df"], "df") : false;
            if (!ok || count is null || interval is null || size is null || df is null) return null;
            return new PingSpec(from, to.Value, toText!, start.Value, item.At, count.Value, interval.Value, size.Value, df.Value);
        }
        if (kindKey.Value == "tcp") return Tcp(t, item, from, to.Value, toText!, start.Value, view);
        var port = ctx.Int(t.Required("port", "the destination UDP port, e.g. 5001"), "port", 1, 65_535);
        var packets = t.Has("packets") ? ctx.Int(t["packets"], "packets", 1, 100_000_000) : 10;
        var usize = t.Has("size") ? ctx.Int(t["size"], "size", 0, 65_507) : 64;
        var rate = t.Has("rate") ? ctx.Number(t["rate"], "rate (packets per second)", 0.001, TopologyLimits.MaxUdpRate) : 10;
        if (port is null || packets is null || usize is null || rate is null) return null;
        if (rate.Value * (usize.Value + UdpIpHeaderBytes) > TopologyLimits.MaxUdpBytesPerSecond)
        {
            ctx.Error(t["rate"] ?? item, string.Create(CultureInfo.InvariantCulture, $"rate {rate.Value} of {usize.Value}-byte datagrams is more than a gigabit per second, the most a lab flow sends"),
                string.Create(CultureInfo.InvariantCulture, $"send at most {Math.Floor(TopologyLimits.MaxUdpBytesPerSecond / (usize.Value + UdpIpHeaderBytes))} datagrams of this size per second"));
            return null;
        }
        var sending = start.Value + TimeSpan.FromSeconds(Math.Min(packets.Value / rate.Value, TimeSpan.MaxValue.TotalSeconds / 2));
        if (sending > TopologyLimits.MaxDuration)
        {
            ctx.Error(item, string.Create(CultureInfo.InvariantCulture, $"the datagrams of this item would take {Days(sending)} to send ({packets.Value} at {rate.Value} per second), longer than a day, the longest a lab runs"),
                string.Create(CultureInfo.InvariantCulture, $"send at most {Math.Max(1, Math.Floor((TopologyLimits.MaxDuration - start.Value).TotalSeconds * rate.Value))} datagrams at this rate, or raise the rate"));
            return null;
        }
        return new UdpSpec(from, to.Value, toText!, start.Value, item.At, (ushort)port.Value, packets.Value, usize.Value, rate.Value);
    }

    /// <summary>A TCP flow: a bulk transfer (bytes) or request/response (requests), from a host to a host that accepts it.</summary>
    private TcpSpec? Tcp(MapReader t, YNode item, string from, Ipv4Address to, string toText, TimeSpan start, TopologySpec view)
    {
        var ok = true;
        var port = ctx.Int(t.Required("port", "the destination TCP port, e.g. 5001"), "port", 1, 65_535);
        var bytes = t.Has("bytes") ? ctx.Int(t["bytes"], "bytes", 1, int.MaxValue) : null;
        var requests = t.Has("requests") ? ctx.Int(t["requests"], "requests", 1, 1_000_000) : null;
        var requestSize = t.Has("request-size") ? ctx.Int(t["request-size"], "request-size", 1, 1_000_000) : 100;
        var responseSize = t.Has("response-size") ? ctx.Int(t["response-size"], "response-size", 1, 100_000_000) : 1000;
        var limit = t.Has("limit") ? ctx.Duration(t["limit"], "limit") : TimeSpan.FromSeconds(30);
        if ((t.Has("bytes") && bytes is null) || (t.Has("requests") && requests is null) || requestSize is null || responseSize is null || port is null || limit is null) return null;
        if (t.Has("bytes") == t.Has("requests"))
        {
            ctx.Error(item, t.Has("bytes") ? "a tcp flow is either a bulk transfer (bytes) or request/response (requests), not both" : "a tcp flow needs bytes (a bulk transfer) or requests (request/response)",
                "e.g. '{ from: client, to: vm, port: 5001, bytes: 1000000 }' or '{ from: client, to: vm, port: 8080, requests: 20, request-size: 100, response-size: 4000 }'");
            ok = false;
        }
        if (!t.Has("requests") && (t.Has("request-size") || t.Has("response-size")))
        {
            ctx.Error(t["request-size"] ?? t["response-size"]!, "request-size and response-size belong to a request/response flow", "add requests, or remove them");
            ok = false;
        }
        if (limit <= TimeSpan.Zero)
        {
            ctx.Error(t["limit"]!, "the limit of a tcp flow must be longer than zero", "e.g. 30s");
            ok = false;
        }
        if (view.FindNode(from) is not HostSpec)
        {
            ctx.Error(t["from"]!, $"tcp traffic comes from a host, and '{from}' is not one", "send it from a node of kind host");
            ok = false;
        }
        // A host of the lab, or a real peer beyond an external interface (it must be outside the lab's own addresses).
        var owner = view.Nodes.FirstOrDefault(n => n.Interfaces.Any(i => i.Address == to));
        var outside = owner is null && view.Nodes.Any(n => n.Interfaces.Any(i => i.External is not null)) && !view.Nodes.Any(n => n.Interfaces.Any(i => i.Subnet.Contains(to)));
        if (owner is not HostSpec && !outside)
        {
            ctx.Error(t["to"]!, $"no host has the address {toText}, so nothing would accept the connection", "send it to a host's address or name (or, in a lab with an external interface, to a real peer's address outside the lab)");
            ok = false;
        }
        else if (outside && requests is not null)
        {
            ctx.Error(t["requests"]!, $"{toText} is outside the lab: a real peer there can receive a bulk transfer, but only a simulated host answers requests", "send it bytes: N instead");
            ok = false;
        }
        if (!ok) return null;
        return new TcpSpec(from, to, toText, start, item.At, (ushort)port.Value, bytes ?? 0, requests ?? 0, requests is null ? 0 : requestSize.Value, requests is null ? 0 : responseSize.Value, limit.Value);
    }


    /// <summary>The IPv4 and UDP headers around a datagram's payload.</summary>
    private const int UdpIpHeaderBytes = 28;

    private static TimeSpan PingLength(TimeSpan start, TimeSpan interval, int count) => TopologyLimits.PingLength(start, interval, count);

    private static string Days(TimeSpan t) => t.TotalDays >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalDays:0.#} days")
        : string.Create(CultureInfo.InvariantCulture, $"{t.TotalHours:0.#} hours");

    /// <param name="trafficBroken">A traffic item was reported: counts are not checked against what is left, which is not what the file meant.</param>
    private ExpectationSpec? Expect(YNode body, ImmutableArray<TrafficSpec>.Builder traffic, TopologySpec view, bool trafficBroken)
    {
        var m = ctx.Map(body, "expect", TopologyKeys.Expect);
        if (m is null) return null;
        var ok = true;
        var pings = traffic.OfType<PingSpec>().Sum(p => p.Count);
        var udps = traffic.OfType<UdpSpec>().Sum(p => p.Packets);
        var answered = m.Has("pings-answered") ? Count(m["pings-answered"]!, "pings-answered", pings, "ping", trafficBroken) : null;
        if (m.Has("pings-answered") && answered is null) ok = false;
        var delivered = m.Has("udp-delivered") ? Count(m["udp-delivered"]!, "udp-delivered", udps, "udp", trafficBroken) : null;
        if (m.Has("udp-delivered") && delivered is null) ok = false;
        var tcpFlows = traffic.OfType<TcpSpec>().Count();
        var completed = m.Has("tcp-completed") ? Count(m["tcp-completed"]!, "tcp-completed", tcpFlows, "tcp", trafficBroken) : null;
        if (m.Has("tcp-completed") && completed is null) ok = false;
        var tunnels = ImmutableArray.CreateBuilder<TunnelExpectation>();
        if (m["tunnel"] is { } tn)
        {
            var items = tn is YSeq s ? s.Items : [tn];
            var known = view.Nodes.OfType<AzureVpnGatewaySpec>().SelectMany(g => g.Connections.Select(c => c.Name))
                .Concat(view.Nodes.OfType<AzureVpnGatewaySpec>().Where(g => g.ActiveActive).SelectMany(g => g.Connections.Select(c => c.Name + AzureVpnGatewaySpec.SecondInstanceSuffix)))
                .Concat(view.Nodes.OfType<RrasSpec>().SelectMany(r => r.Vpns.Select(v => v.InterfaceName))).Distinct().ToArray();
            foreach (var item in items)
            {
                var t = ctx.Map(item, "tunnel expectation", TopologyKeys.TunnelExpectation);
                if (t is null) { ok = false; continue; }
                var name = t.Has("name") ? ctx.Text(t["name"], "tunnel name") : null;
                // A gateway that did not load has been reported already; its tunnels are not "unknown".
                if (name is not null && !known.Contains(name) && ctx.Broken.Count == 0)
                {
                    var near = Suggest.Closest(name, known);
                    ctx.Error(t["name"]!, $"tunnel '{name}' is neither an Azure connection nor an RRAS demand-dial interface", near is not null ? $"did you mean '{near}'?" : $"tunnels are: {string.Join(", ", known)}");
                    ok = false;
                }
                if (known.Length == 0 && ctx.Broken.Count == 0)
                {
                    ctx.Error(item, "the scenario expects a tunnel but the topology has no VPN", "add a vpn block to an rras node or connections to an azure-vpn-gateway");
                    ok = false;
                }
                var state = t.Has("state")
                    ? ctx.Choice(t["state"], "tunnel state", [("Connected", TunnelState.Connected), ("Connecting", TunnelState.Connecting), ("NotConnected", TunnelState.NotConnected)])
                    : TunnelState.Connected;
                var nat = t.Has("nat-detected") ? ctx.Bool(t["nat-detected"], "nat-detected") : null;
                if (state is null || (t.Has("nat-detected") && nat is null)) { ok = false; continue; }
                tunnels.Add(new TunnelExpectation(name, state.Value, nat, item.At));
            }
        }
        var bgp = BgpExpectations(m["bgp"], view, ref ok);
        var drops = DropBounds(m, "max-drops", ref ok);
        var minDrops = DropBounds(m, "min-drops", ref ok);
        FaultExpectation? faults = null;
        if (m.Has("faults"))
        {
            var f = ctx.Map(m["faults"], "faults expectation", TopologyKeys.FaultExpectation);
            if (f is null) ok = false;
            else
            {
                bool? B(string k) => f.Has(k) ? ctx.Bool(f[k], k) : null;
                int? I(string k) => f.Has(k) ? ctx.Int(f[k], k, 0, int.MaxValue) : null;
                var same = B("same-ike-sa");
                var moved = B("peer-endpoint-changed");
                var maxLost = I("max-pings-lost");
                var minLost = I("min-pings-lost");
                var within = f.Has("recovered-within") ? ctx.Duration(f["recovered-within"], "recovered-within") : null;
                var recovers = B("recovers");
                if ((f.Has("same-ike-sa") && same is null) || (f.Has("peer-endpoint-changed") && moved is null) || (f.Has("max-pings-lost") && maxLost is null)
                    || (f.Has("min-pings-lost") && minLost is null) || (f.Has("recovered-within") && within is null) || (f.Has("recovers") && recovers is null)) ok = false;
                faults = new FaultExpectation(same, moved, maxLost, minLost, within, recovers, m["faults"]!.At);
            }
        }
        if (!ok) return null;
        return new ExpectationSpec(answered, delivered, tunnels.ToImmutable(), drops, body.At) { MinDrops = minDrops, Faults = faults, TcpCompleted = completed, Bgp = bgp };
    }

    /// <summary>expect.bgp: one mapping or a list, each naming a gateway with BGP and optionally one of its peers.</summary>
    private ImmutableArray<BgpExpectation> BgpExpectations(YNode? node, TopologySpec view, ref bool ok)
    {
        if (node is null) return [];
        var result = ImmutableArray.CreateBuilder<BgpExpectation>();
        var speakers = view.Nodes.Where(n => n is RrasSpec { Bgp: not null } or AzureVpnGatewaySpec { Bgp: not null }).ToDictionary(n => n.Name);
        string[] states = ["Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"];
        foreach (var item in node is YSeq s ? s.Items : [node])
        {
            var b = ctx.Map(item, "bgp expectation", TopologyKeys.BgpExpectation);
            if (b is null) { ok = false; continue; }
            var name = ctx.Text(b.Required("node", "the gateway whose BGP sessions are checked"), "node");
            if (name is null) { ok = false; continue; }
            if (!speakers.TryGetValue(name, out var spec))
            {
                if (ctx.Broken.Contains(name)) { ok = false; continue; } // reported where the node is written
                var near = Suggest.Closest(name, [.. speakers.Keys]);
                ctx.Error(b["node"]!, $"node '{name}' does not speak BGP", speakers.Count == 0 ? "give an azure-vpn-gateway bgp-settings or an rras node a bgp block" : near is not null ? $"did you mean '{near}'?" : $"BGP speakers: {string.Join(", ", speakers.Keys)}");
                ok = false;
                continue;
            }
            string[] peers = spec is RrasSpec r ? [.. r.Bgp!.Peers.Select(p => p.Name)] : [.. ((AzureVpnGatewaySpec)spec).Connections.Where(c => c.EnableBgp).Select(c => c.Name)];
            var peer = b.Has("peer") ? ctx.Text(b["peer"], "peer") : null;
            if (peer is not null && !peers.Contains(peer))
            {
                var near = Suggest.Closest(peer, peers);
                ctx.Error(b["peer"]!, $"'{peer}' is not a BGP peer of node '{name}'", near is not null ? $"did you mean '{near}'?" : $"its peers (BGP connections or Add-BgpPeer names): {string.Join(", ", peers)}");
                ok = false;
            }
            var index = b.Has("state") ? ctx.Choice(b["state"], "bgp state", [.. states.Select((x, i) => (x, i))]) : states.Length - 1;
            var state = index is { } i ? states[i] : null;
            var min = b.Has("min-routes-received") ? ctx.Int(b["min-routes-received"], "min-routes-received", 0, 1_000_000) : null;
            var learned = ctx.Prefixes(b["learned"], "learned prefix");
            var notLearned = ctx.Prefixes(b["not-learned"], "not-learned prefix");
            if (state is null || (b.Has("min-routes-received") && min is null)) { ok = false; continue; }
            result.Add(new BgpExpectation(name, peer, state, min, [.. learned], [.. notLearned], item.At));
        }
        return result.ToImmutable();
    }

    /// <summary>A max-drops or min-drops mapping: a bound per drop reason.</summary>
    private ImmutableDictionary<string, int> DropBounds(MapReader m, string key, ref bool ok)
    {
        var bounds = ImmutableDictionary.CreateBuilder<string, int>();
        if (ctx.Map(m[key], key, DropReasons.All) is { } dm)
            foreach (var (k, v) in dm.Node.Entries)
            {
                if (!DropReasons.All.Contains(k.Value)) { ok = false; continue; }
                if (ctx.Int(v, $"{key} {k.Value}", 0, int.MaxValue) is { } n) bounds[k.Value] = n;
                else ok = false;
            }
        else if (m.Has(key)) ok = false;
        return bounds.ToImmutable();
    }

    private CountExpectation? Count(YNode node, string what, int sent, string kind, bool trafficBroken)
    {
        if (ctx.Text(node, what) is not { } text) return null;
        if (sent == 0)
        {
            if (trafficBroken) return null;
            ctx.Error(node, $"{what} is expected but the scenario sends no {kind} traffic", $"add a {kind} item under traffic, or remove {what}");
            return null;
        }
        var t = text.Replace(" ", "", StringComparison.Ordinal);
        (CountComparison Op, string Number) parsed = t switch
        {
            "all" => (CountComparison.All, "0"),
            "none" => (CountComparison.Equal, "0"),
            _ when t.StartsWith(">=", StringComparison.Ordinal) => (CountComparison.AtLeast, t[2..]),
            _ when t.StartsWith("<=", StringComparison.Ordinal) => (CountComparison.AtMost, t[2..]),
            _ when t.StartsWith("==", StringComparison.Ordinal) => (CountComparison.Equal, t[2..]),
            _ when t.StartsWith('>') => (CountComparison.MoreThan, t[1..]),
            _ when t.StartsWith('<') => (CountComparison.LessThan, t[1..]),
            _ => (CountComparison.Equal, t),
        };
        if (!int.TryParse(parsed.Number, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            ctx.Error(node, $"{what} '{text}' is not a count condition", "write all, none, a number, or a comparison such as \">= 3\"");
            return null;
        }
        var possible = parsed.Op switch
        {
            CountComparison.Equal or CountComparison.AtLeast => value <= sent,
            CountComparison.MoreThan => value < sent,
            CountComparison.LessThan => value > 0,
            _ => true,
        };
        if (!possible)
        {
            if (trafficBroken) return null;
            ctx.Error(node, $"{what} '{text}' can never hold: the scenario sends {sent} {kind} packets", $"use a count up to {sent}, or 'all'");
            return null;
        }
        return new CountExpectation(parsed.Op, value, text, node.At);
    }

    private FaultSpec? Fault(YNode item, TopologySpec view, TimeSpan? duration)
    {
        var m = ctx.Map(item, "fault", TopologyKeys.Fault);
        if (m is null) return null;
        var ok = true;
        var at = ctx.Duration(m.Required("at", "when the fault happens, e.g. 5s"), "at");
        if (at is { } a && duration is { } d && a > d)
        {
            ctx.Error(m["at"]!, $"fault at {((YScalar)m["at"]!).Value} comes after the scenario's end ({d.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s)", "move it earlier or lengthen duration");
            ok = false;
        }
        var faultNode = m.Required("fault", $"faults: {string.Join(", ", FaultCatalog.Names)}");
        FaultKind? kind = null;
        if (ctx.Text(faultNode, "fault") is { } fname)
        {
            var index = Array.IndexOf(TopologyKeys.FaultNames, fname);
            if (index >= 0) kind = (FaultKind)index;
            else
            {
                var near = Suggest.Closest(fname, TopologyKeys.FaultNames);
                ctx.Error(faultNode!, $"unknown fault '{fname}'", near is not null ? $"did you mean '{near}'?" : $"faults: {string.Join(", ", TopologyKeys.FaultNames)}");
            }
        }
        var node = m.Has("node") ? NodeRef(m["node"], "fault node") : null;
        if (m.Has("node") && node is null) ok = false;
        string? link = null;
        if (m.Has("link") && ctx.Text(m["link"], "link") is { } lt)
        {
            var found = view.Links.FirstOrDefault(l => l.Name == lt || l.Endpoints.Any(e => e.ToString() == lt));
            if (found is null)
            {
                var names = view.Links.Select(l => l.Name).ToArray();
                var near = Suggest.Closest(lt, names);
                ctx.Error(m["link"]!, $"fault link '{lt}' is not a link", near is not null ? $"did you mean '{near}'?" : "name a segment or one end of a link, e.g. \"isp-router:wan\"");
                ok = false;
            }
            else link = found.Name;
        }
        else if (m.Has("link")) ok = false;
        var parameters = ImmutableDictionary.CreateBuilder<string, string>();
        if (m["params"] is { } p)
        {
            if (p is YMap pmap)
            {
                foreach (var (k, v) in pmap.Entries)
                    if (ctx.Text(v, $"fault parameter '{k.Value}'") is { } s) parameters[k.Value] = s;
                    else ok = false;
                if (kind is { } fk)
                {
                    foreach (var (name, problem, hint) in FaultValues.Check(fk, parameters))
                    {
                        var at2 = pmap.Entries.First(e => e.Key.Value == name);
                        ctx.Error(problem.StartsWith("fault", StringComparison.Ordinal) ? at2.Key : at2.Value, problem, hint);
                        ok = false;
                    }
                }
            }
            else
            {
                ctx.Error(p, $"params must be a mapping, found {p.Describe()}", "write '{ name: value }'");
                ok = false;
            }
        }
        if (kind is { } k2)
        {
            var info = FaultCatalog.Of(k2);
            switch (info.Target)
            {
                case FaultTarget.NatRouter:
                    if (!m.Has("node")) { ctx.Error(item, $"fault '{info.Name}' needs the NAT node", "add 'node: isp-router'"); ok = false; }
                    else if (node is not null && view.FindNode(node) is { } n && n is not NatRouterSpec)
                    {
                        ctx.Error(m["node"]!, $"fault '{info.Name}' needs a nat-router, and '{node}' is a {n.Kind}", "name a node of kind nat-router");
                        ok = false;
                    }
                    break;
                case FaultTarget.Link when !m.Has("link"):
                    ctx.Error(item, $"fault '{info.Name}' needs a link", "add 'link: <segment name or node:interface>'");
                    ok = false;
                    break;
                case FaultTarget.Node when !m.Has("node"):
                    ctx.Error(item, $"fault '{info.Name}' needs a node", "add 'node: <node name>'");
                    ok = false;
                    break;
                case FaultTarget.Gateway:
                    if (!m.Has("node")) { ctx.Error(item, $"fault '{info.Name}' needs a VPN gateway", "add 'node: azure-gw' (an rras or azure-vpn-gateway node)"); ok = false; }
                    else if (node is not null && view.FindNode(node) is { } g && g is not (RrasSpec or AzureVpnGatewaySpec))
                    {
                        ctx.Error(m["node"]!, $"fault '{info.Name}' needs a VPN gateway, and '{node}' is a {g.Kind}", "name a node of kind rras or azure-vpn-gateway");
                        ok = false;
                    }
                    break;
                case FaultTarget.LinkOrNode when m.Has("link") == m.Has("node"):
                    ctx.Error(item, $"fault '{info.Name}' needs either a link or a node", "add 'link: <link>' to cut one link, or 'node: <node>' to cut every link of the node");
                    ok = false;
                    break;
            }
        }
        if (!ok || at is null || kind is null) return null;
        return new FaultSpec(at.Value, kind.Value, node, link, parameters.ToImmutable(), item.At);
    }
}
