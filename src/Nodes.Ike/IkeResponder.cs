using Nodes.Crypto;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;

namespace Nodes.Ike;

/// <summary>A responder connection: the configuration used for IKE_SA_INIT from <paramref name="Peer"/>, or from anyone when null.</summary>
/// <summary>
/// A connection the responder answers IKE_SA_INIT for: from <paramref name="Peer"/> (any peer when null), and when
/// <paramref name="Local"/> is given only on that address of ours (one connection per instance of an active-active gateway).
/// </summary>
public sealed record IkeConnection(IkeSaConfig Config, Ipv4Address? Peer = null, Ipv4Address? Local = null);

/// <summary>Tuning of an <see cref="IkeResponder"/>.</summary>
public sealed record IkeResponderOptions
{
    /// <summary>
    /// Once this many IKE SAs are half-open (IKE_SA_INIT answered, no IKE_AUTH yet), new IKE_SA_INIT requests without
    /// a valid cookie get a stateless N(COOKIE) (RFC 7296 section 2.6). Null never asks for cookies.
    /// </summary>
    public int? CookieThreshold { get; init; } = 50;

    /// <summary>How long one cookie secret is used before a new one is drawn.</summary>
    public TimeSpan CookieSecretLifetime { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// When set, a new IKE_SA_INIT request that needs a key exchange waits in a queue of at most this many and is
    /// answered by <see cref="IkeResponder.RunQueued"/>, one at a time, so that the owner can serve the exchanges of SAs
    /// already under way (IKE_AUTH, answers from the cache) before the next key exchange: under a crowd of new
    /// initiators those SAs finish instead of timing out behind it. A copy of a queued request (the initiator
    /// retransmitted while it waited) is dropped, since the queued one gets the answer; a request beyond the bound
    /// is dropped and its initiator's retransmission comes back later. Null answers every request at once.
    /// </summary>
    public int? KeyExchangeQueue { get; init; }

    /// <summary>Answer a request for an unknown IKE SA with an unprotected N(INVALID_IKE_SPI) (RFC 7296 section 2.21.4).</summary>
    public bool ReportInvalidIkeSpi { get; init; }
}

/// <summary>One output of an IKE SA held by an <see cref="IkeResponder"/>, or of the responder itself when <paramref name="Sa"/> is null.</summary>
public sealed record IkeSaOutput(IkeSa? Sa, IkeOutput Output);

/// <summary>
/// The IKE endpoint of one device: it holds every IKE SA of the device, routes each received IKE message to its SA by
/// SPI (also the SPIs of an SA being rekeyed, until the old SA retires), answers new IKE_SA_INIT requests through
/// <see cref="IkeSa.RespondToInit"/> with the configuration of the peer's address, asks for cookies when too many SAs
/// are half-open, and drops messages for SAs it does not know with a reason. It also starts initiators
/// (<see cref="Initiate"/>), so that one table serves both roles. Pure: no sockets, no clock, no actors.
/// Not thread-safe: one owner drives it.
/// </summary>
public sealed class IkeResponder : IDisposable
{
    private readonly IkeEnvironment _env;
    private List<IkeConnection> _connections;
    private Dictionary<Ipv4Address, IkeConnection> _byPeer = [];
    private Dictionary<(Ipv4Address Peer, Ipv4Address Local), IkeConnection> _byPeerAndLocal = [];
    private IkeConnection? _default;
    private readonly IkeCookies _cookies;
    // Every SA with what the table keeps of it: the SPIs that route to it, its IKE_SA_INIT key while half-open.
    private readonly Dictionary<IkeSa, Entry> _sas = [];
    // Our own SPI of each IKE SA (SPIi where we initiated, SPIr where we responded) → the SA; retiring SPIs too.
    private readonly Dictionary<ulong, IkeSa> _bySpi = [];
    // Half-open responder SAs by the initiator's SPI and address, so that a retransmitted IKE_SA_INIT finds its SA.
    private readonly Dictionary<(ulong SpiI, Ipv4Endpoint From), IkeSa> _byInit = [];
    private readonly List<IkeSaOutput> _outputs = [];
    // SAs with outputs waiting, in the order they spoke; and the SAs' deadlines, earliest first (an entry is stale when
    // the SA's deadline moved since: it is skipped, and the SA is queued again at its new deadline).
    private readonly List<IkeSa> _spoke = [];
    private readonly PriorityQueue<IkeSa, DateTimeOffset> _deadlines = new();
    private readonly HashSet<IkeSa> _halfOpen = [];
    private readonly Action<IkeSa> _onOutputs;
    // IKE_SA_INIT requests waiting for their key exchange (Options.KeyExchangeQueue), oldest first, and their keys.
    private readonly Queue<QueuedInit> _queue = new();
    private readonly HashSet<(ulong SpiI, Ipv4Endpoint From)> _queuedKeys = [];

