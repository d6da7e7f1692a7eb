using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// Real capture: espeak-ng speech played with paplay into the caption_test null sink of the headless PulseAudio
/// (<c>scripts/pulse-headless.sh start</c>) while the sidecar records its monitor and streams it to the fake
/// Realtime server.
/// </summary>
[Collection(CaptionSidecar.Tests.Audio.PulseAudioDaemon.Name)]
[Trait("Category", "Integration")]
public sealed class PulseCaptureEndToEndTests : IAsyncLifetime
{
    private const string Sink = "caption_test";

    // A sink of this test's own on the same daemon: anything else played into caption_test meanwhile (another test
    // run) would otherwise lengthen the speech spans measured here.
    private readonly string _sink = $"caption_e2e_{Environment.ProcessId}";
    private string? _module;
    private string? _pactl;

    // The fake server's VAD (FakeRealtime InputAudioBuffer): 10 ms frames above -40 dBFS are voiced, a turn needs
    // 10 voiced frames (5 unvoiced frames reset a candidate) and ends after the sidecar's 500 ms of silence.
    private const double VoicedDbfs = -40;
    private const int MinSpeechFrames = 10;
    private const int MaxGapFramesBeforeSpeech = 5;
    private const int SilenceFrames = 50;

    private readonly TestFolder _folder = new("caption-pulse-e2e-");
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = FakeScript.FromLines(SpeechFixture.Sentences) });
    }

    public async ValueTask DisposeAsync()
    {
        if (_module is not null && _pactl is not null)
        {
            await Peers.RunAsync(_pactl, ["unload-module", _module], TimeSpan.FromSeconds(10), CancellationToken.None);
        }

        await _server.DisposeAsync();
        _folder.Dispose();
    }

    [Fact(Timeout = 180000)]
    public async Task Run_SpeechPlayedIntoMonitoredSink_CaptionsTheThreeLinesWithMatchingSpeechSpans()
    {
        var ct = TestContext.Current.CancellationToken;
        _pactl = await RequireSinkAsync(ct);
        var (loaded, module, loadError) = await Peers.RunAsync(
            _pactl, ["load-module", "module-null-sink", $"sink_name={_sink}"], TimeSpan.FromSeconds(10), ct);
        Assert.True(loaded == 0, $"pactl load-module failed: {loadError}");
        _module = module.Trim();
        var paplay = Peers.RequireExecutable("paplay");
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        var transcripts = _folder.Transcripts;

        await using var sidecar = SidecarProcess.Start(
        [
            "--input", $"device:{_sink}.monitor", "--engine", "openai", "--api-key", "test-key",
            "--realtime-endpoint", _server.Endpoint.ToString(), "--no-obs", "--http-port", "0",
            "--transcript-dir", transcripts, "--data-dir", _folder.Data,
        ]);
        await _server.WaitForSessionsAsync(s => s.Any(x => x.IsOpen), TimeSpan.FromSeconds(60));

        var (playExit, _, playError) = await Peers.RunAsync(paplay, [$"--device={_sink}", wav], TimeSpan.FromSeconds(60), ct);
        Assert.True(playExit == 0, $"paplay failed: {playError}");
        var session = _server.Sessions[0];
        await Poll.UntilAsync(
            () => session.CompletedTranscripts.Count >= SpeechFixture.Sentences.Length,
            $"the session completed {SpeechFixture.Sentences.Length} transcripts",
            ct,
            timeoutMs: 60000,
            intervalMs: 100,
            failIf: () => sidecar.ExitedWith() is { } exited ? $"{Progress()}; {exited}" : null,
            details: () => $"{Progress()}\n{sidecar.StderrDetails()}");

        string Progress() => $"{session.CompletedTranscripts.Count} transcripts, {session.SpeechSpans.Count} speech spans, {session.AppendedBytes} audio bytes so far";

        sidecar.Interrupt();
        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        var srt = Assert.Single(Directory.GetFiles(transcripts, "*-en.srt"));
        var cues = SrtFile.Parse(await File.ReadAllTextAsync(srt, ct));
        Assert.Equal(string.Join(' ', SpeechFixture.Sentences), SrtFile.JoinedText(cues));

        var expected = SourceSpanDurations(await File.ReadAllBytesAsync(wav, ct));
        var measured = session.SpeechSpans.Select(s => s.End - s.Start).ToList();
        Assert.Equal(SpeechFixture.Sentences.Length, expected.Count);
        Assert.Equal(expected.Count, measured.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"span {i + 1}: source {expected[i].TotalMilliseconds:F0} ms, captured {measured[i].TotalMilliseconds:F0} ms");
            var tolerance = (expected[i].TotalMilliseconds * 0.02) + 40;
            Assert.True(
                Math.Abs((measured[i] - expected[i]).TotalMilliseconds) <= tolerance,
                $"speech span {i + 1}: source {expected[i].TotalMilliseconds:F0} ms, server measured {measured[i].TotalMilliseconds:F0} ms (tolerance {tolerance:F0} ms)");
        }
    }

    /// <summary>Skips (locally) or fails (CI) without the headless daemon; returns pactl's path.</summary>
    private static Task<string> RequireSinkAsync(CancellationToken cancellationToken) => Peers.RequirePulseDaemonAsync(Sink, cancellationToken);

    /// <summary>
    /// Runs the fake server's frame-energy VAD over the source WAV (PCM16 mono, as espeak-ng and sox write it) and
    /// returns each turn's duration as the server reports it: first voiced frame minus 300 ms prefix padding, to
    /// the end of the last voiced frame.
    /// </summary>
    private static List<TimeSpan> SourceSpanDurations(byte[] wav)
    {
        var (rate, pcm) = ReadMonoPcm16(wav);
        var frame = rate / 100;
        var durations = new List<TimeSpan>();
        var inSpeech = false;
        int voiced = 0, unvoiced = 0;
        long candidateStart = 0, lastVoicedEnd = 0;
        for (var start = 0; start + frame <= pcm.Length; start += frame)
        {
            double sum = 0;
            for (var i = start; i < start + frame; i++)
            {
                sum += (double)pcm[i] * pcm[i];
            }

            var rms = Math.Sqrt(sum / frame);
            var isVoiced = rms > 0 && 20 * Math.Log10(rms / 32768.0) > VoicedDbfs;
            if (!inSpeech)
            {
                if (isVoiced)
                {
                    if (voiced == 0)
                    {
                        candidateStart = start;
                    }

                    unvoiced = 0;
                    if (++voiced >= MinSpeechFrames)
                    {
                        inSpeech = true;
                        lastVoicedEnd = start + frame;
                    }
                }
                else if (voiced > 0 && ++unvoiced >= MaxGapFramesBeforeSpeech)
                {
                    voiced = 0;
                    unvoiced = 0;
                }
            }
            else if (isVoiced)
            {
                lastVoicedEnd = start + frame;
                unvoiced = 0;
            }
            else if (++unvoiced >= SilenceFrames)
            {
                durations.Add(TimeSpan.FromMilliseconds(((lastVoicedEnd - candidateStart) * 1000.0 / rate) + 300));
                inSpeech = false;
                voiced = 0;
                unvoiced = 0;
            }
        }

        return durations;
    }

    private static (int Rate, short[] Samples) ReadMonoPcm16(byte[] wav)
    {
        var rate = 0;
        for (var offset = 12; offset + 8 <= wav.Length;)
        {
            var id = System.Text.Encoding.ASCII.GetString(wav, offset, 4);
            var size = BitConverter.ToInt32(wav, offset + 4);
            if (id == "fmt ")
            {
                Assert.Equal(1, (int)BitConverter.ToInt16(wav, offset + 10)); // mono
                rate = BitConverter.ToInt32(wav, offset + 12);
            }
            else if (id == "data")
            {
                size = Math.Min(size, wav.Length - offset - 8);
                var samples = new short[size / 2];
                Buffer.BlockCopy(wav, offset + 8, samples, 0, samples.Length * 2);
                return (rate, samples);
            }

            offset += 8 + size + (size & 1);
        }

        throw new InvalidDataException("The WAV has no data chunk.");
    }
}
