using System.Globalization;

namespace Nodes.Net.Links;

/// <summary>
/// The impairments of one direction of a link, named and measured as tc-netem(8) names them:
/// delay with jitter and correlation, loss with correlation, duplicate, reorder with correlation and
/// gap, corrupt, rate with a queue limit in packets, plus the link MTU and up/down state. Percentages
/// are 0..100, correlations too (netem's "25%"). The default value impairs nothing.
/// </summary>
public sealed record LinkImpairments
{
    /// <summary>An unimpaired, up link without an MTU limit.</summary>
    public static LinkImpairments None { get; } = new();

    /// <summary>netem "delay TIME": fixed one-way delay.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>netem "delay TIME JITTER": the delay varies uniformly within ± this.</summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>netem "delay TIME JITTER CORRELATION", percent: how much each delay draw leans on the last.</summary>
    public double DelayCorrelation { get; init; }

    /// <summary>netem "loss random PERCENT".</summary>
    public double Loss { get; init; }

    /// <summary>netem "loss PERCENT CORRELATION", percent.</summary>
    public double LossCorrelation { get; init; }

    /// <summary>netem "duplicate PERCENT": a second copy is sent too.</summary>
    public double Duplicate { get; init; }

    /// <summary>netem "reorder PERCENT": the chosen frames skip the delay and so overtake those queued before them.</summary>
    public double Reorder { get; init; }

    /// <summary>netem "reorder PERCENT CORRELATION", percent.</summary>
    public double ReorderCorrelation { get; init; }

    /// <summary>netem "gap N": only every N-th frame may be reordered (tc uses 1 when reorder is given without gap).</summary>
    public int ReorderGap { get; init; } = 1;

    /// <summary>netem "corrupt PERCENT": one random bit of the frame is flipped.</summary>
    public double Corrupt { get; init; }

    /// <summary>netem "rate RATE" in bits per second: each frame is serialized for length×8/rate after the one before; 0 = unlimited.</summary>
    public long RateBitsPerSecond { get; init; }

    /// <summary>netem "limit PACKETS": frames waiting for or in serialization beyond this are dropped (netem's default 1000).</summary>
    public int Limit { get; init; } = 1000;

    /// <summary>Largest frame the link carries; larger ones are dropped as link-mtu. Null = no limit.</summary>
    public int? Mtu { get; init; }

    /// <summary>False drops every frame as link-down.</summary>
    public bool Up { get; init; } = true;

    /// <summary>
    /// True when every frame within the MTU is delivered at once, once and unchanged: up, and no delay, jitter, loss,
    /// duplicate, reorder, corrupt or rate limit.
    /// </summary>
    public bool DeliversUnchanged =>
        Up && Delay <= TimeSpan.Zero && Jitter <= TimeSpan.Zero && Loss <= 0 && Duplicate <= 0 && Reorder <= 0 && Corrupt <= 0
        && RateBitsPerSecond <= 0 && Limit > 0;

    /// <summary>
    /// Parses a netem-style argument list, e.g. "delay 50ms 10ms 25% loss 1% 30% duplicate 1%
    /// reorder 25% 50% gap 5 corrupt 0.1% rate 100mbit limit 100 mtu 1500 down". Throws
    /// <see cref="FormatException"/> on anything it does not understand (configuration is trusted input).
    /// </summary>
    public static LinkImpairments Parse(string text)
    {
        var tokens = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var result = new LinkImpairments();
        var i = 0;
        bool NextIsPercent() => i < tokens.Length && tokens[i].EndsWith('%');
        bool NextIsTime() => i < tokens.Length && TryParseTime(tokens[i], out _);
        string Take(string what) => i < tokens.Length ? tokens[i++] : throw new FormatException($"'{what}' needs a value");

        while (i < tokens.Length)
        {
            var keyword = tokens[i++];
            switch (keyword)
            {
                case "delay":
                    result = result with { Delay = ParseTime(Take(keyword)) };
                    if (NextIsTime()) result = result with { Jitter = ParseTime(tokens[i++]) };
                    if (NextIsPercent()) result = result with { DelayCorrelation = ParsePercent(tokens[i++]) };
                    break;
                case "loss":
                    if (i < tokens.Length && tokens[i] == "random") i++;
                    result = result with { Loss = ParsePercent(Take(keyword)) };
                    if (NextIsPercent()) result = result with { LossCorrelation = ParsePercent(tokens[i++]) };
                    break;
                case "duplicate":
                    result = result with { Duplicate = ParsePercent(Take(keyword)) };
                    break;
                case "reorder":
                    result = result with { Reorder = ParsePercent(Take(keyword)) };
                    if (NextIsPercent()) result = result with { ReorderCorrelation = ParsePercent(tokens[i++]) };
                    break;
                case "gap":
                    result = result with { ReorderGap = int.Parse(Take(keyword), NumberStyles.None, CultureInfo.InvariantCulture) };
                    break;
                case "corrupt":
                    result = result with { Corrupt = ParsePercent(Take(keyword)) };
                    break;
                case "rate":
                    result = result with { RateBitsPerSecond = ParseRate(Take(keyword)) };
                    break;
                case "limit":
                    result = result with { Limit = int.Parse(Take(keyword), NumberStyles.None, CultureInfo.InvariantCulture) };
                    break;
                case "mtu":
                    result = result with { Mtu = int.Parse(Take(keyword), NumberStyles.None, CultureInfo.InvariantCulture) };
                    break;
                case "down":
                    result = result with { Up = false };
                    break;
                case "up":
                    result = result with { Up = true };
                    break;
                default:
                    throw new FormatException($"unknown link impairment '{keyword}'");
            }
        }

        return result;
    }

