using System.Runtime.CompilerServices;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tests.Support;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>
/// The track's waits between sessions on a fake clock: the product's one backoff (jittered, capped by
/// Realtime:MaxRetryDelaySeconds, Retry-After honoured) for refused connects and for sessions the server drops at once.
/// </summary>
public sealed class RealtimeTrackBackoffTests
{
    /// <summary>The handshake timeout of these tests: its timers are told apart from the backoff's by this due time.</summary>
    private static readonly TimeSpan Handshake = TimeSpan.FromSeconds(120);

    private readonly TimerSignallingTimeProvider _time = new();
    private readonly Channel<AudioChunk> _audio = Channel.CreateUnbounded<AudioChunk>();

    [Fact(Timeout = 30000)]
    public async Task RunAsync_ServerClosesRightAfterSessionCreated_ReconnectsWithJitteredGrowingWaitsUpToTheCap()
    {
        var ct = TestContext.Current.CancellationToken;
        var connector = new DroppingConnector(_ => null);
        var track = Track(connector);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = track.RunAsync(_audio.Reader, new RecordingCaptionInput(), stop.Token);

        var waits = await BackoffWaitsAsync(7, ct);
        await stop.CancelAsync();
        await StoppedAsync(run);

        // Before: exactly 0.5, 1, 2, 4, 8, 16, 30 s. Now jittered (never all on the doubling steps) and within the cap.
        double[] fixedSteps = [0.5, 1, 2, 4, 8, 16, 30];
        Assert.NotEqual(fixedSteps, waits.Select(w => w.TotalSeconds));
        Assert.All(waits, w => Assert.InRange(w, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(30)));
        Assert.True(waits.Skip(4).Average(w => w.TotalSeconds) > waits.Take(2).Average(w => w.TotalSeconds), $"waits grow: {string.Join(", ", waits)}");
        Assert.True(connector.Connects >= 7, $"{connector.Connects} connects");
        Assert.Equal(TrackSessionState.Reconnecting, track.Status.State);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_ConnectRefusedWithRetryAfter_WaitsWhatTheServiceAskedAndShowsTheStatus()
    {
        var ct = TestContext.Current.CancellationToken;
        var refusal = new RealtimeConnectException("HTTP 429 Too Many Requests at the WebSocket upgrade: Rate limit reached.") { StatusCode = 429, RetryAfter = TimeSpan.FromSeconds(7) };
        var connector = new DroppingConnector(n => n <= 2 ? refusal : null);
        var track = Track(connector);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = track.RunAsync(_audio.Reader, new RecordingCaptionInput(), stop.Token);

        var first = await BackoffWaitsAsync(1, ct);
        Assert.Equal(TimeSpan.FromSeconds(7), Assert.Single(first));
        Assert.Equal(TrackSessionState.Reconnecting, track.Status.State);
        Assert.Equal(refusal.Message, track.Status.LastError);
        var second = await BackoffWaitsAsync(1, ct);
        Assert.Equal(TimeSpan.FromSeconds(7), Assert.Single(second));
        await stop.CancelAsync();
        await StoppedAsync(run);
        Assert.True(connector.Connects >= 3);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_FakeServerClosesAfterSessionCreated_BacksOffOnTheFakeClock()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { CloseAfterSessionCreated = true }, ct);
        var options = OptionsFor(server.Endpoint);
        var track = new RealtimeTranscriptionTrack(new CaptionLanguage("en", IsSource: true), options, new OpenAiRealtimeConnector(Options.Create(options)), NullLogger.Instance, _time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = track.RunAsync(_audio.Reader, new RecordingCaptionInput(), stop.Token);

        var waits = await BackoffWaitsAsync(3, ct);
        await stop.CancelAsync();
        await StoppedAsync(run);

        // One session per wait, plus the first: the server is not hammered while the clock stands still.
        Assert.Equal(3, waits.Count);
        Assert.InRange(server.Sessions.Count, 3, 4);

        // One upgrade request per attempt (not the runtime's four); the attempt after the last wait may have sent its
        // request and been cancelled before the server made its session.
        Assert.InRange(server.UpgradeRequests, server.Sessions.Count, Math.Min(server.Sessions.Count + 1, 4));
    }

    /// <summary>Waits for a run the test cancelled (it ends with cancellation).</summary>
    private static async Task StoppedAsync(Task run)
    {
        try
        {
            await run;
        }
        catch (OperationCanceledException)
        {
            // The test stopped the track.
        }
    }

    /// <summary>Advances the fake clock through the next <paramref name="count"/> backoff waits and returns them.</summary>
    private async Task<List<TimeSpan>> BackoffWaitsAsync(int count, CancellationToken ct)
    {
        var waits = new List<TimeSpan>();
        while (waits.Count < count)
        {
            var due = await _time.NextTimerAsync(ct);
            if (due == Handshake || due == Timeout.InfiniteTimeSpan)
            {
                continue;
            }

            waits.Add(due);
            _time.Advance(due);
        }

        return waits;
    }

    private RealtimeTranscriptionTrack Track(IRealtimeConnector connector)
    {
        var options = OptionsFor(new Uri("http://127.0.0.1:9/v1"));
        return new RealtimeTranscriptionTrack(new CaptionLanguage("en", IsSource: true), options, connector, NullLogger.Instance, _time);
    }

    private static RealtimeOptions OptionsFor(Uri endpoint) => FakeServerTrackOptions.For(endpoint, o =>
    {
        o.HandshakeTimeoutSeconds = (int)Handshake.TotalSeconds;
        o.WatchdogSeconds = 0;
        o.RolloverAfterMinutes = 0;
        o.MaxRetryDelaySeconds = 30;
    });

    /// <summary>Refuses the connects <paramref name="refuse"/> names; every other connection sends session.created and closes.</summary>
    private sealed class DroppingConnector(Func<int, Exception?> refuse) : IRealtimeConnector
    {
        private int _connects;

        public int Connects => Volatile.Read(ref _connects);

        public Task<IRealtimeConnection> ConnectAsync(RealtimeSessionKind kind, CancellationToken cancellationToken) =>
            refuse(Interlocked.Increment(ref _connects)) is { } failure
                ? Task.FromException<IRealtimeConnection>(failure)
                : Task.FromResult<IRealtimeConnection>(new ClosesAfterCreated());
    }

    private sealed class ClosesAfterCreated : IRealtimeConnection
    {
        public Task SendAsync(BinaryData message, CancellationToken cancellationToken) => Task.CompletedTask;

        public async IAsyncEnumerable<BinaryData> ReceiveAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            yield return BinaryData.FromString("{\"type\":\"session.created\",\"event_id\":\"event_1\",\"session\":{\"id\":\"sess_1\",\"type\":\"transcription\",\"expires_at\":0}}");
        }

        public Task CloseAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
