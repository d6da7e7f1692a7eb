using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Captions;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Realtime;

/// <summary>
/// One Realtime session on one connection, the part every kind shares: handshake (<c>session.created</c>,
/// <c>session.update</c>, <c>session.updated</c>), replay, audio streaming, the receive loop, speech and commit
/// bookkeeping, errors, and the drain at the end of input. The streaming loop is the socket's only writer: events
/// the receive loop decides to send (a translation's <c>response.create</c>, a <c>conversation.item.delete</c>) are
/// queued with <see cref="Enqueue"/> and written between audio chunks. A kind adds its session configuration and the
/// server events that carry its text.
/// <para>
/// The track starts a session's run at once, so its handshake can happen while an older session still takes the
/// audio (a rollover): the session is <see cref="Ready"/> after the handshake and hears audio only from
/// <see cref="Start"/>. <see cref="RequestHandover"/> makes it give the live audio to its successor at the next pause
/// between turns (<see cref="HandedOver"/>) and then finish its turns like at the end of input;
/// <see cref="Abandon"/> ends it like a lost connection.
/// </para>
/// </summary>
internal abstract partial class RealtimeSession
{
    private const int MinCommitSamples = 100 * (AudioChunk.SampleRate / 1000);
    private const int ControlCapacity = 1024;

    private readonly IRealtimeConnection _connection;
    private readonly ILogger _logger;
    private readonly AudioReplayBuffer _replay;
    private readonly SentEventLog _sent = new();
    private readonly SessionTimeline _timeline = new();
    private readonly Channel<(BinaryData Message, string EventId, string Type)> _control =
        Channel.CreateBounded<(BinaryData, string, string)>(new BoundedChannelOptions(ControlCapacity) { FullMode = BoundedChannelFullMode.Wait });

    // Turn state, shared by the receive loop and the sending loop (under Gate).
    private readonly Dictionary<string, long> _speechStartMs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _speechEndMs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _pendingStartSample = new(StringComparer.Ordinal);
    private long _lastCommitEndMs;
    private long _lastCommitEndSample;
    private long _controlDropped;

    private readonly TaskCompletionSource<string> _created = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _configured = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _bufferAck;
    private string? _configEventId;
    private string? _bufferAckEventId;
    private TaskCompletionSource _pendingDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _turnFinished;
    private long _uncommittedSamples;
    private long _replayWaitGivenUpAt = -1;

    // Life of the session as the track drives it.
    private readonly TaskCompletionSource<DateTimeOffset?> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<long> _start = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SessionHandover _handover = new();
    private readonly CancellationTokenSource _abandon = new();
    private readonly HashSet<string> _heardByNext = new(StringComparer.Ordinal);
    private DateTimeOffset? _expiresAt;
    private string? _abandonReason;
    private bool _inSpeech;
    private long _nextLiveSample;

    protected RealtimeSession(RealtimeTrack track, IRealtimeConnection connection, ICaptionInput captions, AudioReplayBuffer replay, int sessionNumber)
    {
        Track = track;
        _connection = connection;
        Captions = captions;
        _replay = replay;
        Options = track.Options;
        _logger = track.Logger;
        Language = track.Language.Code;
        Events = new RealtimeClientEvents(string.Create(CultureInfo.InvariantCulture, $"cs{sessionNumber}"));
        _pendingDone.TrySetResult();
    }

    protected RealtimeTrack Track { get; }

    protected ICaptionInput Captions { get; }

    protected RealtimeOptions Options { get; }

    protected ILogger Logger => _logger;

    /// <summary>The caption language code, for logs.</summary>
    protected string Language { get; }

    protected RealtimeClientEvents Events { get; }

    /// <summary>Guards turn state shared by the receive loop and the sending loop.</summary>
    protected Lock Gate { get; } = new();

    /// <summary>The model the session runs, for logs.</summary>
    protected abstract string Model { get; }

    /// <summary>This kind's <c>session.update</c>.</summary>
    protected abstract (BinaryData Message, string EventId) SessionUpdate();

    /// <summary>Handles a server event the shared part does not; returns false for events this kind ignores too.</summary>
    protected abstract bool DispatchKind(string type, JsonElement e);

    /// <summary>The turn before <paramref name="item"/> as reported to the captions (by default the server's <c>previous_item_id</c>).</summary>
    protected virtual string? PreviousTurn(string item, string? serverPrevious) => serverPrevious;

