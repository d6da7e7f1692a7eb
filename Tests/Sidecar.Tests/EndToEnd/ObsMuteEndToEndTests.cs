using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.ObsBridge;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// <c>--obs-mute-source</c> against the real headless OBS: muting an audio input in OBS stops the audio to the
/// (fake) Realtime session after the turn-ending silence; unmuting lets it flow again.
/// </summary>
[Collection(RealObsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ObsMuteEndToEndTests : IDisposable
{
    private const int BytesPerSecond = 24_000 * 2; // 24 kHz mono PCM16
    private const int ClosingSilenceBytes = BytesPerSecond; // server-vad: 500 ms silence_duration_ms + 500 ms
    private const int StatusRoundingBytes = BytesPerSecond / 10; // /api/status rounds mutedSeconds to 0.1 s
    private static readonly string[] AudioKinds = ["pulse_input_capture", "ffmpeg_source", "alsa_input_capture", "wasapi_input_capture", "coreaudio_input_capture"];
    private readonly TestFolder _folder = new("caption-obs-mute-e2e-");

    public void Dispose() => _folder.Dispose();

    /// <summary>A 440 Hz tone, 24 kHz PCM16 mono, a whole number of 20 ms chunks long.</summary>
    private static byte[] Tone(double seconds)
    {
        var samples = (int)Math.Round(seconds * 50) * 480;
        var bytes = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            var v = (short)(8000 * Math.Sin(2 * Math.PI * 440 * i / 24_000.0));
            bytes[2 * i] = (byte)v;
            bytes[(2 * i) + 1] = (byte)(v >> 8);
        }

        return bytes;
    }

    private static async Task<(bool? Muted, double? MutedSeconds)> StatusAsync(SidecarControl control, CancellationToken ct)
    {
        using var status = JsonDocument.Parse(await control.Http.GetStringAsync("/api/status", ct));
        var muted = status.RootElement.GetProperty("muted");
        var seconds = status.RootElement.GetProperty("mutedSeconds");
        return (muted.ValueKind == JsonValueKind.Null ? null : muted.GetBoolean(), seconds.ValueKind == JsonValueKind.Null ? null : seconds.GetDouble());
    }

    [Fact(Timeout = 240000)]
    public async Task Run_MicMutedInObs_NoAudioReachesTheSessionUntilUnmuted()
    {
        var ct = TestContext.Current.CancellationToken;
        var (url, password) = ObsEndToEndTests.Obs();
        await using var obs = new ObsClient(Options.Create(new ObsClientOptions { Url = url, Password = password }), NullLogger<ObsClient>.Instance, TimeProvider.System);
        obs.Start();
        try
        {
            await obs.WaitUntilConnectedAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        }
        catch (TimeoutException)
        {
            Peers.Missing($"headless OBS does not answer at {url}: start it with scripts/obs-headless.sh start");
        }

        var kinds = (await obs.SendRequestAsync("GetInputKindList", cancellationToken: ct)).EnsureSuccess()
            .Data.GetProperty("inputKinds").EnumerateArray().Select(k => k.GetString()).ToList();
        var kind = AudioKinds.FirstOrDefault(kinds.Contains);
        Assert.True(kind is not null, $"this OBS offers no audio capture kind to create: {string.Join(", ", kinds)}");
        var scene = (await obs.SendRequestAsync("GetCurrentProgramScene", cancellationToken: ct)).EnsureSuccess()
            .Data.GetProperty("currentProgramSceneName").GetString();
        var mic = $"Mute test mic {Guid.NewGuid():N}";
        var captions = $"Mute test {Guid.NewGuid():N} ({{lang}})";
        (await obs.SendRequestAsync("CreateInput", new JsonObject { ["sceneName"] = scene, ["inputName"] = mic, ["inputKind"] = kind }, ct)).EnsureSuccess();
        try
        {
            await using var server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = FakeScript.FromLines(SpeechFixture.Sentences) }, ct);
            await using var sidecar = SidecarProcess.Start(
                ["--input", "stdin", "--input-rate", "24000", "--input-channels", "1", "--exit-at-end", "--no-voice-gate",
                 "--engine", "openai", "--api-key", "test-key", "--realtime-endpoint", server.Endpoint.ToString(), "--turn-detection", "server-vad",
                 "--data-dir", _folder.Data, "--http-port", "0", "--obs-url", url.ToString(),
                 "--obs-source-template", captions, "--obs-mute-source", mic],
                redirectStdin: true,
                environment: new Dictionary<string, string> { ["OBS_WEBSOCKET_PASSWORD"] = password });
            using var control = await SidecarControl.ConnectAsync(sidecar);
            long written = 0;

            async Task WriteAsync(byte[] audio)
            {
                await sidecar.WriteStdinAsync(audio, ct);
                written += audio.Length;
            }

            long AppendedBytes() => server.Sessions.Sum(s => s.AppendedBytes);

            // Feeds audio in 100 ms pieces until the status shows the state: the pipeline notices a change on its next chunk.
            async Task FeedUntilAsync(bool muted)
            {
                var piece = Tone(0.1);
                for (var i = 0; (await StatusAsync(control, ct)).Muted != muted; i++)
                {
                    Assert.True(i < 600, $"/api/status never showed muted={muted} in 60 s of audio.\n{sidecar.Stderr}");
                    Assert.False(sidecar.HasExited, sidecar.Stderr);
                    await WriteAsync(piece);
                }
            }

            // Unmuted: the feature is on (muted is false, not null) and audio flows.
            (await obs.SendRequestAsync("SetInputMute", new JsonObject { ["inputName"] = mic, ["inputMuted"] = false }, ct)).EnsureSuccess();
            await Poll.ForAsync(
                probe => StatusAsync(control, probe),
                status => status.Muted is not null,
                "/api/status to show the mute state (muted, mutedSeconds)",
                ct,
                timeoutMs: 60000,
                intervalMs: 100,
                failIf: sidecar.ExitedWith,
                details: sidecar.StderrDetails);

            Assert.Equal((false, 0.0), await StatusAsync(control, ct));
            await WriteAsync(Tone(2));
            await Poll.UntilAsync(() => AppendedBytes() >= 2 * BytesPerSecond, "the first 2 s of audio reached the session", ct, 60000);

            // Muted in OBS: after the closing silence nothing more is sent, however much audio comes in.
            (await obs.SendRequestAsync("SetInputMute", new JsonObject { ["inputName"] = mic, ["inputMuted"] = true }, ct)).EnsureSuccess();
            await FeedUntilAsync(muted: true);
            await WriteAsync(Tone(10));
            await Poll.ForAsync(
                probe => StatusAsync(control, probe),
                status => (status.MutedSeconds ?? 0) >= 10,
                "the pipeline to take in the 10 s written while muted (muted, mutedSeconds)",
                ct,
                timeoutMs: 60000,
                intervalMs: 100,
                failIf: sidecar.ExitedWith,
                details: sidecar.StderrDetails);

            // Unmuted again: audio flows.
            (await obs.SendRequestAsync("SetInputMute", new JsonObject { ["inputName"] = mic, ["inputMuted"] = false }, ct)).EnsureSuccess();
            await FeedUntilAsync(muted: false);
            var held = (await StatusAsync(control, ct)).MutedSeconds!.Value;
            var beforeLast = AppendedBytes();
            await sidecar.WriteStdinAndCloseAsync(Tone(2), ct);
            written += 2 * BytesPerSecond;
            await Poll.UntilAsync(() => AppendedBytes() >= beforeLast + (2 * BytesPerSecond), "audio flows again after unmuting", ct, 60000);
            Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(60), ct));

            // Every byte written was sent, except what came in while muted; of that only the closing silence was sent.
            // The end of input adds one more turn-ending silence.
            var heldBytes = (long)(held * BytesPerSecond);
            var expected = written - heldBytes + ClosingSilenceBytes;
            var appended = AppendedBytes();
            TestContext.Current.SendDiagnosticMessage($"written {written} B, held {held} s, appended {appended} B, expected {expected}..{expected + ClosingSilenceBytes} B");
            Assert.True(held >= 10, $"only {held} s counted as muted");
            Assert.InRange(appended, expected - StatusRoundingBytes, expected + ClosingSilenceBytes + StatusRoundingBytes);
            Assert.Contains($"Captioning paused: OBS input '{mic}' is muted", sidecar.Stderr, StringComparison.Ordinal);
            Assert.Contains("Captioning resumed", sidecar.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            // The mic, and the caption source the sidecar made when it showed the fake server's lines (if it did).
            await obs.SendRequestAsync("RemoveInput", new JsonObject { ["inputName"] = mic }, CancellationToken.None);
            await obs.SendRequestAsync("RemoveInput", new JsonObject { ["inputName"] = captions.Replace("{lang}", "en", StringComparison.Ordinal) }, CancellationToken.None);
        }
    }
}