    private sealed record QueuedInit(IkeSaConfig Config, IkeMessage Request, byte[] Message, Ipv4Endpoint From, Ipv4Endpoint To, object? Tag, DateTimeOffset Arrived);

    private sealed class Entry
    {
        public List<ulong> Spis { get; } = new(2);
        public (ulong SpiI, Ipv4Endpoint From)? Init { get; set; }
        public DateTimeOffset? Scheduled { get; set; }
    }

    public IkeResponder(IkeEnvironment env, IEnumerable<IkeConnection> connections, IkeResponderOptions? options = null)
    {
        _env = env;
        _connections = [];
        ReplaceConnections(connections);
        Options = options ?? new IkeResponderOptions();
        _cookies = new IkeCookies(env.Random, Options.CookieSecretLifetime);
        _onOutputs = sa => _spoke.Add(sa);
    }

    public IkeResponderOptions Options { get; }

    /// <summary>New settings for the connections (a changed shared key or proposal); SAs already made keep theirs.</summary>
    public void ReplaceConnections(IEnumerable<IkeConnection> connections)
    {
        var list = connections.ToList();
        if (list.Count(c => c.Peer is null) > 1)
            throw new ArgumentException("at most one connection may be the default (without a peer address)", nameof(connections));
        _connections = list;
        _byPeer = [];
        _byPeerAndLocal = [];
        foreach (var c in list)
        {
            if (c.Peer is not { } peer) continue;
            if (c.Local is { } local) _byPeerAndLocal.TryAdd((peer, local), c);
            else _byPeer.TryAdd(peer, c); // the first connection naming an address wins
        }
        _default = list.FirstOrDefault(c => c.Peer is null);
    }

    /// <summary>The IKE SAs not yet closed.</summary>
    public IReadOnlyCollection<IkeSa> Sas => _sas.Keys;

    /// <summary>IKE SAs that answered IKE_SA_INIT and wait for IKE_AUTH.</summary>
    public int HalfOpen => _halfOpen.Count;

    /// <summary>IKE_SA_INIT requests waiting for their key exchange.</summary>
    public int Queued => _queue.Count;

    /// <summary>When the oldest queued IKE_SA_INIT request arrived, or null when none waits.</summary>
    public DateTimeOffset? OldestQueuedAt => _queue.TryPeek(out var q) ? q.Arrived : null;

    /// <summary>IKE_SA_INIT requests taken up for a new SA so far (made, or refused): the key exchanges this table paid for or refused.</summary>
    public int KeyExchangesAnswered { get; private set; }

    /// <summary>Cookie challenges sent so far.</summary>
    public int CookiesSent { get; private set; }

    /// <summary>The configuration an IKE_SA_INIT from <paramref name="peer"/> gets: the one naming its address, else the default.</summary>
    public IkeSaConfig? ConfigFor(Ipv4Address peer) => (_byPeer.GetValueOrDefault(peer) ?? _default)?.Config;

    /// <summary>The connection for <paramref name="peer"/> arriving on our <paramref name="local"/> address: one bound to that address first.</summary>
    public IkeSaConfig? ConfigFor(Ipv4Address peer, Ipv4Address local) =>
        _byPeerAndLocal.GetValueOrDefault((peer, local))?.Config ?? ConfigFor(peer);

    /// <summary>Creates and starts an IKE SA that this device initiates.</summary>
    public IkeSa Initiate(IkeSaConfig config, Ipv4Endpoint local, Ipv4Endpoint remote, DateTimeOffset now)
    {
        var sa = IkeSa.CreateInitiator(config, _env, local, remote);
        while (_bySpi.ContainsKey(sa.InitiatorSpi))
        {
            sa.Dispose();
            sa = IkeSa.CreateInitiator(config, _env, local, remote);
        }
        Add(sa, sa.InitiatorSpi, null);
        sa.Start(now);
        Collect(sa);
        return sa;
    }

