using System.Text.Json;
using System.Text.RegularExpressions;
using CaptionSidecar.FakeRealtime;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// The sidecar as a process against a Realtime endpoint that refuses the WebSocket upgrade: the status code in words
/// and the service's message reach the log and <c>/api/status</c>, and each retry is one upgrade request.
/// </summary>
[Trait("Category", "Integration")]
public sealed partial class UpgradeErrorEndToEndTests : IDisposable
{
    private readonly TestFolder _folder = new("caption-upgrade-e2e-");

    public void Dispose() => _folder.Dispose();

    [Fact(Timeout = 120000)]
    public async Task Run_EndpointAnswers429WithRetryAfter_StatusAndLogNameTheCodeAndTheServiceMessage()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { RefuseUpgrades = UpgradeRefusal.TooManyRequests(TimeSpan.FromSeconds(1)) }, ct);
        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(server, "stdin", "--input-rate", "48000", "--input-channels", "1"), redirectStdin: true);
        await sidecar.WriteStdinAsync(new byte[96_000], ct);
        using var control = await SidecarControl.ConnectAsync(sidecar);
        await sidecar.WaitForStderrAsync("; retry ", 2, TimeSpan.FromSeconds(60));

        using var status = JsonDocument.Parse(await control.Http.GetStringAsync("/api/status", ct));
        var lastError = status.RootElement.GetProperty("tracks")[0].GetProperty("lastError").GetString();
        Assert.Contains("429 Too Many Requests", lastError, StringComparison.Ordinal);
        Assert.Contains("Rate limit reached for requests", lastError, StringComparison.Ordinal);
        Assert.Contains(status.RootElement.GetProperty("recentErrors").EnumerateArray(), e => e.GetString()!.Contains("429 Too Many Requests", StringComparison.Ordinal));
        Assert.Contains("429 Too Many Requests", sidecar.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unable to connect", sidecar.Stderr, StringComparison.Ordinal);

        // Retry-After: 1 is the wait (it replaces the first backoff steps of 0.5 and 1 s with jitter).
        Assert.All(RetryDelays(sidecar.Stderr), ms => Assert.Equal(1000, ms));
        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
    }

    [Fact(Timeout = 120000)]
    public async Task Run_EndpointHangsUpOnTheUpgrade_OneUpgradeRequestPerRetry()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { HangUpUpgrades = true }, ct);
        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(server, "stdin", "--input-rate", "48000", "--input-channels", "1"), redirectStdin: true);
        await sidecar.WriteStdinAsync(new byte[96_000], ct);
        await sidecar.WaitForStderrAsync("; retry ", 3, TimeSpan.FromSeconds(60));
        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));

        // Each failed attempt is logged once; the one under way when the sidecar stopped may not be.
        var attempts = RetryDelays(sidecar.Stderr).Count;
        Assert.InRange(server.UpgradeRequests, attempts, attempts + 1);
        Assert.Contains("closed the connection without answering the WebSocket upgrade", sidecar.Stderr, StringComparison.Ordinal);
    }

    private static List<long> RetryDelays(string stderr) =>
        [.. RetryLine().Matches(stderr).Select(m => long.Parse(m.Groups["ms"].Value, System.Globalization.CultureInfo.InvariantCulture))];

    [GeneratedRegex(@"Realtime .*; retry \d+ in (?<ms>\d+) ms")]
    private static partial Regex RetryLine();
}
