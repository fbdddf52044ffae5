namespace Nodes.Cli;

/// <summary>A request to a running lab from the command line (a live fault, a status query), with one way to say it could not reach it.</summary>
internal static class LabCall
{
    /// <summary>
    /// Runs <paramref name="call"/>; when the lab cannot be reached (no member, bad TLS material, a refused socket) writes
    /// one line naming <paramref name="address"/> and returns null with the exit code: 3 for the network, 2 for the flags.
    /// </summary>
    public static async Task<(T? Result, int ExitCode)> TryAsync<T>(string address, TextWriter err, Func<Task<T>> call) where T : class
    {
        try
        {
            return (await call(), 0);
        }
        catch (Exception e) when (e is InvalidOperationException or FileNotFoundException or System.Security.Cryptography.CryptographicException or System.Net.Sockets.SocketException)
        {
            err.WriteLine($"could not reach the lab at {address}: {e.Message}");
            return (null, e is System.Net.Sockets.SocketException ? 3 : 2);
        }
    }
}
