using System.Diagnostics;
using System.Globalization;

namespace CaptionSidecar.Benchmarks.FeedLoad;

/// <summary>
/// What the fan-out benchmarks read about a server process from outside (Linux /proc), and how they wait for it:
/// CPU time (user + system), resident memory, until it answers <c>/healthz</c>, until it idles.
/// </summary>
public static class ServerProbe
{
    private static readonly double TicksPerSecond = 100; // USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).

    /// <summary>CPU time (utime + stime) of process <paramref name="pid"/>, from /proc/PID/stat (10 ms resolution).</summary>
    public static TimeSpan CpuTime(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    /// <summary>Resident set size of process <paramref name="pid"/> in bytes (VmRSS in /proc/PID/status).</summary>
    public static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kib = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidDataException($"/proc/{pid}/status has no VmRSS line.");
    }

    /// <summary>Waits (up to 60 s) until <paramref name="cpuTime"/> grows by under 2% of a core over a second: background JIT done.</summary>
    public static async Task<TimeSpan> SettleAsync(Func<TimeSpan> cpuTime)
    {
        ArgumentNullException.ThrowIfNull(cpuTime);
        var started = Stopwatch.GetTimestamp();
        var before = cpuTime();
        while (Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var now = cpuTime();
            if ((now - before).TotalMilliseconds < 20)
            {
                break;
            }

            before = now;
        }

        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>Waits (up to 10 s) until <c>http://127.0.0.1:PORT/healthz</c> answers 2xx.</summary>
    public static async Task WaitHealthyAsync(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or still starting on a busy machine.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The server on port {port} did not become healthy.");
    }

    /// <summary>The <paramref name="p"/> quantile (0..1, nearest rank) of an ascending list; NaN when empty.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        return sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