    /// <summary>Handles one received IKE message (without the non-ESP marker) from <paramref name="from"/> to <paramref name="to"/>.</summary>
    /// <param name="tag">The owner's note for this message, given back by <see cref="RunQueued"/> when it is a queued IKE_SA_INIT.</param>
    public void Receive(byte[] message, Ipv4Endpoint from, Ipv4Endpoint to, DateTimeOffset now, object? tag = null)
    {
        if (!IkeHeader.TryParse(message, out var header, out var error))
        {
            Drop(IkeDropReason.Malformed, $"malformed IKE header from {from} ({error})");
            return;
        }
        if (header.Exchange == ExchangeType.IkeSaInit && !header.IsResponse && header.ResponderSpi != 0)
        {
            // RFC 7296 section 3.1: the responder's SPI is zero in every IKE_SA_INIT request, cookie and INVALID_KE
            // repeats included. One that names an SPI pair (in use or not) is nobody's retransmission (libreswan
            // CVE-2023-30570 class): no SA sees it.
            Drop(IkeDropReason.InitWithResponderSpi, $"IKE_SA_INIT request from {from} naming responder SPI {header.ResponderSpi:x16}{(_bySpi.ContainsKey(header.ResponderSpi) ? ", an SA of ours" : "")}");
            return;
        }
        var isNewInit = header.Exchange == ExchangeType.IkeSaInit && header.ResponderSpi == 0 && !header.IsResponse && header.IsFromOriginalInitiator;
        if (isNewInit)
        {
            if (_byInit.TryGetValue((header.InitiatorSpi, from), out var halfOpen) && halfOpen.State != IkeSaState.Closed)
            {
                halfOpen.Receive(message, from, to, now);
                Collect(halfOpen);
                return;
            }
            if (_queuedKeys.Contains((header.InitiatorSpi, from)))
            {
                Drop(IkeDropReason.AlreadyQueued, $"IKE_SA_INIT from {from} for {header.InitiatorSpi:x16}_i again while the first copy waits for its key exchange");
                return;
            }
            AnswerInit(message, from, to, now, tag);
            return;
        }
        // The sender's I flag says which of the two SPIs is ours (RFC 7296 section 3.1).
        var ours = header.IsFromOriginalInitiator ? header.ResponderSpi : header.InitiatorSpi;
        if (ours != 0 && _bySpi.TryGetValue(ours, out var sa) && sa.State != IkeSaState.Closed)
        {
            sa.Receive(message, from, to, now);
            Collect(sa);
            return;
        }
        Drop(IkeDropReason.UnknownSpi, $"{header.Exchange} {(header.IsResponse ? "response" : "request")} from {from} for unknown IKE SA {header.InitiatorSpi:x16}_i {header.ResponderSpi:x16}_r");
        if (Options.ReportInvalidIkeSpi && !header.IsResponse && header.Exchange != ExchangeType.IkeSaInit)
        {
            // RFC 7296 section 2.21.4: unprotected, same SPIs and message ID, back to where it came from.
            var flags = IkeFlags.Response | (header.IsFromOriginalInitiator ? 0 : IkeFlags.Initiator);
            var reply = new IkeMessage(header.InitiatorSpi, header.ResponderSpi, ExchangeType.Informational, flags, header.MessageId,
                new IkePayload[] { NotifyPayload.Status(NotifyType.InvalidIkeSpi) });
            _outputs.Add(new IkeSaOutput(null, new IkeSend(to, from, reply.ToArray(), ExchangeType.Informational, header.MessageId, IsResponse: true, IsRetransmission: false)));
        }
    }