    /// <summary>Called after a turn was committed and reported to the captions.</summary>
    protected virtual void OnTurnCommitted(string item)
    {
    }

    /// <summary>The server refused one of our events (its <c>error.event_id</c> named it) that the shared part does not track.</summary>
    protected virtual void OnEventRefused(string clientEventId, string code, string message)
    {
    }

    /// <summary>Work to finish after the last pending turn, before the drain closes the session (completes by default).</summary>
    protected virtual Task AfterTurnsSettled() => Task.CompletedTask;

    /// <summary>Completes with the session's <c>expires_at</c> (null when unknown) once the handshake is done.</summary>
    public Task<DateTimeOffset?> Ready => _ready.Task;

    /// <summary>Completes with the pipeline sample the successor hears from, once this session stopped taking live audio.</summary>
    public Task<long> HandedOver => _handover.Done;

    /// <summary>Lets the session hear audio, from <paramref name="resumeSample"/> on (replayed audio first, then live).</summary>
    public void Start(long resumeSample)
    {
        lock (Gate)
        {
            // Until this session commits a turn, a replacement resumes where this one did.
            _lastCommitEndSample = resumeSample;
        }

        _start.TrySetResult(resumeSample);
    }

    /// <summary>Asks the session to give the live audio to its successor at the next pause between turns, or at <paramref name="forceAt"/>.</summary>
    public void RequestHandover(DateTimeOffset forceAt) => _handover.Request(forceAt);

    /// <summary>Ends the session as if its connection were lost (pending turns fail and are heard again by the next session).</summary>
    public void Abandon(string reason)
    {
        lock (Gate)
        {
            _abandonReason ??= reason;
        }

        _abandon.Cancel();
    }

    /// <summary>
    /// Runs the session until the input ends (drained), it handed over to its successor (its turns finished), or the
    /// connection is lost or abandoned.
    /// </summary>
    public async Task<RealtimeSessionOutcome> RunAsync(ChannelReader<AudioChunk> audio, CancellationToken cancellationToken)
    {
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _abandon.Token);
        var receive = ReceiveLoopAsync(lost);
        string reason;
        try
        {
            var inputEnded = await StreamAsync(audio, lost.Token);
            await DrainAsync(lost.Token, inputEnded);
            await CloseQuietlyAsync(cancellationToken);
            await lost.CancelAsync();
            await receive;
            return new RealtimeSessionOutcome(inputEnded, inputEnded ? "input ended" : "handed over", ResumeSample());
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await CloseQuietlyAsync(CancellationToken.None);
            await lost.CancelAsync();
            await receive;
            throw;
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            reason = "the connection closed";
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or TimeoutException or ObjectDisposedException)
        {
            reason = ex.Message;
            LogSendFailed(ex, Language);
        }
        catch (RealtimeConfigurationException)
        {
            await CloseQuietlyAsync(CancellationToken.None);
            await lost.CancelAsync();
            await receive;
            throw;
        }

        string? abandoned;
        lock (Gate)
        {
            abandoned = _abandonReason;
        }

        if (abandoned is not null)
        {
            await CloseQuietlyAsync(CancellationToken.None);
        }

