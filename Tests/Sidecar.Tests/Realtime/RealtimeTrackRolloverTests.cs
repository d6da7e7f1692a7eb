using System.Diagnostics;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tests.Support;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>
/// Session rollover and the text watchdog of the Realtime tracks, against the fake server with short-lived sessions.
/// Audio is fed in real time, because session lifetimes run on the wall clock while the fake's VAD runs on audio time.
/// </summary>
public sealed class RealtimeTrackRolloverTests : IAsyncDisposable
{
    private static readonly string[] English = [.. Enumerable.Range(1, 7).Select(i => $"English line number {i}.")];
    private static readonly string[] Spanish = [.. Enumerable.Range(1, 7).Select(i => $"Línea número {i} en español.")];
    private readonly ToneAudio _audio = new();
    private readonly Channel<AudioChunk> _chunks = Channel.CreateUnbounded<AudioChunk>();
    private readonly RecordingCaptionInput _captions = new();
    private readonly ListLogger<RealtimeTrack> _log = new();
    private FakeRealtimeServer? _server;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private FakeRealtimeServer Server => _server ?? throw new InvalidOperationException("Start the server first.");

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private async Task StartServerAsync(TimeSpan? sessionLifetime, CancellationToken cancellationToken)
    {
        _server = await FakeRealtimeServer.StartAsync(
            new FakeRealtimeOptions
            {
                Script = FakeScript.FromColumns(new Dictionary<string, IReadOnlyList<string>> { ["en"] = English, ["es"] = Spanish }),
                WordDelay = TimeSpan.FromMilliseconds(1),
                SessionLifetime = sessionLifetime,
            },
            cancellationToken);
    }

    private RealtimeOptions Options(Action<RealtimeOptions>? configure = null) => FakeServerTrackOptions.For(Server.Endpoint, o =>
    {
        o.SilenceDurationMs = 200;
        configure?.Invoke(o);
    });

    private static CountingRealtimeConnector Connector(RealtimeOptions options, params int[] refusedAttempts) =>
        new(new OpenAiRealtimeConnector(Microsoft.Extensions.Options.Options.Create(options)), refusedAttempts);

    private RealtimeTrack Transcription(RealtimeOptions options, IRealtimeConnector connector) =>
        new RealtimeTranscriptionTrack(new CaptionLanguage("en", IsSource: true), options, connector, _log, TimeProvider.System);

    private RealtimeTrack Translation(RealtimeOptions options, IRealtimeConnector connector) =>
        new RealtimeTranslationTrack(new CaptionLanguage("es", IsSource: false), options, connector, _log, TimeProvider.System);

    /// <summary>A short spoken turn: 300 ms of tone, then a pause long enough to end it (200 ms) and some more.</summary>
    private IEnumerable<AudioChunk> Turn() => _audio.Tone(TimeSpan.FromMilliseconds(300)).Concat(_audio.Silence(TimeSpan.FromMilliseconds(500)));

    private IEnumerable<AudioChunk> Turns(int count) => Enumerable.Range(0, count).SelectMany(_ => Turn());

    /// <summary>Writes the chunks no faster than real time.</summary>
    private async Task SayInRealTimeAsync(IEnumerable<AudioChunk> chunks)
    {
        var clock = Stopwatch.StartNew();
        var said = TimeSpan.Zero;
        foreach (var chunk in chunks)
        {
            var ahead = said - clock.Elapsed;
            if (ahead > TimeSpan.FromMilliseconds(5))
            {
                await Task.Delay(ahead, Ct);
            }

            await _chunks.Writer.WriteAsync(chunk, Ct);
            said += chunk.Duration;
        }
    }

    private async Task SpeakAndEndAsync(RealtimeTrack track, IEnumerable<AudioChunk> chunks)
    {
        var run = track.RunAsync(_chunks.Reader, _captions, Ct);
        await SayInRealTimeAsync(chunks);
        _chunks.Writer.Complete();
        await run;
    }

    /// <summary>Which <see cref="Turn"/> (after the first 300 ms) a caption's start falls in; the server reports up to 300 ms of padding before the tone.</summary>
    private static int TurnIndex(TimeSpan start) => (int)Math.Floor((start.TotalSeconds + 0.25) / 0.8);

