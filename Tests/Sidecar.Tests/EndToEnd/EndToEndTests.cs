using CaptionSidecar.FakeRealtime;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// The sidecar as a process, with real speech (espeak-ng) against the protocol-exact fake Realtime server.
/// </summary>
[Trait("Category", "Integration")]
public sealed class EndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(120);
    private readonly TestFolder _folder = new("caption-e2e-");
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = FakeScript.FromLines(SpeechFixture.Sentences) });
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        WireSchema.AssertClean(_server);
        _folder.Dispose();
    }

    private string TranscriptDir => _folder.Transcripts;

    private List<string> Args(string input, params string[] more) => _folder.SidecarArgs(_server, input, ["--exit-at-end", .. more]);

    private void AssertTranscriptHoldsTheThreeSentences()
    {
        var srt = Assert.Single(Directory.GetFiles(TranscriptDir, "*-en.srt"));
        var cues = SrtFile.Parse(File.ReadAllText(srt));
        Assert.Equal(string.Join(' ', SpeechFixture.Sentences), SrtFile.JoinedText(cues));
        for (var i = 1; i < cues.Count; i++)
        {
            Assert.True(cues[i].Start >= cues[i - 1].End - TimeSpan.FromMilliseconds(1), $"cue {i + 1} starts before cue {i} ends");
            Assert.True(cues[i].Start > cues[i - 1].Start, "cue start times must increase");
        }

        Assert.All(cues, c => Assert.True(c.End > c.Start, $"cue {c.Index} has no duration"));
        Assert.Single(Directory.GetFiles(TranscriptDir, "*-en.vtt"));
        Assert.Single(Directory.GetFiles(TranscriptDir, "*-en.jsonl"));
    }

    [Fact(Timeout = 180000)]
    public async Task Run_WavFileUnpaced_SrtHoldsTheThreeLinesInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);

        await using var sidecar = SidecarProcess.Start(Args($"file:{wav}", "--no-pacing"));
        var exit = await sidecar.WaitForExitAsync(RunTimeout, TestContext.Current.CancellationToken);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        AssertTranscriptHoldsTheThreeSentences();
        foreach (var sentence in SpeechFixture.Sentences)
        {
            Assert.Contains(sentence, sidecar.Stdout, StringComparison.Ordinal);
        }

        var session = Assert.Single(_server.Sessions);
        Assert.Equal(3, session.SpeechSpans.Count);
    }

    [Fact(Timeout = 180000)]
    public async Task Run_RawPcmOnStdin_SrtHoldsTheThreeLinesInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        var raw = await SpeechFixture.ConvertAsync(wav, Path.Combine(_folder.Path, "speech.raw"), 48000, 1, ct);

        await using var sidecar = SidecarProcess.Start(Args("stdin", "--input-rate", "48000", "--input-channels", "1"), redirectStdin: true);
        await sidecar.WriteStdinAndCloseAsync(await File.ReadAllBytesAsync(raw, ct), ct);
        var exit = await sidecar.WaitForExitAsync(RunTimeout, TestContext.Current.CancellationToken);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        AssertTranscriptHoldsTheThreeSentences();
    }

    [Fact(Timeout = 180000)]
    public async Task Run_StereoWavAt44100_SrtHoldsTheThreeLinesInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        var stereo = await SpeechFixture.ConvertAsync(wav, Path.Combine(_folder.Path, "speech-44k-stereo.wav"), 44100, 2, ct);

        await using var sidecar = SidecarProcess.Start(Args($"file:{stereo}", "--no-pacing"));
        var exit = await sidecar.WaitForExitAsync(RunTimeout, TestContext.Current.CancellationToken);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        AssertTranscriptHoldsTheThreeSentences();
    }

    [Fact(Timeout = 180000)]
    public async Task Run_ServerSendsMalformedJson_LogsItAndStillCaptionsEverything()
    {
        var ct = TestContext.Current.CancellationToken;
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);

        await using var sidecar = SidecarProcess.Start(Args($"file:{wav}"));
        await _server.WaitForSessionsAsync(s => s.Any(x => x.IsOpen), TimeSpan.FromSeconds(30));
        await _server.Faults.SendMalformedJsonAsync();
        var exit = await sidecar.WaitForExitAsync(RunTimeout, TestContext.Current.CancellationToken);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        Assert.Contains("malformed", sidecar.Stderr, StringComparison.OrdinalIgnoreCase);
        AssertTranscriptHoldsTheThreeSentences();
    }

    [Fact(Timeout = 120000)]
    public async Task Run_WrongApiKey_OneClearErrorAndNonZeroExit()
    {
        var ct = TestContext.Current.CancellationToken;
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        var args = Args($"file:{wav}", "--no-pacing");
        args[args.IndexOf("test-key")] = "wrong-key";

        await using var sidecar = SidecarProcess.Start(args);
        var exit = await sidecar.WaitForExitAsync(RunTimeout, TestContext.Current.CancellationToken);

        Assert.NotEqual(0, exit);
        Assert.Contains("rejected the API key", sidecar.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-key", sidecar.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-key", sidecar.Stdout, StringComparison.Ordinal);
        Assert.Empty(_server.Sessions); // rejected at the upgrade, and never retried into a session
    }

    [Fact(Timeout = 120000)]
    public async Task Run_EndpointRefusesConnections_RetriesWithBackoffAndKeepsRunning()
    {
        var ct = TestContext.Current.CancellationToken;
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        var closedPort = FreeLoopbackPort();

        await using var sidecar = SidecarProcess.Start(
        [
            "--input", $"file:{wav}", "--engine", "openai", "--api-key", "test-key",
            "--realtime-endpoint", $"http://127.0.0.1:{closedPort}/v1", "--data-dir", _folder.Data, "--no-obs", "--http-port", "0",
        ]);

        await sidecar.WaitForStderrAsync("retry", 3, TimeSpan.FromSeconds(60));
        Assert.False(sidecar.HasExited, sidecar.Stderr);
        sidecar.Interrupt();
        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(0, exit);
    }

    [Fact(Timeout = 120000)]
    public async Task Run_TestPatternWithoutKey_PrintsLabelledSampleCaptionsAndStopsCleanly()
    {
        await using var sidecar = SidecarProcess.Start(["--data-dir", _folder.Data, "--transcript-dir", TranscriptDir, "--no-obs", "--http-port", "0"]);

        await sidecar.WaitForStderrAsync("OPENAI_API_KEY", 1, TimeSpan.FromSeconds(30));
        await sidecar.WaitForStdoutAsync("[TEST]", TimeSpan.FromSeconds(60));
        sidecar.Interrupt();
        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(0, exit);
        var srt = Assert.Single(Directory.GetFiles(TranscriptDir, "*-en.srt"));
        Assert.Contains("[TEST]", await File.ReadAllTextAsync(srt, TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task Run_MissingInputFile_FailsAtStartNamingTheSetting()
    {
        await using var sidecar = SidecarProcess.Start(Args(Path.Combine("file:" + _folder.Path, "nope.wav")));
        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(2, exit);
        Assert.Contains("Audio:Input", sidecar.Stderr, StringComparison.Ordinal);
        Assert.Contains("does not exist", sidecar.Stderr, StringComparison.Ordinal);
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