    /// <summary>
    /// Parses a tc time (tc(8) "TIMES"): a decimal number followed by s/sec/secs, ms/msec/msecs or
    /// us/usec/usecs; a bare number is microseconds. Resolution is 100 ns (<see cref="TimeSpan"/> ticks).
    /// </summary>
    public static TimeSpan ParseTime(string text) =>
        TryParseTime(text, out var time) ? time : throw new FormatException($"'{text}' is not a tc time such as 50ms");

    /// <inheritdoc cref="ParseTime"/>
    public static bool TryParseTime(string text, out TimeSpan time)
    {
        time = default;
        if (!SplitNumber(text, out var number, out var unit)) return false;
        double ticksPerUnit = unit switch
        {
            "s" or "sec" or "secs" => TimeSpan.TicksPerSecond,
            "ms" or "msec" or "msecs" => TimeSpan.TicksPerMillisecond,
            "" or "us" or "usec" or "usecs" => TimeSpan.TicksPerMicrosecond,
            _ => -1,
        };
        if (ticksPerUnit < 0) return false;
        time = TimeSpan.FromTicks((long)Math.Round(number * ticksPerUnit));
        return true;
    }

    /// <summary>Parses "10%" or "0.5%" (the percent sign is required, as netem prints it) to 0..100.</summary>
    public static double ParsePercent(string text)
    {
        if (text.EndsWith('%')
            && double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            && value <= 100)
        {
            return value;
        }

        throw new FormatException($"'{text}' is not a percentage such as 10%");
    }

    /// <summary>
    /// Parses a tc rate (tc(8) "RATES") to bits per second: bit (or bare), kbit, mbit, gbit, tbit
    /// (powers of 1000); kibit, mibit, gibit, tibit (powers of 1024); bps, kbps, mbps, gbps, tbps
    /// and kibps, mibps, gibps, tibps in bytes per second.
    /// </summary>
    public static long ParseRate(string text)
    {
        if (!SplitNumber(text, out var number, out var unit)) throw new FormatException($"'{text}' is not a tc rate such as 100mbit");
        double factor = unit switch
        {
            "" or "bit" => 1,
            "kbit" => 1e3,
            "mbit" => 1e6,
            "gbit" => 1e9,
            "tbit" => 1e12,
            "kibit" => 1024,
            "mibit" => 1024.0 * 1024,
            "gibit" => 1024.0 * 1024 * 1024,
            "tibit" => 1024.0 * 1024 * 1024 * 1024,
            "bps" => 8,
            "kbps" => 8e3,
            "mbps" => 8e6,
            "gbps" => 8e9,
            "tbps" => 8e12,
            "kibps" => 8 * 1024,
            "mibps" => 8 * 1024.0 * 1024,
            "gibps" => 8 * 1024.0 * 1024 * 1024,
            "tibps" => 8 * 1024.0 * 1024 * 1024 * 1024,
            _ => throw new FormatException($"'{text}' has an unknown rate unit '{unit}'"),
        };
        var bits = Math.Round(number * factor);
        if (bits < 1) throw new FormatException($"'{text}' is below one bit per second");
        return (long)bits;
    }

    private static bool SplitNumber(string text, out double number, out string unit)
    {
        var end = 0;
        while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] == '.')) end++;
        unit = text[end..].ToLowerInvariant();
        return double.TryParse(text.AsSpan(0, end), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number) && number >= 0;
    }
}
