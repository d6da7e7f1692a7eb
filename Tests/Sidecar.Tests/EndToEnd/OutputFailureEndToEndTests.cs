using CaptionSidecar.FakeRealtime;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>The sidecar process when an output cannot write (issue 10, A2): the run says so and fails.</summary>
[Trait("Category", "Integration")]
public sealed class OutputFailureEndToEndTests : IAsyncLifetime
{
    private readonly TestFolder _folder = new("caption-output-failure-");
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = FakeScript.FromLines(SpeechFixture.Sentences) }, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    [Fact(Timeout = 180000)]
    public async Task Run_TranscriptFolderNeverWritable_ExitAtEndFailsAndSaysHowManyLinesWereLost()
    {
        var ct = TestContext.Current.CancellationToken;
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);

        // A folder below a file can never be created (not even by root, unlike a read-only folder).
        var blocker = Path.Combine(_folder.Path, "not-a-folder");
        await File.WriteAllTextAsync(blocker, "", ct);
        var args = _folder.SidecarArgs(_server, $"file:{wav}", "--no-pacing", "--exit-at-end");
        args[args.IndexOf(_folder.Transcripts)] = Path.Combine(blocker, "transcripts");

        await using var sidecar = SidecarProcess.Start(args);
        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(150), ct);

        Assert.True(exit == 1, $"exit {exit}\n{sidecar.Stderr}");
        Assert.Contains($"{SpeechFixture.Sentences.Length} final caption lines were not recorded by output transcripts", sidecar.Stderr, StringComparison.Ordinal);
        Assert.All(SpeechFixture.Sentences, s => Assert.Contains(s, sidecar.Stdout, StringComparison.Ordinal));
    }
}
