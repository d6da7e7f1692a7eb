using System.Text.Json.Nodes;
using CaptionSidecar.ObsBridge;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// The sidecar process against the real headless OBS that scripts/obs-headless.sh starts (its port and password are in
/// .test-peers/obs or OBS_PORT/OBS_PASSWORD). The ObsBridge tests restart that OBS while they run, so these tests poll
/// with generous deadlines: the sidecar itself must ride out an OBS restart.
/// </summary>
[Collection(RealObsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ObsEndToEndTests : IDisposable
{
    private readonly TestFolder _folder = new("caption-obs-e2e-");

    public void Dispose() => _folder.Dispose();

    internal static (Uri Url, string Password) Obs()
    {
        var peer = Path.Combine(SidecarProcess.RepoRoot, ".test-peers", "obs");
        var port = Environment.GetEnvironmentVariable("OBS_PORT") ?? ReadOrNull(Path.Combine(peer, "port"));
        var password = Environment.GetEnvironmentVariable("OBS_PASSWORD") ?? ReadOrNull(Path.Combine(peer, "password"));
        if (port is null || password is null)
        {
            Peers.Missing("headless OBS (no .test-peers/obs/port and password): start it with scripts/obs-headless.sh start");
        }

        return (new Uri($"ws://127.0.0.1:{port}"), password!);
    }

    [Fact(Timeout = 240000)]
    public async Task Run_ObsKilledAndRestarted_SidecarSurvivesAndCaptionsComeBack()
    {
        var ct = TestContext.Current.CancellationToken;
        var (url, password) = Obs();
        var pidFile = Path.Combine(SidecarProcess.RepoRoot, ".test-peers", "obs", "obs.pid");
        if (!File.Exists(pidFile) || Environment.GetEnvironmentVariable("OBS_PORT") is not null)
        {
            Peers.Missing("this test restarts OBS and needs the OBS started by scripts/obs-headless.sh (no OBS_PORT override)");
        }

        var template = $"Sidecar restart {Guid.NewGuid():N} ({{lang}})";
        var source = template.Replace("{lang}", "en", StringComparison.Ordinal);
        await using var sidecar = SidecarProcess.Start(
            ["--engine", "test-pattern", "--http-port", "0", "--data-dir", _folder.Data, "--obs-url", url.ToString(), "--obs-source-template", template,
             "--transcript-dir", _folder.Transcripts],
            environment: new Dictionary<string, string> { ["OBS_WEBSOCKET_PASSWORD"] = password });
        await using var obs = new ObsClient(Options.Create(new ObsClientOptions { Url = url, Password = password }), NullLogger<ObsClient>.Instance, TimeProvider.System);
        obs.Start();
        var first = await WaitForTextAsync(obs, source, _ => true, sidecar, ct);

        using (var process = System.Diagnostics.Process.GetProcessById(int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture)))
        {
            process.Kill(); // SIGKILL: OBS vanishes without a close frame
            await process.WaitForExitAsync(ct);
        }

        var linesBefore = CountFinalLines(sidecar.Stdout);
        await sidecar.WaitForStderrAsync("OBS at", 1, TimeSpan.FromSeconds(30)); // the loss is logged

        // Nothing else stalls while OBS is away: the console prints the next finished line before OBS is back.
        await Poll.ForAsync<int?>(
            _ => Task.FromResult<int?>(CountFinalLines(sidecar.Stdout)),
            lines => lines > linesBefore,
            $"a caption line printed while OBS was down (more than the {linesBefore} final lines before)",
            ct,
            timeoutMs: 60000,
            intervalMs: 100,
            failIf: sidecar.ExitedWith,
            details: sidecar.StderrDetails);

        var (code, stdout, stderr) = await Peers.RunAsync(Path.Combine(SidecarProcess.RepoRoot, "scripts", "obs-headless.sh"), ["start"], TimeSpan.FromSeconds(120), ct);
        Assert.True(code == 0, $"obs-headless.sh start failed: {stdout} {stderr}");
        var accepting = System.Diagnostics.Stopwatch.StartNew();

        // The source is gone with OBS's unsaved scene: the sidecar makes it again and shows the current caption.
        var after = await WaitForTextAsync(obs, source, t => t != first, sidecar, ct);
        TestContext.Current.SendDiagnosticMessage($"caption back in OBS {accepting.ElapsedMilliseconds} ms after the socket accepted again");
        Assert.False(sidecar.HasExited, sidecar.Stderr);
        Assert.Contains("[TEST]", first, StringComparison.Ordinal);
        Assert.Contains("[TEST]", after, StringComparison.Ordinal);
        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
    }

    private static int CountFinalLines(string stdout) =>
        stdout.Split('\n').Count(l => l.StartsWith("[en ", StringComparison.Ordinal));

    /// <summary>Polls the OBS text source until its text satisfies <paramref name="accept"/> and shows a test caption.</summary>
    private static Task<string> WaitForTextAsync(ObsClient obs, string source, Func<string, bool> accept, SidecarProcess sidecar, CancellationToken ct) =>
        Poll.ForAsync(
            probe => ReadTextAsync(obs, source, probe),
            value => value.Contains("[TEST]", StringComparison.Ordinal) && accept(value),
            $"OBS source '{source}' to show a test caption",
            ct,
            timeoutMs: 120000,
            intervalMs: 100,
            failIf: sidecar.ExitedWith,
            details: sidecar.StderrDetails);

    /// <summary>The text of an OBS text source, or null while OBS is away (it may be restarting under another test).</summary>
    internal static async Task<string?> ReadTextAsync(ObsClient obs, string source, CancellationToken ct)
    {
        if (!obs.IsConnected)
        {
            return null;
        }

        try
        {
            var response = await obs.SendRequestAsync("GetInputSettings", new JsonObject { ["inputName"] = source }, ct);
            return response.IsSuccess && response.Data.TryGetProperty("inputSettings", out var settings) && settings.TryGetProperty("text", out var text)
                ? text.GetString()
                : null;
        }
        catch (Exception ex) when (ex is ObsConnectionLostException or TimeoutException)
        {
            return null;
        }
    }

    private static string? ReadOrNull(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;

    [Fact(Timeout = 120000)]
    public async Task ObsCheck_RealObs_PrintsVersionsSceneAndTextKinds()
    {
        var ct = TestContext.Current.CancellationToken;
        var (url, password) = Obs();
        // OBS may be restarting under another test: run obs-check again until it succeeds, and skip when it never does.
        var check = await Poll.ForAsync(
            async probe =>
            {
                await using var run = SidecarProcess.Start(["obs-check", "--obs-url", url.ToString(), "--obs-password", password]);
                var exit = await run.WaitForExitAsync(TimeSpan.FromSeconds(30), probe);
                return new ObsCheckRun(exit, run.Stdout, run.Stderr);
            },
            run => run.ExitCode == 0,
            $"obs-check against OBS at {url} to exit 0",
            ct,
            timeoutMs: 60000,
            intervalMs: 1000,
            onTimeout: Peers.Missing);

        Assert.Matches(@"OBS:\s+\d+\.\d+", check.Stdout);
        Assert.Matches(@"obs-websocket:\s+5\.", check.Stdout);
        Assert.Contains("current scene:", check.Stdout, StringComparison.Ordinal);
        Assert.Contains("text_ft2_source_v2", check.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(password, check.Stdout + check.Stderr, StringComparison.Ordinal);
    }

    /// <summary>One obs-check run (its stderr is the reason shown when OBS never answers).</summary>
    private sealed record ObsCheckRun(int ExitCode, string Stdout, string Stderr);

    [Fact(Timeout = 60000)]
    public async Task ObsCheck_WrongPassword_ExitsNonZeroWithOneLineReason()
    {
        var (url, _) = Obs();
        await using var check = SidecarProcess.Start(["obs-check", "--obs-url", url.ToString(), "--obs-password", "not-the-password"]);
        var exit = await check.WaitForExitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(1, exit);
        var line = Assert.Single(check.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.True(line.Contains("password", StringComparison.Ordinal) || line.Contains("not reachable", StringComparison.Ordinal), line);
        Assert.DoesNotContain("not-the-password", line, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task ObsCheck_NothingListening_ExitsNonZeroSayingUnreachable()
    {
        await using var check = SidecarProcess.Start(["obs-check", "--obs-url", "ws://127.0.0.1:9/"]);
        var exit = await check.WaitForExitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(1, exit);
        Assert.Contains("not reachable", check.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180000)]
    public async Task Run_TestPatternWithObs_CaptionsReachTheObsTextSource()
    {
        var ct = TestContext.Current.CancellationToken;
        var (url, password) = Obs();
        var template = $"Sidecar e2e {Guid.NewGuid():N} ({{lang}})";
        var source = template.Replace("{lang}", "en", StringComparison.Ordinal);
        await using var sidecar = SidecarProcess.Start(
            ["--engine", "test-pattern", "--http-port", "0", "--data-dir", _folder.Data, "--obs-url", url.ToString(), "--obs-source-template", template],
            environment: new Dictionary<string, string> { ["OBS_WEBSOCKET_PASSWORD"] = password });

        await using var obs = new ObsClient(Options.Create(new ObsClientOptions { Url = url, Password = password }), NullLogger<ObsClient>.Instance, TimeProvider.System);
        obs.Start();
        // OBS may restart under another test: the sidecar must come back by itself, so keep polling.
        await Poll.ForAsync(
            probe => ReadTextAsync(obs, source, probe),
            text => text.Contains("[TEST]", StringComparison.Ordinal),
            $"OBS source '{source}' to show test captions",
            ct,
            timeoutMs: 120000,
            intervalMs: 250,
            failIf: sidecar.ExitedWith,
            details: sidecar.StderrDetails);

        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
        Assert.DoesNotContain(password, sidecar.Stderr, StringComparison.Ordinal);
        try
        {
            await obs.SendRequestAsync("RemoveInput", new JsonObject { ["inputName"] = source }, ct);
        }
        catch (Exception ex) when (ex is ObsConnectionLostException or TimeoutException)
        {
        }
    }
}
