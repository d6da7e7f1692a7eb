using System.Text.Json;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>The sidecar process with a glossary: a change to the file reaches the running sessions; a glossary it cannot use is refused at start.</summary>
[Trait("Category", "Integration")]
public sealed class GlossaryEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly TestFolder _folder = new("caption-glossary-");
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync() =>
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = FakeScript.FromLines(SpeechFixture.Sentences) });

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    [Fact(Timeout = 120000)]
    public async Task Run_GlossaryTooLongForThePrompt_NamesTheLimitAndExitCode2()
    {
        var ct = TestContext.Current.CancellationToken;
        var glossary = Path.Combine(_folder.Path, "glossary.txt");
        await File.WriteAllLinesAsync(glossary, Enumerable.Range(0, 150).Select(i => $"Channel term {i}"), ct);
        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(_server, "stdin", "--glossary", glossary));

        var exit = await sidecar.WaitForExitAsync(StartTimeout, ct);

        Assert.True(exit == 2, $"exit {exit}\n{sidecar.Stderr}");
        Assert.Contains("Realtime:GlossaryFile (--glossary)", sidecar.Stderr, StringComparison.Ordinal);
        Assert.Contains("too long for a transcription prompt", sidecar.Stderr, StringComparison.Ordinal);
        Assert.Contains("the limit is 1024", sidecar.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", sidecar.Stderr, StringComparison.Ordinal);
        Assert.Empty(_server.Sessions);
    }

    [Fact(Timeout = 120000)]
    public async Task Run_GlossaryMalformed_NamesTheLineAndExitCode2()
    {
        var ct = TestContext.Current.CancellationToken;
        var glossary = Path.Combine(_folder.Path, "glossary.txt");
        await File.WriteAllTextAsync(glossary, "# terms\nKubernetes\nRanked mode | modo clasificatoria\n", ct);
        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(_server, "stdin", "--glossary", glossary));

        var exit = await sidecar.WaitForExitAsync(StartTimeout, ct);

        Assert.True(exit == 2, $"exit {exit}\n{sidecar.Stderr}");
        Assert.Contains("is malformed: line 3:", sidecar.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", sidecar.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120000)]
    public async Task Run_GlossaryFileChanged_RunningSessionsGetTheNewTermsWithoutARestart()
    {
        var ct = TestContext.Current.CancellationToken;
        var glossary = Path.Combine(_folder.Path, "glossary.txt");
        await File.WriteAllTextAsync(glossary, "Kubernetes\n", ct);
        await using var sidecar = SidecarProcess.Start(
            _folder.SidecarArgs(_server, "stdin", "--glossary", glossary, "--prompt", "OBS", "--languages", "es"), redirectStdin: true);
        await Poll.UntilAsync(
            () => _server.Sessions.Count == 2 && Prompt(Transcription()) == "OBS Kubernetes" && Instructions(Translation()).Contains("Kubernetes", StringComparison.Ordinal),
            "both sessions are configured with the glossary",
            ct,
            failIf: sidecar.ExitedWith,
            details: sidecar.StderrDetails);

        await File.WriteAllTextAsync(glossary, "Kubernetes\nRanked mode | es: modo clasificatoria\n", ct);

        await Poll.UntilAsync(
            () => Prompt(Transcription()) == "OBS Kubernetes, Ranked mode" && Instructions(Translation()).Contains("- Ranked mode => modo clasificatoria", StringComparison.Ordinal),
            "both running sessions use the changed glossary",
            ct,
            failIf: sidecar.ExitedWith,
            details: sidecar.StderrDetails);
        Assert.Equal(2, _server.Sessions.Count);
        Assert.Empty(_server.SchemaViolations);
        Assert.All(_server.Sessions, s => Assert.Empty(s.ErrorsSent));
        await Poll.UntilAsync(
            () => (sidecar.Stderr + sidecar.Stdout).Contains("reloaded: 2 terms", StringComparison.Ordinal),
            "the sidecar logs the reload",
            ct,
            failIf: sidecar.ExitedWith,
            details: sidecar.StderrDetails);
        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(StartTimeout, ct));
    }

    private FakeSession Transcription() => _server.Sessions.First(s => s.SessionType == FakeSessionType.Transcription);

    private FakeSession Translation() => _server.Sessions.First(s => s.SessionType == FakeSessionType.Realtime);

    private static string? Prompt(FakeSession session)
    {
        using var config = JsonDocument.Parse(session.SessionConfig);
        // Before the sidecar's session.update, the fake's defaults have no transcription settings.
        var transcription = config.RootElement.GetProperty("audio").GetProperty("input").GetProperty("transcription");
        return transcription.ValueKind == JsonValueKind.Object && transcription.TryGetProperty("prompt", out var prompt) ? prompt.GetString() : null;
    }

    private static string Instructions(FakeSession session)
    {
        using var config = JsonDocument.Parse(session.SessionConfig);
        return config.RootElement.TryGetProperty("instructions", out var instructions) ? instructions.GetString() ?? string.Empty : string.Empty;
    }
}