    private void AnswerInit(byte[] message, Ipv4Endpoint from, Ipv4Endpoint to, DateTimeOffset now, object? tag)
    {
        if (!IkeMessage.TryParse(message, out var request, out var error))
        {
            Drop(IkeDropReason.Malformed, $"malformed IKE_SA_INIT from {from} ({error})");
            return;
        }
        var config = ConfigFor(from.Address, to.Address);
        if (config is null)
        {
            Drop(IkeDropReason.NoConnection, $"IKE_SA_INIT from {from}, which is no configured peer");
            return;
        }
        // Queued requests count as half-open: each becomes one as soon as its turn comes.
        if (Options.CookieThreshold is { } threshold && HalfOpen + Queued >= threshold)
        {
            var nonce = request!.PayloadsOf<NoncePayload>().FirstOrDefault();
            if (nonce is null)
            {
                Drop(IkeDropReason.Malformed, $"IKE_SA_INIT from {from} without a nonce while asking for cookies");
                return;
            }
            // RFC 7296 section 2.6: the cookie, when present, is the first payload.
            var presented = request.Payloads.Count > 0 && request.Payloads[0] is NotifyPayload { NotifyType: NotifyType.Cookie } c ? c.Data.Span.ToArray() : null;
            if (presented is null || !_cookies.Verify(presented, nonce.Nonce.Span, from.Address, request.InitiatorSpi, now))
            {
                var cookie = _cookies.Make(nonce.Nonce.Span, from.Address, request.InitiatorSpi, now);
                var challenge = new IkeMessage(request.InitiatorSpi, 0, ExchangeType.IkeSaInit, IkeFlags.Response, 0, new IkePayload[] { NotifyPayload.Cookie(cookie) });
                CookiesSent++;
                _outputs.Add(new IkeSaOutput(null, new IkeDropped(IkeDropReason.CookieRequired,
                    $"{HalfOpen + Queued} half-open or queued IKE SAs (threshold {threshold}): {from} must repeat IKE_SA_INIT with a cookie{(presented is null ? "" : "; the one it sent is not valid")}")));
                _outputs.Add(new IkeSaOutput(null, new IkeSend(to, from, challenge.ToArray(), ExchangeType.IkeSaInit, 0, IsResponse: true, IsRetransmission: false)));
                return;
            }
        }
        if (Options.KeyExchangeQueue is { } bound)
        {
            if (_queue.Count >= bound)
            {
                Drop(IkeDropReason.Overloaded, $"IKE_SA_INIT from {from}: {_queue.Count} key exchanges already waiting (bound {bound}); the initiator retransmits");
                return;
            }
            _queue.Enqueue(new QueuedInit(config, request!, message, from, to, tag, now));
            _queuedKeys.Add((request!.InitiatorSpi, from));
            return;
        }
        Respond(config, request!, message, from, to, now);
    }

    /// <summary>
    /// Answers the oldest queued IKE_SA_INIT request (<see cref="IkeResponderOptions.KeyExchangeQueue"/>) at
    /// <paramref name="now"/>: its key exchange and its SA, or its refusal. False when none waits; else true, with the
    /// tag given to <see cref="Receive"/> for it.
    /// </summary>
    public bool RunQueued(DateTimeOffset now, out object? tag)
    {
        tag = null;
        if (!_queue.TryDequeue(out var q)) return false;
        _queuedKeys.Remove((q.Request.InitiatorSpi, q.From));
        tag = q.Tag;
        Respond(q.Config, q.Request, q.Message, q.From, q.To, now);
        return true;
    }

    private void Respond(IkeSaConfig config, IkeMessage request, byte[] message, Ipv4Endpoint from, Ipv4Endpoint to, DateTimeOffset now)
    {
        KeyExchangesAnswered++;
        var sa = IkeSa.RespondToInit(config, _env, request, message, from, to, now, out var reply, out var refusal, out var dropped);
        if (dropped is { } why) Drop(why, $"IKE_SA_INIT from {from}: {refusal}");
        if (refusal is not null) _outputs.Add(new IkeSaOutput(null, refusal));
        if (sa is not null && _bySpi.ContainsKey(sa.ResponderSpi))
        {
            // Two SAs may not share our SPI: this one is dropped before its answer goes out (an answer naming the other
            // SA's SPI would send the initiator's IKE_AUTH to that SA); the initiator retransmits and gets a fresh draw.
            Drop(IkeDropReason.SpiCollision, $"IKE_SA_INIT from {from}: drew an SPI already in use");
            sa.Dispose();
            return;
        }
        if (reply is not null)
            _outputs.Add(new IkeSaOutput(null, new IkeSend(to, from, reply.ToArray(), ExchangeType.IkeSaInit, 0, IsResponse: true, IsRetransmission: false)));
        if (sa is null) return;
        Add(sa, sa.ResponderSpi, (sa.InitiatorSpi, from));
        Collect(sa);
    }

    private void Add(IkeSa sa, ulong ours, (ulong SpiI, Ipv4Endpoint From)? init)
    {
        var e = new Entry { Init = init };
        e.Spis.Add(ours);
        _sas[sa] = e;
        _bySpi[ours] = sa;
        if (init is { } key) _byInit[key] = sa;
        sa.OutputsWaiting = _onOutputs;
    }

