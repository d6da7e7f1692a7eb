using CaptionSidecar.FakeRealtime;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>The sidecar process refusing a glossary it cannot use, at start.</summary>
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
}
