using System.Runtime.Versioning;
using CaptionSidecar.Audio;
using CaptionSidecar.Tests.EndToEnd;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionSidecar.Tests.Audio;

/// <summary>
/// Records a real PulseAudio daemon: <c>scripts/pulse-headless.sh start</c> provides one with a null sink named
/// caption_test. Without it these tests skip locally and fail under CI.
/// </summary>
[SupportedOSPlatform("linux")]
[Collection(PulseAudioDaemon.Name)]
[Trait("Category", "Integration")]
public sealed class PulseAudioCaptureTests : IDisposable
{
    private const string Sink = "caption_test";
    private const int Rate = 48_000;
    private readonly string _folder = Directory.CreateTempSubdirectory("pulse-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Task RequireDaemonAsync(CancellationToken cancellationToken) => Peers.RequirePulseDaemonAsync(Sink, cancellationToken);

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_ToneIntoNullSink_CapturesAlmostAllOfItFromTheMonitor()
    {
        await RequireDaemonAsync(TestContext.Current.CancellationToken);
        var paplay = Peers.RequireExecutable("paplay");
        var tone = Path.Combine(_folder, "tone.wav");
        var samples = SignalMath.Sine(1_000, Rate, 2 * Rate, amplitude: 0.5).Select(s => (short)Math.Round(s * 32_767)).ToArray();
        await File.WriteAllBytesAsync(
            tone,
            new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(1, 1, Rate, 16)).Chunk("data", WavBuilder.Pcm16(samples)).Build(),
            TestContext.Current.CancellationToken);

        var captured = new List<float>();
        await using (var capture = new PulseAudioCapture($"{Sink}.monitor", Rate, channels: 1, NullLogger<PulseAudioCapture>.Instance))
        {
            Assert.True(capture.IsLive);
            var play = Peers.RunAsync(paplay, [$"--device={Sink}", tone], TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
            var buffer = new float[Rate / 50];
            while (captured.Count < 4 * Rate)
            {
                var read = await capture.ReadAsync(buffer, TestContext.Current.CancellationToken);
                Assert.True(read > 0, "the capture ended early");
                captured.AddRange(buffer.AsSpan(0, read));
            }

            var (exitCode, _, stderr) = await play;
            Assert.True(exitCode == 0, $"paplay failed: {stderr}");
        }

        // Count 20 ms windows that hold the tone at close to its level: a 2 s tone is 100 of them. Losing the start of
        // a recording (a large default fragment size) would show here.
        var all = captured.ToArray();
        var window = Rate / 50;
        var toneWindows = 0;
        for (var start = 0; start + window <= all.Length; start += window)
        {
            var (amplitude, residual) = SignalMath.FitSine(all.AsSpan(start, window), 1_000, Rate);
            if (amplitude > 0.4 && residual < 0.05)
            {
                toneWindows++;
            }
        }

        Assert.InRange(toneWindows, 90, 101);
    }

    [Fact(Timeout = 30000)]
    public async Task Create_UnknownSource_ThrowsIOExceptionNamingIt()
    {
        await RequireDaemonAsync(TestContext.Current.CancellationToken);

        var ex = Assert.Throws<IOException>(() => new PulseAudioCapture("no_such_source_xyz", Rate, 1, NullLogger<PulseAudioCapture>.Instance));

        Assert.Contains("no capture source named 'no_such_source_xyz'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("pactl list short sources", ex.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task Create_DefaultDeviceThroughFactory_OpensPulseAudio()
    {
        await RequireDaemonAsync(TestContext.Current.CancellationToken);
        var factory = new AudioSourceFactory(NullLoggerFactory.Instance);

        await using var source = await factory.OpenAsync(new AudioOptions { Input = "default" }, TestContext.Current.CancellationToken);

        Assert.IsType<PulseAudioCapture>(source);
        Assert.Equal(new AudioFormat(AudioSourceFactory.DeviceSampleRate, 1), source.Format);
        Assert.True(await source.ReadAsync(new float[960], TestContext.Current.CancellationToken) > 0);
    }

    [Fact(Timeout = 90000)]
    public async Task ReadAsync_SoundServerRestarted_ReopensAndCapturesToneAfterwards()
    {
        var ct = TestContext.Current.CancellationToken;
        await RequireDaemonAsync(ct);
        var paplay = Peers.RequireExecutable("paplay");
        var script = Path.Combine(SidecarProcess.RepoRoot, "scripts", "pulse-headless.sh");
        var tone = Path.Combine(_folder, "tone.wav");
        var samples = SignalMath.Sine(1_000, Rate, Rate / 2, amplitude: 0.5).Select(s => (short)Math.Round(s * 32_767)).ToArray();
        await File.WriteAllBytesAsync(
            tone,
            new WavBuilder().Chunk("fmt ", WavBuilder.Fmt(1, 1, Rate, 16)).Chunk("data", WavBuilder.Pcm16(samples)).Build(),
            ct);
        var logger = new SignallingLogger<PulseAudioCapture>();
        var captured = new List<float>();
        await using var capture = new PulseAudioCapture($"{Sink}.monitor", Rate, channels: 1, logger);
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reader = Task.Run(
            async () =>
            {
                var buffer = new float[Rate / 50];
                while (!stopReading.IsCancellationRequested)
                {
                    var read = await capture.ReadAsync(buffer, stopReading.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    lock (captured)
                    {
                        captured.AddRange(buffer.AsSpan(0, read));
                    }
                }
            },
            ct);

        var (stopped, _, stopError) = await Peers.RunAsync(script, ["stop"], TimeSpan.FromSeconds(30), ct);
        Assert.True(stopped == 0, stopError);
        await logger.NextAsync(m => m.Contains("Audio device lost", StringComparison.Ordinal), ct)
            .WaitAsync(TimeSpan.FromSeconds(10), ct); // a generous bound: the capture must notice the server going away

        var (started, _, startError) = await Peers.RunAsync(script, ["start"], TimeSpan.FromSeconds(60), ct);
        Assert.True(started == 0, startError);
        int restartedAt;
        lock (captured)
        {
            restartedAt = captured.Count;
        }

        // Play the tone until it shows up after the restart: the reopen waits out its backoff first.
        var found = false;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(40);
        while (!found && DateTime.UtcNow < deadline && !reader.IsCompleted)
        {
            await Peers.RunAsync(paplay, [$"--device={Sink}", tone], TimeSpan.FromSeconds(20), ct);
            float[] after;
            lock (captured)
            {
                after = [.. captured.Skip(restartedAt)];
            }

            for (var start = 0; start + (Rate / 50) <= after.Length && !found; start += Rate / 50)
            {
                var (amplitude, residual) = SignalMath.FitSine(after.AsSpan(start, Rate / 50), 1_000, Rate);
                found = amplitude > 0.4 && residual < 0.05;
            }
        }

        await stopReading.CancelAsync();
        try
        {
            await reader;
        }
        catch (OperationCanceledException)
        {
            // the reader was waiting for the next fragment
        }

        Assert.True(found, $"no tone captured after the restart; log:\n{string.Join('\n', logger.Entries.Select(e => e.Message))}");
        Assert.Contains(logger.Entries, e => e.Message.Contains("Audio device reopened", StringComparison.Ordinal));
    }
}
