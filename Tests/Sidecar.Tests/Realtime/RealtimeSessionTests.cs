using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tests.Support;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>
/// What every session kind shares, against a scripted connection: the sending loop never runs further ahead of the
/// oldest unanswered turn than the replay buffer holds, so a replacement session could still hear that turn again.
/// </summary>
public sealed class RealtimeSessionTests
{
    private readonly ScriptedRealtimeConnector _connector = new();
    private readonly Channel<AudioChunk> _audio = Channel.CreateUnbounded<AudioChunk>();
    private readonly RecordingCaptionInput _captions = new();
    private readonly ToneAudio _tone = new();
    private readonly FakeTimeProvider _time = new();
    private RealtimeTranscriptionTrack _track = null!;
    private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
    private Task _run = Task.CompletedTask;

    private ScriptedRealtimeConnection Server => _connector.Connection;

    private async Task StartAsync(CancellationToken cancellationToken, int drainTimeoutSeconds = 10, int watchdogSeconds = 0)
    {
        var options = new RealtimeOptions
        {
            ApiKey = "test-key",
            TurnDetection = TurnDetectionMode.ServerVad,
            ReplaySeconds = 1,
            WatchdogSeconds = watchdogSeconds, // the replay buffer holds ReplaySeconds + WatchdogSeconds
            DrainTimeoutSeconds = drainTimeoutSeconds,
        };
        _track = new RealtimeTranscriptionTrack(new CaptionLanguage("en", IsSource: true), options, _connector, NullLogger.Instance, _time);
        _run = _track.RunAsync(_audio.Reader, _captions, _stop.Token);
        Server.Push(new { type = "session.created", session = new { id = "sess_1", type = "transcription" } });
        await Server.NextSentAsync("session.update", cancellationToken);
        Server.Push(new { type = "session.updated", session = new { id = "sess_1", type = "transcription" } });

        // 200 ms of speech goes out, then the server commits it as a turn that starts at 0.
        Stream(TimeSpan.FromMilliseconds(200));
        await Server.AppendsAsync(10, cancellationToken);
        Server.Push(new { type = "input_audio_buffer.speech_started", audio_start_ms = 0, item_id = "item_1" });
        Server.Push(new { type = "input_audio_buffer.speech_stopped", audio_end_ms = 200, item_id = "item_1" });
        Server.Push(new { type = "input_audio_buffer.committed", item_id = "item_1", previous_item_id = (string?)null });
        await _captions.UntilAsync(() => _captions.Commits.Count == 1, "the turn was committed", cancellationToken);
    }

    private void Stream(TimeSpan duration)
    {
        foreach (var chunk in _tone.Silence(duration))
        {
            _audio.Writer.TryWrite(chunk);
        }
    }

    private async Task FinishAsync(CancellationToken cancellationToken)
    {
        _audio.Writer.Complete();
        await Server.NextSentAsync("input_audio_buffer.clear", cancellationToken);
        Server.Push(new { type = "input_audio_buffer.cleared" });
        await _run;
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_TurnUnansweredForTheReplayLength_HoldsTheNextChunkUntilItsTextArrives()
    {
        var ct = TestContext.Current.CancellationToken;
        await StartAsync(ct);

        Stream(TimeSpan.FromSeconds(3));
        await Poll.UntilAsync(() => _track.Status.ReplayWaits == 1, "the session held a chunk back", ct);

        // One second of audio from the turn's start, less a chunk: the 50th chunk would push the start out.
        Assert.Equal(49, _track.Status.ChunksSent);
        Server.Push(new { type = "conversation.item.input_audio_transcription.completed", item_id = "item_1", transcript = "Hello." });
        await Server.AppendsAsync(160, ct);
        await FinishAsync(ct);

        Assert.Equal(["Hello."], _captions.CompletedInTurnOrder());
        Assert.Equal(1, _track.Status.ReplayWaits);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_TurnUnansweredPastTheDrainTimeout_SendsOnWithoutWaitingForItAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        await StartAsync(ct);

        Stream(TimeSpan.FromSeconds(3));
        await Poll.UntilAsync(() => _track.Status.ReplayWaits == 1, "the session held a chunk back", ct);
        Assert.Equal(49, _track.Status.ChunksSent);
        _time.Advance(TimeSpan.FromSeconds(10));
        await Server.AppendsAsync(160, ct);

        Server.Push(new { type = "conversation.item.input_audio_transcription.completed", item_id = "item_1", transcript = "Late." });
        await FinishAsync(ct);

        Assert.Equal(["Late."], _captions.CompletedInTurnOrder());
        Assert.Equal(1, _track.Status.ReplayWaits);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_TurnStillPendingAtTheEndOfInput_DrainGivesUpOnTheInjectedClock()
    {
        var ct = TestContext.Current.CancellationToken;
        await StartAsync(ct, drainTimeoutSeconds: 600);

        _audio.Writer.Complete();
        await Server.NextSentAsync("input_audio_buffer.clear", ct);
        Server.Push(new { type = "input_audio_buffer.cleared" });

        // The drain deadline is a point on the session's clock: only the fake clock passing it ends the wait.
        _time.Advance(TimeSpan.FromSeconds(600));
        await _run;

        Assert.Empty(_captions.Completed);
        Assert.Equal(TrackSessionState.Stopped, _track.Status.State);
        Assert.True(Server.Closed);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_ServerNeverAnswersTheSessionUpdate_HandshakeTimesOutOnTheInjectedClock()
    {
        var ct = TestContext.Current.CancellationToken;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var log = new ListLogger<RealtimeTrack>();
        var options = new RealtimeOptions { ApiKey = "test-key", HandshakeTimeoutSeconds = 15, WatchdogSeconds = 0 };
        _track = new RealtimeTranscriptionTrack(new CaptionLanguage("en", IsSource: true), options, _connector, log, _time);
        _run = _track.RunAsync(_audio.Reader, _captions, stop.Token);
        Server.Push(new { type = "session.created", session = new { id = "sess_1", type = "transcription" } });
        await Server.NextSentAsync("session.update", ct);

        _time.Advance(TimeSpan.FromSeconds(15));

        // The session gives up and the track replaces it (the scripted connector hands out the same, closed, connection).
        await Poll.UntilAsync(
            () => log.Entries.Any(e => e.Message.Contains("did not complete the session handshake within 15 s", StringComparison.Ordinal)),
            "the track logged why it replaced the session",
            ct);
        Assert.All(log.Entries, e => Assert.Null(e.Exception));
        Assert.True(_track.Status.Reconnects >= 1);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _run);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_CommittedTurnWithoutTextForTheWatchdogLimit_TheSessionGivesItselfUpOnTheInjectedClock()
    {
        var ct = TestContext.Current.CancellationToken;
        await StartAsync(ct, watchdogSeconds: 20);

        _time.Advance(TimeSpan.FromSeconds(20));

        await _captions.UntilAsync(() => _captions.Failed.Any(f => f.StartsWith("failed item_1 watchdog: 1 committed turn(s) got no text for 20 s", StringComparison.Ordinal)), "the turn failed by the watchdog", ct);
        Assert.Equal(1, _track.Status.WatchdogRestarts);
        Assert.True(Server.Closed);
        await _stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _run);
    }
}
