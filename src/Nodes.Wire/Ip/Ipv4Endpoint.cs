using System.Globalization;

namespace Nodes.Wire.Ip;

/// <summary>An IPv4 address and a transport port: one end of a UDP flow (IKE's 500/4500, a NAT mapping).</summary>
public readonly record struct Ipv4Endpoint(Ipv4Address Address, ushort Port)
{
    /// <summary>Parses "192.168.29.52:4500".</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Ipv4Endpoint endpoint)
    {
        endpoint = default;
        var colon = text.LastIndexOf(':');
        if (colon <= 0) return false;
        if (!Ipv4Address.TryParse(text[..colon], out var address)) return false;
        if (!ushort.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)) return false;
        endpoint = new Ipv4Endpoint(address, port);
        return true;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Address}:{Port}");
}
