using System.Globalization;
using System.Text;

namespace Nodes.Host;

/// <summary>
/// What a member remembers of its earlier runs at the same address, in a small file of the machine's (or container's)
/// temporary folder: how many times it has started there, and when it was last alive. It answers two questions at
/// start:
/// <list type="bullet">
/// <item>Which incarnation this is: a restarted device draws fresh random numbers (SPIs, nonces, key shares), so
/// every node of the member starts its seeded streams from this number instead of from the first run's.</item>
/// <item>How long to wait before binding the address: a member that crashed is still in the cluster until the others
/// find it unreachable and the split-brain resolver downs and removes it. A new incarnation heard on the same address
/// before that removal is hurt by it: removing the old incarnation quarantines its UID, and Akka.NET's classic
/// remoting then stops the association to that address whatever UID it now carries, so members that had already
/// reached the new incarnation lose it (and may be downed). The new incarnation therefore stays silent until the old
/// one must have been removed: its last sign of life plus the failure detector's pause, the resolver's stable-after and
/// a margin. A member that left the cluster gracefully is gone at once, and the next start does not wait.</item>
/// </list>
/// </summary>
public sealed class MemberIncarnation : IDisposable
{
    /// <summary>How often the member writes that it is alive.</summary>
    public static readonly TimeSpan AliveEvery = TimeSpan.FromSeconds(2);

    private readonly string? _file;
    private readonly Timer _alive;
    private readonly Lock _gate = new();
    private bool _closed;

    private MemberIncarnation(string? file, int number, TimeSpan wait)
    {
        _file = file;
        Number = number;
        Wait = wait;
        _alive = new Timer(_ => Write(left: false), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>0 for the first run at this address, then one more per start.</summary>
    public int Number { get; }

    /// <summary>How long the member should stay silent before it binds its address (zero on a first or clean start).</summary>
    public TimeSpan Wait { get; }

    /// <summary>
    /// No record: for a member on port 0, whose address is new every run (nothing of an earlier run can be mistaken
    /// for it, and runs on port 0 must not share one record).
    /// </summary>
    public static MemberIncarnation Unrecorded() => new(null, 0, TimeSpan.Zero);

    /// <summary>The file that keeps the record of the member at <paramref name="address"/>.</summary>
    public static string FileFor(string address, string? folder = null)
    {
        var name = new StringBuilder("nodes-member-");
        foreach (var c in address) name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_');
        return Path.Combine(folder ?? Path.GetTempPath(), name.Append(".state").ToString());
    }

    /// <summary>
    /// Reads the record of earlier runs at <paramref name="address"/> and works out this run's number and wait
    /// (<paramref name="removalTime"/>: how long the cluster takes to remove a member that fell silent).
    /// </summary>
    public static MemberIncarnation Begin(string address, TimeSpan removalTime, DateTimeOffset now, string? folder = null)
    {
        var file = FileFor(address, folder);
        var number = 0;
        var wait = TimeSpan.Zero;
        if (Read(file) is { } earlier)
        {
            number = earlier.Number + 1;
            if (!earlier.Left)
            {
                // Never longer than the removal time: a record claiming a sign of life in the future (a wrong clock, or a
                // file someone else put in a shared temporary folder) cannot hold the member back for longer.
                var removed = earlier.LastAlive + removalTime;
                if (removed > now) wait = removed - now < removalTime ? removed - now : removalTime;
            }
        }
        return new MemberIncarnation(file, number, wait);
    }

    /// <summary>Writes now, and then every <see cref="AliveEvery"/>, that the member is alive.</summary>
    public void StartBeating()
    {
        Write(left: false);
        _alive.Change(AliveEvery, AliveEvery);
    }

    /// <summary>The member left the cluster gracefully: the next start need not wait.</summary>
    public void Left()
    {
        _alive.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Write(left: true);
        lock (_gate) _closed = true;
    }

    public void Dispose() => _alive.Dispose();

    private void Write(bool left)
    {
        lock (_gate)
        {
            if (_closed || _file is null) return;
            try
            {
                var text = string.Create(CultureInfo.InvariantCulture, $"incarnation {Number}\nlast-alive {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}\nleft {(left ? "yes" : "no")}\n");
                // A new file of an unpredictable name, never one that is already there: in a shared temporary folder a
                // name fixed in advance could be a link someone else planted to a file of the member's user.
                var temporary = $"{_file}.{Guid.NewGuid():n}";
                using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
                using (var writer = new StreamWriter(stream)) writer.Write(text);
                File.Move(temporary, _file, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Without a writable temporary folder the member runs as before: no wait and the first run's numbers.
            }
        }
    }

    private sealed record Earlier(int Number, DateTimeOffset LastAlive, bool Left);

    private static Earlier? Read(string file)
    {
        try
        {
            if (!File.Exists(file)) return null;
            int? number = null;
            long? alive = null;
            bool? left = null;
            foreach (var line in File.ReadAllLines(file))
            {
                var parts = line.Split(' ', 2);
                if (parts.Length != 2) continue;
                switch (parts[0])
                {
                    case "incarnation" when int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n): number = n; break;
                    case "last-alive" when long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ms): alive = ms; break;
                    case "left": left = parts[1] == "yes"; break;
                }
            }
            // A record that is not whole (cut by a crash while written) is as good as none.
            return number is { } num && alive is { } a && left is { } l && num < int.MaxValue
                ? new Earlier(num, DateTimeOffset.FromUnixTimeMilliseconds(a), l)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