    private void AssertNoSessionExpired()
    {
        foreach (var session in Server.Sessions)
        {
            Assert.DoesNotContain("session_expired", session.ErrorsSent);
        }
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_TranscriptionSessionsNearTheirLimit_RollOverBeforeItWithEveryLineOnceAndInOrder()
    {
        await StartServerAsync(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        var options = Options();
        var connector = Connector(options);
        var track = Transcription(options, connector);

        await SpeakAndEndAsync(track, _audio.Silence(TimeSpan.FromMilliseconds(300)).Concat(Turns(English.Length)));

        Assert.Equal(English, _captions.CompletedInTurnOrder());
        Assert.True(track.Status.Rollovers >= 2, $"{track.Status.Rollovers} rollovers");
        Assert.Equal(0, track.Status.Reconnects);
        Assert.Equal(0, track.Status.WatchdogRestarts);
        Assert.Equal(TrackSessionState.Stopped, track.Status.State);
        AssertNoSessionExpired();
        Assert.Equal(2, connector.MostOpenAtOnce);
        Assert.Equal(0, connector.Open);
        Assert.Equal(English, Server.Sessions.SelectMany(s => s.CompletedTranscripts));
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_TranslationSessionsNearTheirLimit_RollOverBeforeItWithEveryLineOnceAndInOrder()
    {
        await StartServerAsync(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        var options = Options();
        var connector = Connector(options);
        var track = Translation(options, connector);

        await SpeakAndEndAsync(track, _audio.Silence(TimeSpan.FromMilliseconds(300)).Concat(Turns(Spanish.Length)));

        Assert.Equal(Spanish, _captions.CompletedInTurnOrder());
        Assert.True(track.Status.Rollovers >= 2, $"{track.Status.Rollovers} rollovers");
        Assert.Equal(0, track.Status.Reconnects);
        AssertNoSessionExpired();
        Assert.Equal(2, connector.MostOpenAtOnce);
        Assert.Equal(0, connector.Open);
        Assert.All(Server.Sessions, s => Assert.Equal(FakeSessionType.Realtime, s.SessionType));
        Assert.Equal(Spanish.Length, Server.Sessions.Sum(s => s.ClientEventTypes.Count(t => t == "response.create")));
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_TurnInProgressWhenTheRolloverStarts_TheOldSessionFinishesItWhole()
    {
        // No expiry; the next session opens 1.2 s after the first is ready, in the middle of a 3-second turn.
        await StartServerAsync(sessionLifetime: null, TestContext.Current.CancellationToken);
        var options = Options(o => o.RolloverAfterMinutes = 0.02);
        var connector = Connector(options);
        var track = Transcription(options, connector);
        var longTurn = _audio.Tone(TimeSpan.FromSeconds(3)).Concat(_audio.Silence(TimeSpan.FromMilliseconds(500)));

        await SpeakAndEndAsync(track, _audio.Silence(TimeSpan.FromMilliseconds(300)).Concat(longTurn).Concat(Turns(2)));

        // Split, the long turn would have become two lines and every later line would be off by one.
        Assert.Equal(English[..3], _captions.CompletedInTurnOrder());
        Assert.True(track.Status.Rollovers >= 1, $"{track.Status.Rollovers} rollovers");
        var first = Server.Sessions[0];
        Assert.Equal([English[0]], first.CompletedTranscripts);
        Assert.Single(first.SpeechSpans);
        Assert.Contains(_log.Entries, e => e.Message.Contains("at a pause between turns", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_NextSessionCannotConnect_TheSessionExpiresAndTheTrackReconnectsWithoutLosingALine()
    {
        await StartServerAsync(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        var options = Options();
        var connector = Connector(options, refusedAttempts: 2);
        var track = Transcription(options, connector);

        await SpeakAndEndAsync(track, _audio.Silence(TimeSpan.FromMilliseconds(300)).Concat(Turns(6)));

        // Each of the six turns is captioned once, in order. A turn whose text the expiring session never sent is
        // heard again by the next session, which takes the next script line: which line it gets is not the point.
        var texts = _captions.CompletedInTurnOrder();
        Assert.Equal(6, texts.Count);
        Assert.Equal(texts.Order(StringComparer.Ordinal), texts);
        var completed = _captions.Completed.Select(c => c.ItemId).ToHashSet();
        var turnIndexes = _captions.Commits.Where(c => completed.Contains(c.ItemId)).Select(c => TurnIndex(c.Start)).ToList();
        Assert.Equal([0, 1, 2, 3, 4, 5], turnIndexes);
        Assert.Contains("session_expired", Server.Sessions[0].ErrorsSent);
        Assert.Equal(1, track.Status.Reconnects);
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("could not open the next session ahead of the limit", StringComparison.Ordinal));
        Assert.True(connector.MostOpenAtOnce <= 2);
        Assert.Equal(0, connector.Open);
    }

    [Fact(Timeout = 60000)]
    public async Task RunAsync_SessionCommitsTurnsButNeverAnswers_WatchdogReplacesItAndTheReplayedTurnGetsItsText()
    {
        await StartServerAsync(sessionLifetime: null, TestContext.Current.CancellationToken);
        var options = Options(o => o.WatchdogSeconds = 1);
        var track = Transcription(options, Connector(options));
        var run = track.RunAsync(_chunks.Reader, _captions, Ct);
        await Server.WaitForSessionsAsync(s => s.Count == 1, TimeSpan.FromSeconds(10));
        Server.Faults.WithholdTranscriptions(Server.Sessions[0]);

        foreach (var chunk in _audio.Silence(TimeSpan.FromMilliseconds(300)).Concat(Turn()))
        {
            await _chunks.Writer.WriteAsync(chunk, Ct);
        }

        await _captions.WaitForCompletedAsync(1, Ct);
        _chunks.Writer.Complete();
        await run;

        Assert.Equal([English[0]], _captions.CompletedInTurnOrder());
        Assert.Equal(1, track.Status.WatchdogRestarts);
        Assert.Equal(2, Server.Sessions.Count);
        Assert.Empty(Server.Sessions[0].CompletedTranscripts);
        Assert.Single(Server.Sessions[0].SpeechSpans);
        Assert.Contains(_captions.Failed, f => f.Contains("watchdog", StringComparison.Ordinal));
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("hears speech but returns no text", StringComparison.Ordinal));
    }
}
