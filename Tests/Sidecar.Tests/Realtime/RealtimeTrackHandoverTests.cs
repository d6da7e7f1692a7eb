using System.Collections.Concurrent;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Realtime;
using CaptionSidecar.Tests.Support;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>
/// A rollover's handover event by event, with scripted connections and a fake clock: what each session hears and
/// which session's turns are captioned.
/// </summary>
public sealed class RealtimeTrackHandoverTests
{
    private readonly TimerSignallingTimeProvider _time = new();
    private readonly ScriptedSessionsConnector _connector = new();
    private readonly Channel<AudioChunk> _chunks = Channel.CreateUnbounded<AudioChunk>();
    private readonly RecordingCaptionInput _captions = new();
    private readonly ToneAudio _audio = new();

    [Fact(Timeout = 30000)]
    public async Task RunAsync_SpeechBeganAtTheHandover_TheNextSessionCaptionsItAndTheOldOneDoesNot()
    {
        var ct = TestContext.Current.CancellationToken;
        var options = new RealtimeOptions { ApiKey = "test-key", TurnDetection = TurnDetectionMode.ServerVad, WatchdogSeconds = 0 };
        var track = new RealtimeTranscriptionTrack(new CaptionLanguage("en", IsSource: true), options, _connector, NullLogger.Instance, _time);
        var run = track.RunAsync(_chunks.Reader, _captions, ct);

        // Session 1 hears a second of audio and one turn, "Alpha." (100-600 ms).
        var old = await HandshakeAsync(0, ct);
        var silence = _audio.Silence(TimeSpan.FromSeconds(3)).ToList();
        await WriteAsync(silence.Take(50));
        await AppendsAsync(old, 50, ct);
        old.Push(new { type = "input_audio_buffer.speech_started", item_id = "a", audio_start_ms = 100 });
        old.Push(new { type = "input_audio_buffer.speech_stopped", item_id = "a", audio_end_ms = 600 });
        old.Push(new { type = "input_audio_buffer.committed", item_id = "a", previous_item_id = (string?)null });
        old.Push(new { type = "conversation.item.input_audio_transcription.completed", item_id = "a", transcript = "Alpha." });
        await _captions.WaitForCompletedAsync(1, ct);

        // At 55 minutes the next session opens; once it is ready the old one hands over at the pause. The clock moves
        // only once the track waits for that moment (its rollover timer exists), not before it has read the clock.
        while (await _time.NextTimerAsync(ct) < TimeSpan.FromMinutes(50))
        {
        }

        _time.Advance(TimeSpan.FromMinutes(55));
        var next = await HandshakeAsync(1, ct);
        // No more audio is needed: the old session decides on the handover as soon as it is asked, at this pause.
        await next.AppendsAsync(1, ct);

        // The next session first hears again the audio since the old one's last turn ended (600 ms on): see the
        // start of its turn below.
        Assert.True(old.AppendCount >= 50);

        // The old session still reports a turn from speech that began at 900 ms, which the next session heard too.
        old.Push(new { type = "input_audio_buffer.speech_started", item_id = "b", audio_start_ms = 900 });
        old.Push(new { type = "input_audio_buffer.committed", item_id = "b", previous_item_id = "a" });
        old.Push(new { type = "conversation.item.input_audio_transcription.delta", item_id = "b", delta = "Bra" });
        old.Push(new { type = "conversation.item.input_audio_transcription.completed", item_id = "b", transcript = "Bravo." });
        await old.NextSentAsync("input_audio_buffer.clear", ct);
        old.Push(new { type = "input_audio_buffer.cleared" });

        // The next session captions that speech (its offset 300 ms is 900 ms on the pipeline).
        next.Push(new { type = "input_audio_buffer.speech_started", item_id = "c", audio_start_ms = 300 });
        next.Push(new { type = "input_audio_buffer.speech_stopped", item_id = "c", audio_end_ms = 800 });
        next.Push(new { type = "input_audio_buffer.committed", item_id = "c", previous_item_id = (string?)null });
        next.Push(new { type = "conversation.item.input_audio_transcription.completed", item_id = "c", transcript = "Bravo." });
        await _captions.WaitForCompletedAsync(2, ct);
        _chunks.Writer.Complete();
        await next.NextSentAsync("input_audio_buffer.clear", ct);
        next.Push(new { type = "input_audio_buffer.cleared" });
        await run;

        Assert.Equal(["Alpha.", "Bravo."], _captions.CompletedInTurnOrder());
        Assert.Equal(["a", "c"], _captions.Commits.Select(c => c.ItemId));
        Assert.Equal(900, _captions.Commits[1].Start.TotalMilliseconds);
        Assert.Equal(["failed b heard by the next session"], _captions.Failed);
        Assert.DoesNotContain(_captions.Completed, c => c.ItemId == "b");
        Assert.Equal(string.Empty, _captions.DeltasOf("b"));
        Assert.Equal(1, track.Status.Rollovers);
        Assert.Equal(0, track.Status.Reconnects);
        Assert.Equal("s2", track.Status.SessionId);
        Assert.True(old.Closed);
    }

    private async Task<ScriptedRealtimeConnection> HandshakeAsync(int index, CancellationToken ct)
    {
        var connection = await _connector.ConnectionAsync(index, ct);
        connection.Push(new { type = "session.created", session = new { id = $"s{index + 1}" } });
        await connection.NextSentAsync("session.update", ct);
        connection.Push(new { type = "session.updated", session = new { id = $"s{index + 1}" } });
        return connection;
    }

    private async Task WriteAsync(IEnumerable<AudioChunk> chunks)
    {
        foreach (var chunk in chunks)
        {
            await _chunks.Writer.WriteAsync(chunk, TestContext.Current.CancellationToken);
        }
    }

    private static Task AppendsAsync(ScriptedRealtimeConnection connection, int count, CancellationToken ct) => connection.AppendsAsync(count, ct);

    /// <summary>Gives every connect a new scripted connection, kept in order.</summary>
    private sealed class ScriptedSessionsConnector : IRealtimeConnector
    {
        private readonly ConcurrentQueue<ScriptedRealtimeConnection> _connections = new();

        /// <summary>Told of every connect and of every event any session sends.</summary>
        public ChangeSignal Sent { get; } = new();

        public Task<IRealtimeConnection> ConnectAsync(RealtimeSessionKind kind, CancellationToken cancellationToken)
        {
            var connection = new ScriptedRealtimeConnection(Sent);
            _connections.Enqueue(connection);
            Sent.Changed();
            return Task.FromResult<IRealtimeConnection>(connection);
        }

        public async Task<ScriptedRealtimeConnection> ConnectionAsync(int index, CancellationToken ct)
        {
            await Sent.UntilAsync(() => _connections.Count > index, $"connection {index + 1} was opened", ct);
            return _connections.ElementAt(index);
        }
    }
}