    /// <summary>Runs the timers of every IKE SA whose deadline has come.</summary>
    public void Tick(DateTimeOffset now)
    {
        while (_deadlines.TryPeek(out var sa, out var at) && at <= now)
        {
            _deadlines.Dequeue();
            if (!_sas.TryGetValue(sa, out var e) || e.Scheduled != at) continue; // stale: the SA left or moved its deadline
            e.Scheduled = null;
            sa.Tick(now);
            Collect(sa);
        }
    }

    /// <summary>The earliest deadline of any IKE SA, or null.</summary>
    public DateTimeOffset? NextDeadline
    {
        get
        {
            while (_deadlines.TryPeek(out var sa, out var at))
            {
                if (_sas.TryGetValue(sa, out var e) && e.Scheduled == at)
                {
                    // An SA whose deadline moved later (traffic postponed its liveness check) is queued again.
                    if (sa.NextDeadline is { } d && d > at)
                    {
                        _deadlines.Dequeue();
                        e.Scheduled = d;
                        _deadlines.Enqueue(sa, d);
                        continue;
                    }
                    return at;
                }
                _deadlines.Dequeue();
            }
            return null;
        }
    }

    /// <summary>Everything produced since the last call, each with the IKE SA it came from. Closed SAs leave the table here.</summary>
    public IReadOnlyList<IkeSaOutput> TakeOutputs()
    {
        for (var i = 0; i < _spoke.Count; i++) Collect(_spoke[i]);
        _spoke.Clear();
        var copy = _outputs.ToArray();
        _outputs.Clear();
        if (_closed.Count > 0)
        {
            foreach (var sa in _closed) Forget(sa);
            _closed.Clear();
        }
        return copy;
    }

    private readonly List<IkeSa> _closed = [];

    /// <summary>Gathers an SA's outputs, follows its SPI changes and state, and queues it at its next deadline.</summary>
    private void Collect(IkeSa sa)
    {
        if (!_sas.TryGetValue(sa, out var e)) return;
        foreach (var o in sa.TakeOutputs())
        {
            if (o is IkeSpisChanged c)
            {
                var newOurs = sa.IsOriginalInitiator ? c.NewInitiatorSpi : c.NewResponderSpi;
                _bySpi[newOurs] = sa;
                if (!e.Spis.Contains(newOurs)) e.Spis.Add(newOurs);
            }
            _outputs.Add(new IkeSaOutput(sa, o));
        }
        // Retired SPIs (the old SA's DELETE came or went) no longer route.
        for (var i = e.Spis.Count - 1; i >= 0; i--)
        {
            var spi = e.Spis[i];
            if (spi == sa.InitiatorSpi || spi == sa.ResponderSpi || sa.RetiringSpis is { } r && (spi == r.InitiatorSpi || spi == r.ResponderSpi)) continue;
            if (_bySpi.TryGetValue(spi, out var owner) && owner == sa) _bySpi.Remove(spi);
            e.Spis.RemoveAt(i);
        }
        if (sa.State == IkeSaState.InitAnswered) _halfOpen.Add(sa);
        else
        {
            _halfOpen.Remove(sa);
            if (e.Init is { } key)
            {
                if (_byInit.TryGetValue(key, out var owner) && owner == sa) _byInit.Remove(key);
                e.Init = null;
            }
        }
        if (sa.State == IkeSaState.Closed)
        {
            if (!_closed.Contains(sa)) _closed.Add(sa);
            return;
        }
        if (sa.NextDeadline is { } at && (e.Scheduled is not { } s || at < s))
        {
            e.Scheduled = at;
            _deadlines.Enqueue(sa, at);
        }
    }

    private void Forget(IkeSa sa)
    {
        if (!_sas.Remove(sa, out var e)) return;
        foreach (var spi in e.Spis)
            if (_bySpi.TryGetValue(spi, out var owner) && owner == sa) _bySpi.Remove(spi);
        if (e.Init is { } key && _byInit.TryGetValue(key, out var o) && o == sa) _byInit.Remove(key);
        _halfOpen.Remove(sa);
        sa.OutputsWaiting = null;
        sa.Dispose();
    }

    private void Drop(IkeDropReason reason, string detail) => _outputs.Add(new IkeSaOutput(null, new IkeDropped(reason, detail)));

    public void Dispose()
    {
        foreach (var sa in _sas.Keys) sa.Dispose();
        _sas.Clear();
        _cookies.Dispose();
    }
}
