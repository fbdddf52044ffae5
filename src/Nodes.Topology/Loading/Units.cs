using System.Globalization;

namespace Nodes.Topology.Loading;

/// <summary>tc-netem's units: times (us, ms, s; plus m and h for scenario times), percentages and rates.</summary>
internal static class Units
{
    public static bool TryDuration(string text, out TimeSpan value)
    {
        value = default;
        var t = text.Trim();
        (string Suffix, double Ticks)[] units =
        [
            ("us", TimeSpan.TicksPerMillisecond / 1000.0), ("ms", TimeSpan.TicksPerMillisecond), ("s", TimeSpan.TicksPerSecond),
            ("m", TimeSpan.TicksPerMinute), ("h", TimeSpan.TicksPerHour),
        ];
        foreach (var (suffix, ticks) in units)
        {
            if (!t.EndsWith(suffix, StringComparison.Ordinal)) continue;
            var number = t[..^suffix.Length];
            // "ms" also ends with "s"; a number part that fails to parse just tries the next unit.
            if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) || !double.IsFinite(n)) continue;
            var total = n * ticks;
            if (total > TimeSpan.MaxValue.Ticks) return false;
            value = TimeSpan.FromTicks((long)Math.Round(total));
            return true;
        }
        return false;
    }

    /// <summary>"0.1%" or a bare number meaning percent.</summary>
    public static bool TryPercent(string text, out double percent)
    {
        var t = text.Trim();
        if (t.EndsWith('%')) t = t[..^1];
        return double.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out percent) && double.IsFinite(percent);
    }

    /// <summary>tc's rate units (tc(8) "RATES"): bit/kbit/mbit/gbit are bits, bps/kbps/mbps/gbps are bytes per second.</summary>
    public static bool TryRate(string text, out long bitsPerSecond)
    {
        bitsPerSecond = 0;
        var t = text.Trim().ToLowerInvariant();
        (string Suffix, double Factor)[] units =
        [
            ("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3), ("bit", 1),
            ("gbps", 8e9), ("mbps", 8e6), ("kbps", 8e3), ("bps", 8),
        ];
        foreach (var (suffix, factor) in units)
        {
            if (!t.EndsWith(suffix, StringComparison.Ordinal)) continue;
            if (!double.TryParse(t[..^suffix.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) || !double.IsFinite(n)) return false;
            var bits = n * factor;
            if (bits > long.MaxValue) return false;
            bitsPerSecond = (long)Math.Round(bits);
            return true;
        }
        return false;
    }
}