        await lost.CancelAsync();
        var closedBy = await receive;
        reason = abandoned ?? closedBy ?? reason;
        FailPendingTurns(reason);
        return new RealtimeSessionOutcome(false, reason, ResumeSample());
    }

    /// <summary>
    /// Handshake, then (once started) replay and live audio. Returns true when the input ended, false when the session
    /// handed the live audio over; a lost connection throws.
    /// </summary>
    private async Task<bool> StreamAsync(ChannelReader<AudioChunk> audio, CancellationToken lost)
    {
        var handshake = TimeSpan.FromSeconds(Options.HandshakeTimeoutSeconds);
        var sessionId = await _created.Task.WaitAsync(handshake, Track.Time, lost);
        var (update, updateId) = SessionUpdate();
        lock (Gate)
        {
            _configEventId = updateId;
        }

        await SendAsync(update, updateId, "session.update", lost);
        await _configured.Task.WaitAsync(handshake, Track.Time, lost);
        LogConfigured(Language, sessionId, Model, Options.TurnDetection);
        DateTimeOffset? expiresAt;
        lock (Gate)
        {
            expiresAt = _expiresAt;
        }

        _ready.TrySetResult(expiresAt);
        var resumeSample = await _start.Task.WaitAsync(lost);
        _nextLiveSample = resumeSample;
        Track.UpdateStatus(s => s with
        {
            State = TrackSessionState.Connected,
            SessionId = sessionId,
            ConnectedAt = Track.Time.GetUtcNow(),
            ExpiresAt = expiresAt,
            LastError = null,
        });

        // A pending turn's start already includes the server's prefix padding; a finished turn's end is where new speech can begin.
        var replayed = _replay.Since(resumeSample);
        if (replayed.Count > 0)
        {
            LogReplaying(Language, replayed.Count * replayed[0].Duration.TotalSeconds);
        }

        foreach (var chunk in replayed)
        {
            await AppendAsync(chunk, lost);
        }

        // One persistent wait per channel: a reader may not allow a second WaitToReadAsync while one is pending.
        // The audio wait ends with the handover, before the successor starts waiting on the same channel.
        using var audioWait = CancellationTokenSource.CreateLinkedTokenSource(lost);
        Task<bool>? audioReady = null;
        Task<bool>? controlReady = null;
        while (true)
        {
            await SendQueuedAsync(lost);
            while (!HandOverNow() && audio.TryRead(out var chunk))
            {
                try
                {
                    await WaitForReplayRoomAsync(chunk, lost);
                }
                finally
                {
                    // Held back when the connection dropped, the chunk is still heard by the replacement session.
                    _replay.Add(chunk);
                }

                await AppendAsync(chunk, lost);
                await SendQueuedAsync(lost);
            }

            if (_handover.HandedOver)
            {
                // The successor reads the channel from here on; a wait only peeks, so nothing is lost.
                await audioWait.CancelAsync();
                if (audioReady is not null)
                {
                    await ((Task)audioReady).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                return false;
            }

            audioReady ??= audio.WaitToReadAsync(audioWait.Token).AsTask();
            controlReady ??= _control.Reader.WaitToReadAsync(lost).AsTask();
            var handoverAsked = _handover.Requested;
            Task[] waits = handoverAsked.IsCompleted ? [audioReady, controlReady] : [audioReady, controlReady, handoverAsked];
            await Task.WhenAny(waits);
            if (audioReady.IsCompleted)
            {
                if (!await audioReady)
                {
                    return true;
                }

                audioReady = null;
            }

            if (controlReady.IsCompleted)
            {
                await controlReady;
                controlReady = null;
            }
        }
    }

    /// <summary>
    /// Holds <paramref name="chunk"/> back while the oldest turn still waiting for its text started more than the
    /// replay buffer's length before the chunk's end: sending it would push that turn's audio out of the buffer, and a
    /// replacement session could no longer hear it again. Waiting needs no more audio from us (the turn is committed),
    /// so it cannot deadlock; queued events still go out. A turn that takes longer than the drain timeout is given up
    /// on (logged) so one stuck turn cannot stop the track. A live source's queue absorbs the wait, a file's
    /// backpressure slows it down: either way nothing heard is pushed out unseen.
    /// </summary>
    private async Task WaitForReplayRoomAsync(AudioChunk chunk, CancellationToken lost)
    {
        var room = _replay.CapacitySamples - chunk.SampleCount;
        while (true)
        {
            TaskCompletionSource finished;
            long oldest;
            lock (Gate)
            {
                if (_replay.CapacitySamples <= 0 || OldestPendingSample() is not { } pending)
                {
                    return;
                }

                oldest = pending;
                if (chunk.StartSample + chunk.SampleCount - oldest <= room || oldest == _replayWaitGivenUpAt)
                {
                    return;
                }

                finished = _turnFinished ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            using var stopTimer = CancellationTokenSource.CreateLinkedTokenSource(lost);
            var timeout = Task.Delay(TimeSpan.FromSeconds(Options.DrainTimeoutSeconds), Track.Time, stopTimer.Token);
            Track.UpdateStatus(s => s with { ReplayWaits = s.ReplayWaits + 1 });
            await SendQueuedUntilAsync(Task.WhenAny(finished.Task, timeout), lost);
            await stopTimer.CancelAsync();
            if (!finished.Task.IsCompleted)
            {
                lock (Gate)
                {
                    _replayWaitGivenUpAt = oldest;
                }

                LogReplayWaitGivenUp(Language, Options.DrainTimeoutSeconds, Options.ReplaySeconds);
                return;
            }
        }
    }

    /// <summary>
    /// Whether to stop taking live audio now for a successor: asked for, and at a pause between turns (no speech
    /// heard but uncommitted; manual mode: nothing appended since the last commit) or past the deadline.
    /// </summary>
    private bool HandOverNow()
    {
        var manual = Options.TurnDetection == TurnDetectionMode.Manual;
        bool turnOpen;
        long lastCommitEnd;
        lock (Gate)
        {
            turnOpen = manual ? _uncommittedSamples > 0 : _inSpeech;
            lastCommitEnd = _lastCommitEndSample;
        }

        if (!_handover.TryHandOver(Track.Time.GetUtcNow(), turnOpen, preRoll: !manual, _nextLiveSample, lastCommitEnd, _replay))
        {
            return false;
        }

        LogHandedOver(Language, turnOpen ? "in the middle of a turn (no pause came in time)" : "at a pause between turns");
        return true;
    }

    private async Task AppendAsync(AudioChunk chunk, CancellationToken cancellationToken)
    {
        var (message, id) = Events.Append(chunk.Pcm16.Span);
        await SendAsync(message, id, "input_audio_buffer.append", cancellationToken);
        lock (Gate)
        {
            _timeline.Appended(chunk.StartSample, chunk.SampleCount);
        }

        _nextLiveSample = chunk.StartSample + chunk.SampleCount;

        Track.UpdateStatus(s => s with { ChunksSent = s.ChunksSent + 1 });
        if (Options.TurnDetection == TurnDetectionMode.Manual)
        {
            _uncommittedSamples += chunk.SampleCount;
            if (_uncommittedSamples >= Options.ManualCommitSeconds * AudioChunk.SampleRate)
            {
                await CommitAsync(cancellationToken);
            }
        }
    }

    private async Task CommitAsync(CancellationToken cancellationToken)
    {
        var (message, id) = Events.Commit();
        _uncommittedSamples = 0;
        await SendAsync(message, id, "input_audio_buffer.commit", cancellationToken);
    }

    /// <summary>
    /// The input ended, or the session handed the live audio over: close the last turn (manual mode: commit what is
    /// left; VAD modes: append the silence that ends a turn, as a pause would), then send
    /// <c>input_audio_buffer.clear</c>. The server handles events in order, so its <c>cleared</c> answer means it has
    /// heard every byte and made every commit it will make; then wait for the pending turns (queued events still go
    /// out meanwhile). The clear drops only trailing silence, so no silence is committed and billed.
    /// </summary>
    private async Task DrainAsync(CancellationToken lost, bool inputEnded)
    {
        if (inputEnded)
        {
            // After a handover the track stays live: its successor has the audio.
            Track.UpdateStatus(s => s with { State = TrackSessionState.Draining });
        }

        using var drain = CancellationTokenSource.CreateLinkedTokenSource(lost);
        drain.CancelAfter(TimeSpan.FromSeconds(Options.DrainTimeoutSeconds));
        try
        {
            if (Options.TurnDetection == TurnDetectionMode.Manual)
            {
                if (_uncommittedSamples >= MinCommitSamples)
                {
                    await CommitAsync(drain.Token);
                }
            }
            else
            {
                await AppendSilenceAsync(Options.TurnEndingSilence, drain.Token);
            }

            var ack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var (message, id) = Events.Clear();
            lock (Gate)
            {
                _bufferAck = ack;
                _bufferAckEventId = id;
            }

            await SendAsync(message, id, "input_audio_buffer.clear", drain.Token);
            await SendQueuedUntilAsync(ack.Task, drain.Token);
            Task pending;
            lock (Gate)
            {
                pending = _pendingDone.Task;
            }

            await SendQueuedUntilAsync(pending, drain.Token);
            await SendQueuedUntilAsync(AfterTurnsSettled(), drain.Token);
        }
        catch (OperationCanceledException) when (!lost.IsCancellationRequested)
        {
            LogDrainTimedOut(Language, Options.DrainTimeoutSeconds, PendingCount());
        }
    }

    private async Task AppendSilenceAsync(TimeSpan length, CancellationToken cancellationToken)
    {
        var silence = new byte[AudioChunk.SampleRate / 10 * 2]; // 100 ms
        for (var sent = TimeSpan.Zero; sent < length; sent += TimeSpan.FromMilliseconds(100))
        {
            var (message, id) = Events.Append(silence);
            await SendAsync(message, id, "input_audio_buffer.append", cancellationToken);
            lock (Gate)
            {
                _timeline.AppendedSessionOnly(silence.Length / 2);
            }

            await SendQueuedAsync(cancellationToken);
        }
    }

    /// <summary>Queues a client event for the sending loop (the socket's only writer). Never blocks.</summary>
    protected void Enqueue((BinaryData Message, string EventId) evt, string type)
    {
        if (!_control.Writer.TryWrite((evt.Message, evt.EventId, type)))
        {
            var dropped = Interlocked.Increment(ref _controlDropped);
            LogControlDropped(Language, type, ControlCapacity, dropped);
        }
    }

    private async Task SendQueuedAsync(CancellationToken cancellationToken)
    {
        while (_control.Reader.TryRead(out var queued))
        {
            await SendAsync(queued.Message, queued.EventId, queued.Type, cancellationToken);
        }
    }

    /// <summary>Sends queued events until <paramref name="until"/> completes.</summary>
    private async Task SendQueuedUntilAsync(Task until, CancellationToken cancellationToken)
    {
        while (!until.IsCompleted)
        {
            await SendQueuedAsync(cancellationToken);
            await Task.WhenAny(until.WaitAsync(cancellationToken), _control.Reader.WaitToReadAsync(cancellationToken).AsTask());
            cancellationToken.ThrowIfCancellationRequested();
        }

        await SendQueuedAsync(cancellationToken);
        await until;
    }

    private async Task SendAsync(BinaryData message, string eventId, string type, CancellationToken cancellationToken)
    {
        _sent.Add(eventId, type);
        await _connection.SendAsync(message, cancellationToken);
    }

    private async Task CloseQuietlyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await _connection.CloseAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            LogCloseFailed(Language, ex.Message);
        }
    }

    /// <summary>Reads server events until the connection ends; returns why it ended (null when we ended it).</summary>
    private async Task<string?> ReceiveLoopAsync(CancellationTokenSource lost)
    {
        await Task.Yield();
        string? reason;
        try
        {
            await foreach (var message in _connection.ReceiveAsync(lost.Token))
            {
                Handle(message);
            }

            reason = "the server closed the connection";
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            reason = ex.Message;
        }

        await lost.CancelAsync();
        return reason;
    }

    private void Handle(BinaryData message)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(message.ToMemory());
        }
        catch (JsonException ex)
        {
            LogMalformed(Language, message.ToMemory().Length, Snippet(message), ex.Message);
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || Str(root, "type") is not { } type)
            {
                LogMalformed(Language, message.ToMemory().Length, Snippet(message), "no event type");
                return;
            }

            try
            {
                Dispatch(type, root);
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or KeyNotFoundException)
            {
                // A field of an unexpected JSON type: keep the session, log what came.
                LogMalformed(Language, message.ToMemory().Length, Snippet(message), ex.Message);
            }
        }
    }

    private void Dispatch(string type, JsonElement e)
    {
        switch (type)
        {
            case "session.created":
            case "transcription_session.created":
                OnSessionCreated(e);
                break;
            case "session.updated":
            case "transcription_session.updated":
                _configured.TrySetResult();
                break;
            case "input_audio_buffer.speech_started":
                var started = RecordSpeechEdge(e, "audio_start_ms", _speechStartMs, inSpeech: true);
                if (!_handover.HandedOver)
                {
                    // After a handover the successor hears the live speech and reports it.
                    Captions.SpeechStarted(started);
                }

                break;
            case "input_audio_buffer.speech_stopped":
                var stopped = RecordSpeechEdge(e, "audio_end_ms", _speechEndMs, inSpeech: null);
                if (!_handover.HandedOver)
                {
                    Captions.SpeechStopped(stopped);
                }

                break;
            case "input_audio_buffer.committed":
                OnCommitted(e);
                break;
            case "input_audio_buffer.cleared":
                AcknowledgeFinalClear();
                break;
            case "rate_limits.updated":
                OnRateLimits(e);
                break;
            case "error":
                OnError(e);
                break;
            default:
                // conversation.created and anything newer: nothing to do.
                DispatchKind(type, e);
                break;
        }
    }

    private void OnSessionCreated(JsonElement e)
    {
        if (!e.TryGetProperty("session", out var session))
        {
            return;
        }

        var id = Str(session, "id") ?? "unknown";

        // 0 means "does not expire" (a server without a limit).
        DateTimeOffset? expires = session.TryGetProperty("expires_at", out var exp) && exp.ValueKind == JsonValueKind.Number && exp.TryGetInt64(out var seconds) && seconds > 0
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
        lock (Gate)
        {
            _expiresAt = expires;
        }

        _created.TrySetResult(id);
    }

    /// <summary>Remembers where the server heard a turn start or stop (for its commit) and returns it on the pipeline timeline.</summary>
    private TimeSpan RecordSpeechEdge(JsonElement e, string field, Dictionary<string, long> edges, bool? inSpeech)
    {
        var item = Str(e, "item_id");
        var ms = Num(e, field);
        lock (Gate)
        {
            _inSpeech = inSpeech ?? _inSpeech;
            if (item is not null)
            {
                edges[item] = ms;
            }

            return _timeline.ToPipeline(ms);
        }
    }

    private void OnCommitted(JsonElement e)
    {
        if (Str(e, "item_id") is not { } item)
        {
            return;
        }

        var previous = PreviousTurn(item, Str(e, "previous_item_id"));
        TimeSpan start, end;
        lock (Gate)
        {
            _inSpeech = false;
            var startMs = _speechStartMs.Remove(item, out var s) ? s : _lastCommitEndMs;
            var endMs = _speechEndMs.Remove(item, out var en) ? en : _timeline.SessionSamples * 1000 / AudioChunk.SampleRate;
            start = _timeline.ToPipeline(startMs);
            end = _timeline.ToPipeline(Math.Max(startMs, endMs));
            _lastCommitEndMs = endMs;
            _lastCommitEndSample = SampleOf(end);
            if (_handover.HeardByNext(SampleOf(start)))
            {
                _heardByNext.Add(item);
            }
        }

        if (IsHeardByNext(item))
        {
            // Speech that began at the handover: the successor heard it from its start too and captions it.
            LogLeftToSuccessor(Language, item);
            Captions.TurnFailed(item, "heard by the next session");
            return;
        }

        lock (Gate)
        {
            if (_pendingStartSample.Count == 0)
            {
                _pendingDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            _pendingStartSample[item] = SampleOf(start);
        }

        Captions.TurnCommitted(item, previous, start, end);
        OnTurnCommitted(item);
    }

    /// <summary>The turn <paramref name="item"/> got its text or failed: it no longer holds back the drain or the resume point.</summary>
    protected void TurnFinished(string item)
    {
        lock (Gate)
        {
            if (_pendingStartSample.Remove(item) && _pendingStartSample.Count == 0)
            {
                _pendingDone.TrySetResult();
            }

            _turnFinished?.TrySetResult();
            _turnFinished = null;
        }
    }

    /// <summary>
    /// True for a turn this session committed after its handover from audio its successor heard too: the successor
    /// captions it, so its text here is ignored.
    /// </summary>
    protected bool IsHeardByNext(string item)
    {
        lock (Gate)
        {
            return _heardByNext.Contains(item);
        }
    }

    /// <summary>True while <paramref name="item"/> is a committed turn still waiting for its text.</summary>
    protected bool IsPendingTurn(string item)
    {
        lock (Gate)
        {
            return _pendingStartSample.ContainsKey(item);
        }
    }

    private void OnRateLimits(JsonElement e)
    {
        if (!e.TryGetProperty("rate_limits", out var limits) || limits.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var list = new List<RateLimitStatus>();
        foreach (var limit in limits.EnumerateArray())
        {
            list.Add(new RateLimitStatus(
                Str(limit, "name") ?? "unknown",
                Num(limit, "limit"),
                Num(limit, "remaining"),
                limit.TryGetProperty("reset_seconds", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetDouble() : 0));
        }

        Track.UpdateStatus(s => s with { RateLimits = list });
    }

    private void OnError(JsonElement e)
    {
        var error = e.TryGetProperty("error", out var err) && err.ValueKind == JsonValueKind.Object ? err : e;
        var code = Str(error, "code") ?? Str(error, "type") ?? "unknown";
        var message = Str(error, "message") ?? string.Empty;
        var param = Str(error, "param");
        var clientEventId = Str(error, "event_id");
        var clientEventType = _sent.TypeOf(clientEventId);
        Track.UpdateStatus(s => s with { LastError = $"{code}: {message}" });
        if (code == "session_expired")
        {
            LogSessionExpired(Language, message);
            return;
        }

        LogServerError(Language, code, message, param ?? "-", clientEventType ?? "-", clientEventId ?? "-");
        string? configId, ackId;
        lock (Gate)
        {
            configId = _configEventId;
            ackId = _bufferAckEventId;
        }

        if (clientEventId is null)
        {
            return;
        }

        if (clientEventId == configId)
        {
            _configured.TrySetException(new RealtimeConfigurationException(
                $"The Realtime server refused the session configuration: {code}: {message}" + (param is null ? string.Empty : $" (setting {param})")));
        }
        else if (clientEventId == ackId)
        {
            AcknowledgeFinalClear();
        }
        else
        {
            OnEventRefused(clientEventId, code, message);
        }
    }

    /// <summary>The final clear was answered: by <c>input_audio_buffer.cleared</c>, or by an error naming it.</summary>
    private void AcknowledgeFinalClear()
    {
        TaskCompletionSource? ack;
        lock (Gate)
        {
            ack = _bufferAck;
            _bufferAck = null;
        }

        ack?.TrySetResult();
    }

    private void FailPendingTurns(string reason)
    {
        List<string> pending;
        lock (Gate)
        {
            pending = [.. _pendingStartSample.Keys];
        }

        // The replacement session hears this audio again (see ResumeSample): these items will not get text here.
        foreach (var item in pending)
        {
            Captions.TurnFailed(item, reason);
        }
    }

    private long ResumeSample()
    {
        lock (Gate)
        {
            return OldestPendingSample() ?? _lastCommitEndSample;
        }
    }

    /// <summary>Where the oldest turn still waiting for its text starts (pipeline sample), or null when none waits (under Gate).</summary>
    private long? OldestPendingSample() => _pendingStartSample.Count > 0 ? _pendingStartSample.Values.Min() : null;

    private int PendingCount()
    {
        lock (Gate)
        {
            return _pendingStartSample.Count;
        }
    }

    private static long SampleOf(TimeSpan t) => t.Ticks * AudioChunk.SampleRate / TimeSpan.TicksPerSecond;

    /// <summary>A string field, or null when missing or not a string.</summary>
    protected static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>An integer field, or 0 when missing or not an integer.</summary>
    protected static long Num(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;

    private static string Snippet(BinaryData message)
    {
        var bytes = message.ToMemory().Span;
        var text = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 120)]);
        return text.ReplaceLineEndings(" ");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: a turn has waited {Seconds} s for its text; sending on, so a replacement session may no longer replay all of it (Realtime:ReplaySeconds is {ReplaySeconds})")]
    private partial void LogReplayWaitGivenUp(string language, int seconds, double replaySeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {Language}: Realtime session {SessionId} ready (model {Model}, turn detection {TurnDetection})")]
    private partial void LogConfigured(string language, string sessionId, string model, TurnDetectionMode turnDetection);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {Language}: the session handed the live audio to the next session {When}; it finishes its last turns")]
    private partial void LogHandedOver(string language, string when);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Track {Language}: turn {ItemId} began at the handover; the next session captions it")]
    private partial void LogLeftToSuccessor(string language, string itemId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {Language}: replaying {Seconds:0.0} s of audio that was not captioned yet")]
    private partial void LogReplaying(string language, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: ignored a malformed message from the Realtime server ({Length} bytes, '{Snippet}'): {Problem}")]
    private partial void LogMalformed(string language, int length, string snippet, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: the Realtime server reported {Code}: {Message} (param {Param}) about our {ClientEventType} {ClientEventId}")]
    private partial void LogServerError(string language, string code, string message, string param, string clientEventType, string clientEventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {Language}: the Realtime session reached its maximum duration ({Message}); a new session takes over")]
    private partial void LogSessionExpired(string language, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: sending to the Realtime server failed")]
    private partial void LogSendFailed(Exception ex, string language);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: {Pending} turns were still pending {Seconds} s after the session's last audio (end of input or handover); giving up on them")]
    private partial void LogDrainTimedOut(string language, int seconds, int pending);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Track {Language}: closing the Realtime connection failed: {Reason}")]
    private partial void LogCloseFailed(string language, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Track {Language}: dropped a {Type} event because {Capacity} events were already waiting to be sent ({Dropped} dropped so far)")]
    private partial void LogControlDropped(string language, string type, int capacity, long dropped);
}

/// <summary>The server refused the session configuration (for example an unknown model): retrying cannot help.</summary>
public sealed class RealtimeConfigurationException : Exception
{
    public RealtimeConfigurationException()
    {
    }

    public RealtimeConfigurationException(string message)
        : base(message)
    {
    }

    public RealtimeConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
