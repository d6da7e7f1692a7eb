using System.Globalization;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// The sidecar as a process on real speech with long pauses (espeak-ng) against the fake Realtime server, with the
/// voice gate on (the default) and off: the captions are the same, the session hears far less audio with it on.
/// </summary>
[Trait("Category", "Integration")]
public sealed class VoiceGateEndToEndTests : IAsyncLifetime
{
    private const double PauseSeconds = 6;
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(120);
    private readonly string _dir = Directory.CreateTempSubdirectory("caption-gate-e2e-").FullName;
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = FakeScript.FromLines(SpeechFixture.Sentences) });
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        WireSchema.AssertClean(_server);
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string TranscriptDir => Path.Combine(_dir, "transcripts");

    /// <summary>The three sentences, each followed by a long pause; returns the WAV and where each sentence starts (s).</summary>
    private async Task<(string Wav, double Seconds, List<double> Starts)> SpeakWithPausesAsync(CancellationToken ct)
    {
        var espeak = Peers.RequireExecutable("espeak-ng");
        var sox = Peers.RequireExecutable("sox");
        var silence = Path.Combine(_dir, "pause.wav");
        await RunAsync(sox, ["-n", "-r", "22050", "-c", "1", "-b", "16", silence, "trim", "0", PauseSeconds.ToString(CultureInfo.InvariantCulture)], ct);
        var parts = new List<string> { silence };
        var starts = new List<double>();
        var at = PauseSeconds;
        for (var i = 0; i < SpeechFixture.Sentences.Length; i++)
        {
            var wav = Path.Combine(_dir, $"sentence{i}.wav");
            await RunAsync(espeak, ["-v", "en", "-s", "160", "-w", wav, SpeechFixture.Sentences[i]], ct);
            starts.Add(at);
            at += await SecondsAsync(wav, ct) + PauseSeconds;
            parts.Add(wav);
            parts.Add(silence);
        }

        var output = Path.Combine(_dir, "speech.wav");
        await RunAsync(sox, [.. parts, output], ct);
        return (output, at, starts);
    }

    private static async Task<double> SecondsAsync(string wav, CancellationToken ct)
    {
        var (code, stdout, stderr) = await Peers.RunAsync(Peers.RequireExecutable("soxi"), ["-D", wav], TimeSpan.FromSeconds(30), ct);
        Assert.True(code == 0, stderr);
        return double.Parse(stdout.Trim(), CultureInfo.InvariantCulture);
    }

    private static async Task RunAsync(string exe, string[] args, CancellationToken ct)
    {
        var (code, _, stderr) = await Peers.RunAsync(exe, args, TimeSpan.FromSeconds(60), ct);
        Assert.True(code == 0, $"{Path.GetFileName(exe)} failed ({code}): {stderr}");
    }

    private async Task<(SidecarProcess Sidecar, long AppendedBytes, double Seconds)> RunSidecarAsync(bool gate, CancellationToken ct)
    {
        var (wav, seconds, starts) = await SpeakWithPausesAsync(ct);
        List<string> args =
        [
            "--input", $"file:{wav}", "--no-pacing", "--engine", "openai", "--api-key", "test-key", "--turn-detection", "server-vad",
            "--realtime-endpoint", _server.Endpoint.ToString(), "--transcript-dir", TranscriptDir,
            "--data-dir", Path.Combine(_dir, "data"), "--exit-at-end", "--no-obs", "--http-port", "0",
        ];
        if (!gate)
        {
            args.Add("--no-voice-gate");
        }

        var sidecar = SidecarProcess.Start(args);
        var exit = await sidecar.WaitForExitAsync(RunTimeout, ct);
        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");

        // The same three lines either way, each at its place in the file (the server pads 300 ms before speech).
        var srt = Assert.Single(Directory.GetFiles(TranscriptDir, "*-en.srt"));
        var cues = SrtFile.Parse(File.ReadAllText(srt));
        Assert.Equal(string.Join(' ', SpeechFixture.Sentences), SrtFile.JoinedText(cues));
        Assert.Equal(3, cues.Count);
        for (var i = 0; i < 3; i++)
        {
            Assert.InRange(cues[i].Start.TotalSeconds, starts[i] - 0.5, starts[i] + 0.5);
        }

        var session = Assert.Single(_server.Sessions);
        Assert.Equal(3, session.SpeechSpans.Count);
        return (sidecar, session.AppendedBytes, seconds);
    }

    [Fact(Timeout = 180000)]
    public async Task Run_GateOn_EveryLineCaptionedAtItsTimeAndMostOfThePausesNeverSent()
    {
        var (sidecar, appended, seconds) = await RunSidecarAsync(gate: true, TestContext.Current.CancellationToken);
        await using (sidecar)
        {
            var fileBytes = seconds * 48_000;
            TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"appended {appended} bytes for {fileBytes:F0} bytes of audio ({appended / fileBytes:P1})"));
            Assert.True(appended < fileBytes * 0.6, $"{appended} bytes appended for {fileBytes} bytes of audio");
            Assert.Contains("1000 ms hangover (from ServerVad turn detection)", sidecar.Stderr, StringComparison.Ordinal);
            Assert.Contains("voice gate held back", sidecar.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 180000)]
    public async Task Run_NoVoiceGate_EveryChunkIsSent()
    {
        var (sidecar, appended, seconds) = await RunSidecarAsync(gate: false, TestContext.Current.CancellationToken);
        await using (sidecar)
        {
            Assert.True(appended >= seconds * 48_000, $"{appended} bytes appended for {seconds * 48_000} bytes of audio");
            Assert.Contains("voice gate is off", sidecar.Stderr, StringComparison.Ordinal);
        }
    }
}
