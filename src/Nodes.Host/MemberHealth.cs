using System.Net;
using System.Text;
using Akka.Actor;
using Akka.Cluster;
using Nodes.Messages;

namespace Nodes.Host;

/// <summary>What a probe learns of a member: live when its node actors answer, ready when it is also Up in the cluster.</summary>
public sealed record MemberHealthReport(bool Live, bool Ready, string Status, IReadOnlyList<string> Unanswered)
{
    /// <summary>One line, as the endpoint answers and <c>nodes probe</c> prints.</summary>
    public string Text => $"member {Status}; node actors {(Unanswered.Count == 0 ? "all answered" : "not answering: " + string.Join(", ", Unanswered))}";
}

/// <summary>
/// The health of a running member, for container engines and Kubernetes: asks every hosted node actor for its status
/// (the question a driver asks) and reads the member's own state in the cluster.
/// </summary>
public static class MemberHealth
{
    public static async Task<MemberHealthReport> CheckAsync(ClusterMember member, TimeSpan timeout)
    {
        if (member.WhenTerminated.IsCompleted) return new MemberHealthReport(false, false, "stopped", [.. member.Actors.Nodes.Keys.Order(StringComparer.Ordinal)]);
        var asks = member.Actors.Nodes.Select(async kv =>
        {
            try
            {
                await kv.Value.Ask<NodeStatus>(new QueryStatus { Requester = "probe" }, timeout);
                return null;
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                return kv.Key;
            }
        });
        var unanswered = (await Task.WhenAll(asks)).OfType<string>().Order(StringComparer.Ordinal).ToList();
        var status = member.Cluster.SelfMember.Status;
        var live = unanswered.Count == 0;
        return new MemberHealthReport(live, live && status == MemberStatus.Up, status.ToString(), unanswered);
    }
}

/// <summary>
/// The member's health over HTTP on <c>/live</c> and <c>/ready</c> (200 when it holds, 503 when not), for probes that
/// speak HTTP (Kubernetes) and for <c>nodes probe</c> (a container's health check). It tells only the member's state,
/// never the lab's traffic or keys.
/// </summary>
public sealed class HealthEndpoint : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ClusterMember _member;
    private readonly Task _serving;

    private HealthEndpoint(ClusterMember member, int port)
    {
        _member = member;
        Port = port;
        _listener.Prefixes.Add($"http://*:{port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public int Port { get; }

    /// <summary>Listens on every address at <paramref name="port"/>; throws <see cref="HttpListenerException"/> when the port is taken.</summary>
    public static HealthEndpoint Start(ClusterMember member, int port) => new(member, port);

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var path = context.Request.Url?.AbsolutePath.TrimEnd('/') ?? "";
        var response = context.Response;
        try
        {
            string text;
            if (path is "/live" or "/ready")
            {
                var report = await MemberHealth.CheckAsync(_member, TimeSpan.FromSeconds(2));
                var ok = path == "/live" ? report.Live : report.Ready;
                response.StatusCode = ok ? 200 : 503;
                text = $"{(ok ? "ok" : "not " + path[1..])}: {report.Text}\n";
            }
            else
            {
                response.StatusCode = 404;
                text = "ask /live or /ready\n";
            }
            var body = Encoding.UTF8.GetBytes(text);
            response.ContentType = "text/plain; charset=utf-8";
            response.ContentLength64 = body.Length;
            await response.OutputStream.WriteAsync(body);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The prober went away; nothing to answer.
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(2));
    }
}
