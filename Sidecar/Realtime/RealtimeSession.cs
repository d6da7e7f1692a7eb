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
/// <c>session.update</c>, <c>session.updated</c>), replay, audio streaming, speech and commit bookkeeping, errors,
/// and the drain at the end of input.
/// <para>
/// The session is one loop (<see cref="RunAsync"/>) reading one channel of <see cref="SessionInput"/>: parsed
/// server events (from the receive task), audio becoming readable (from a pump that only waits on the track's
/// channel, so no chunk is taken that the loop did not ask for), the track's start and handover requests, and timer
/// ticks. The loop alone owns the state (no locks): turns in a <see cref="TurnLedger"/>, the handover decision in
/// a <see cref="SessionHandover"/>, a kind's own state in the derived class. It is also the socket's only writer:
/// decisions put client events in an outbox, which the loop sends after each input and between audio chunks.
/// </para>
/// <para>
/// The track starts a session's run at once, so its handshake can happen while an older session still takes the
/// audio (a rollover): the session is <see cref="Ready"/> after the handshake and hears audio only from
/// <see cref="StartAsync"/>. <see cref="RequestHandoverAsync"/> makes it give the live audio to its successor at the
/// next pause between turns (<see cref="HandedOver"/>) and then finish its turns like at the end of input;
/// <see cref="Abandon"/> ends it like a lost connection.
/// </para>
/// </summary>
internal abstract partial class RealtimeSession
{
    private const int MinCommitSamples = 100 * (AudioChunk.SampleRate / 1000);

    // Full policy: writers wait. The receive task then stops reading the socket until the loop catches up; the pump
    // and the track's requests wait too (they are few). Ticks that find it full come again shortly.
    private const int InboxCapacity = 1024;
    private const int InputBatch = 64;
    private static readonly TimeSpan TickRetry = TimeSpan.FromMilliseconds(50);

    private readonly IRealtimeConnection _connection;
    private readonly ILogger _logger;
    private readonly AudioReplayBuffer _replay;
    private readonly SentEventLog _sent = new();
    private readonly TurnLedger _turns = new();
    private readonly SessionHandover _handover = new();
    private readonly TextWatchdog _watchdog;
    private readonly Channel<SessionInput> _inbox =
        Channel.CreateBounded<SessionInput>(new BoundedChannelOptions(InboxCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    // Holds what one input's decisions send; emptied by the loop before it reads the next input, so it stays small.
    private readonly Queue<(BinaryData Message, string EventId, string Type)> _outbox = new();
    private readonly Channel<bool> _audioDemand = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly TaskCompletionSource<DateTimeOffset?> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<long> _handedOver = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _abandon = new();
    private string? _abandonReason;
    private string? _closedBy;

    // Loop state.
    private SessionPhase _phase = SessionPhase.AwaitingCreated;
    private string _sessionId = "unknown";
    private DateTimeOffset? _expiresAt;
    private string? _configEventId;
    private string? _clearEventId;
    private bool _cleared;
    private bool _audioEnded;
    private bool _pumpWaiting;
    private long? _startAt;
    private AudioChunk? _heldChunk;
    private long? _holdingFor;
    private DateTimeOffset? _handshakeDeadline;
    private DateTimeOffset? _holdDeadline;
    private DateTimeOffset? _drainDeadline;
    private ITimer? _timer;
    private Task _pump = Task.CompletedTask;
    private CancellationTokenSource? _pumpStop;

    protected RealtimeSession(RealtimeSessionContext context, IRealtimeConnection connection, ICaptionInput captions, AudioReplayBuffer replay, int sessionNumber)
    {
        Context = context;
        _logger = context.Logger;
        _connection = connection;
        _watchdog = new TextWatchdog(TimeSpan.FromSeconds(context.Options.WatchdogSeconds));
        Captions = new WatchedCaptions(captions, this);
        _replay = replay;
        Events = new RealtimeClientEvents(string.Create(CultureInfo.InvariantCulture, $"cs{sessionNumber}"));
    }

    private enum SessionPhase
    {
        AwaitingCreated,
        AwaitingUpdated,
        Ready,
        Live,
        Draining,
    }

    protected RealtimeSessionContext Context { get; }

    /// <summary>Where the session reports turns and text (the watchdog sees every report on the way).</summary>
    protected ICaptionInput Captions { get; }

    protected RealtimeOptions Options => Context.Options;

    protected ILogger Logger => _logger;

    /// <summary>The caption language code, for logs.</summary>
    protected string Language => Context.Language;

    protected RealtimeClientEvents Events { get; }

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

    /// <summary>False while this kind still has work to finish after the last pending turn, before the drain closes the session.</summary>
    protected virtual bool KindSettled => true;

    /// <summary>Completes with the session's <c>expires_at</c> (null when unknown) once the handshake is done.</summary>
    public Task<DateTimeOffset?> Ready => _ready.Task;

    /// <summary>Completes with the pipeline sample the successor hears from, once this session stopped taking live audio.</summary>
    public Task<long> HandedOver => _handedOver.Task;

    /// <summary>Lets the session hear audio, from <paramref name="resumeSample"/> on (replayed audio first, then live).</summary>
    public async ValueTask StartAsync(long resumeSample) => await PostAsync(new SessionInput.Start(resumeSample), CancellationToken.None);

    /// <summary>Asks the session to give the live audio to its successor at the next pause between turns, or at <paramref name="forceAt"/>.</summary>
    public async ValueTask RequestHandoverAsync(DateTimeOffset forceAt) => await PostAsync(new SessionInput.HandoverRequested(forceAt), CancellationToken.None);

    /// <summary>Ends the session as if its connection were lost (pending turns fail and are heard again by the next session).</summary>
    public void Abandon(string reason)
    {
        Interlocked.CompareExchange(ref _abandonReason, reason, null);
        _abandon.Cancel();
    }

    /// <summary>
    /// Runs the session until the input ends (drained), it handed over to its successor (its turns finished), or the
    /// connection is lost or abandoned.
    /// </summary>
    public async Task<RealtimeSessionOutcome> RunAsync(ChannelReader<AudioChunk> audio, CancellationToken cancellationToken)
    {
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _abandon.Token);
        _timer = Context.Time.CreateTimer(static s => ((RealtimeSession)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var receive = ReceiveAsync(lost.Token);
        string reason;
        try
        {
            var (inputEnded, closedBy) = await LoopAsync(audio, lost.Token);
            if (closedBy is null)
            {
                await CloseQuietlyAsync(cancellationToken);
                return new RealtimeSessionOutcome(inputEnded, inputEnded ? "input ended" : "handed over", _turns.ResumeSample);
            }

            reason = closedBy;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await CloseQuietlyAsync(CancellationToken.None);
            throw;
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            reason = "the connection closed";
        }
        catch (OperationCanceledException ex) when (ex.InnerException is IOException or WebSocketException)
        {
            // A WebSocket reports a send on a broken connection as cancelled, with the reason inside.
            reason = ex.InnerException?.Message ?? "the connection broke";
        }
        catch (TimeoutException ex)
        {
            // The handshake took too long: the track logs the reason and opens a new session.
            reason = ex.Message;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            reason = ex.Message;
            LogSendFailed(ex, Language);
        }
        catch (RealtimeConfigurationException)
        {
            await CloseQuietlyAsync(CancellationToken.None);
            throw;
        }
        finally
        {
            await lost.CancelAsync();
            await EndLoopAsync(receive);
        }

        var abandoned = Volatile.Read(ref _abandonReason);
        if (abandoned is not null)
        {
            await CloseQuietlyAsync(CancellationToken.None);
        }

        reason = abandoned ?? Volatile.Read(ref _closedBy) ?? reason;

        // The replacement session hears this audio again (see ResumeSample): these items will not get text here.
        foreach (var item in _turns.PendingTurns.ToList())
        {
            Captions.TurnFailed(item, reason);
        }

        return new RealtimeSessionOutcome(false, reason, _turns.ResumeSample);
    }

    /// <summary>
    /// The loop: handshake, replay and live audio, drain. Returns whether the input ended (false: handed over), or why
    /// the server ended the connection.
    /// </summary>
    private async Task<(bool InputEnded, string? ClosedBy)> LoopAsync(ChannelReader<AudioChunk> audio, CancellationToken lost)
    {
        _handshakeDeadline = Now + TimeSpan.FromSeconds(Options.HandshakeTimeoutSeconds);
        while (true)
        {
            if (_phase == SessionPhase.Ready && _startAt is { } resumeSample)
            {
                await StartLiveAsync(resumeSample, audio, lost);
            }

            do
            {
                await FlushAsync(lost);
                if (_phase == SessionPhase.Live)
                {
                    await StreamAsync(audio, lost);
                    await FlushAsync(lost);
                }
            }
            while (GiveUpPassedDeadlines());

            if (_phase == SessionPhase.Draining && (DrainSettled() || _drainDeadline is null))
            {
                return (!_handover.HandedOver, null);
            }

            ArmTimer();

            // Everything already queued is handled before audio moves on, so decisions (a handover at a pause, a
            // hold) see the server's latest word; a batch is bounded so a flood of events cannot starve the audio.
            var input = await _inbox.Reader.ReadAsync(lost);
            var handled = 0;
            do
            {
                if (Take(input) is { } closedBy)
                {
                    return (false, closedBy);
                }
            }
            while (++handled < InputBatch && _inbox.Reader.TryRead(out input));
        }
    }

    /// <summary>Takes one input into the loop's state; returns why the connection ended when it did.</summary>
    private string? Take(SessionInput input)
    {
        switch (input)
        {
            case SessionInput.ServerEvent server:
                using (server.Document)
                {
                    Handle(server.Document.RootElement, server.Length);
                }

                break;
            case SessionInput.ConnectionEnded ended:
                return ended.Reason;
            case SessionInput.AudioReadable:
                _pumpWaiting = false;
                break;
            case SessionInput.AudioEnded:
                _audioEnded = true;
                break;
            case SessionInput.Start start:
                // Heard once the handshake is done (the track may start a session before).
                _startAt ??= start.ResumeSample;
                break;
            case SessionInput.HandoverRequested handover:
                _handover.Request(handover.ForceAt);
                break;
        }

        return null;
    }

    private async Task StartLiveAsync(long resumeSample, ChannelReader<AudioChunk> audio, CancellationToken lost)
    {
        _turns.Start(resumeSample);
        Context.UpdateStatus(s => s with
        {
            State = TrackSessionState.Connected,
            SessionId = _sessionId,
            ConnectedAt = Now,
            ExpiresAt = _expiresAt,
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

        _phase = SessionPhase.Live;
        _pumpStop = CancellationTokenSource.CreateLinkedTokenSource(lost);
        _pumpWaiting = true;
        _pump = PumpAsync(audio, _pumpStop.Token);
    }

    /// <summary>
    /// Sends live chunks while the loop may: not after a handover, and not while the oldest turn still waiting for its
    /// text started more than the replay buffer's length before the next chunk's end (sending it would push that
    /// turn's audio out of the buffer, and a replacement session could no longer hear it again). Holding back needs
    /// no more audio from us (the turn is committed), so it cannot deadlock; queued events still go out. A turn that
    /// takes longer than the drain timeout is given up on (logged) so one stuck turn cannot stop the track.
    /// </summary>
    private async Task StreamAsync(ChannelReader<AudioChunk> audio, CancellationToken lost)
    {
        while (_phase == SessionPhase.Live)
        {
            if (_heldChunk is null && await HandOverNowAsync())
            {
                return;
            }

            if (_heldChunk is null)
            {
                if (!audio.TryRead(out var next))
                {
                    if (_audioEnded)
                    {
                        Context.UpdateStatus(s => s with { State = TrackSessionState.Draining });
                        BeginDrain();
                    }
                    else if (!_pumpWaiting)
                    {
                        // One wait at a time: the pump waits again only once the loop found the channel empty.
                        _pumpWaiting = _audioDemand.Writer.TryWrite(true);
                    }

                    return;
                }

                _heldChunk = next;
            }

            var chunk = _heldChunk.Value;
            if (_turns.HoldingBack(chunk, _replay.CapacitySamples) is { } oldest)
            {
                if (_holdingFor != oldest)
                {
                    _holdingFor = oldest;
                    _holdDeadline = Now + TimeSpan.FromSeconds(Options.DrainTimeoutSeconds);
                    ArmTimer();
                    Context.UpdateStatus(s => s with { ReplayWaits = s.ReplayWaits + 1 });
                }

                return;
            }

            _holdingFor = null;
            _holdDeadline = null;
            _heldChunk = null;
            _replay.Add(chunk);
            await AppendAsync(chunk, lost);
            await FlushAsync(lost);
        }
    }

    /// <summary>
    /// Whether to stop taking live audio now for a successor: asked for, and at a pause between turns (no speech
    /// heard but uncommitted; manual mode: nothing appended since the last commit) or past the deadline. On a
    /// handover the pump stops before the successor may read the channel, then the session drains.
    /// </summary>
    private async Task<bool> HandOverNowAsync()
    {
        var manual = Options.TurnDetection == TurnDetectionMode.Manual;
        var turnOpen = manual ? _turns.UncommittedSamples > 0 : _turns.InSpeech;
        if (!_handover.TryHandOver(Now, turnOpen, preRoll: !manual, _turns.NextLiveSample, _turns.LastCommitEndSample, _replay))
        {
            return false;
        }

        await StopPumpAsync();
        _turns.HandedOver(_handover.NextHearsFrom);
        _handedOver.TrySetResult(_handover.From!.Value);
        LogHandedOver(Language, turnOpen ? "in the middle of a turn (no pause came in time)" : "at a pause between turns");
        BeginDrain();
        return true;
    }

    /// <summary>Waits on the track's audio channel for the loop, one wait at a time; it never reads a chunk itself.</summary>
    private async Task PumpAsync(ChannelReader<AudioChunk> audio, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                if (!await audio.WaitToReadAsync(stop))
                {
                    await PostAsync(SessionInput.AudioEnded.Instance, stop);
                    return;
                }

                await PostAsync(SessionInput.AudioReadable.Instance, stop);
                await _audioDemand.Reader.ReadAsync(stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Handed over or ended: the successor (if any) waits on the channel from here on.
        }
    }

    private async Task StopPumpAsync()
    {
        if (_pumpStop is not null)
        {
            await _pumpStop.CancelAsync();
        }

        await _pump;
    }

    /// <summary>Reads server events until the connection ends, and passes them to the loop in order.</summary>
    private async Task ReceiveAsync(CancellationToken lost)
    {
        await Task.Yield();
        string reason;
        try
        {
            await foreach (var message in _connection.ReceiveAsync(lost))
            {
                if (Parse(message) is { } document && !await PostAsync(new SessionInput.ServerEvent(document, message.ToMemory().Length), lost))
                {
                    document.Dispose();
                    return;
                }
            }

            reason = "the server closed the connection";
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            reason = ex.Message;
        }

        // Also kept aside: a send that fails at the same time may end the loop before it reads this.
        Volatile.Write(ref _closedBy, reason);
        try
        {
            await PostAsync(new SessionInput.ConnectionEnded(reason), lost);
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            // The loop ended meanwhile.
        }
    }

    /// <summary>Waits for the receive task and the pump, and closes the inbox (later posts are refused).</summary>
    private async Task EndLoopAsync(Task receive)
    {
        await StopPumpAsync();
        _inbox.Writer.TryComplete();
        await receive;
        _timer?.Dispose();
        _pumpStop?.Dispose();
        while (_inbox.Reader.TryRead(out var left))
        {
            (left as SessionInput.ServerEvent)?.Document.Dispose();
        }

        if (_heldChunk is { } held)
        {
            // Held back when the connection dropped, the chunk is still heard by the replacement session.
            _replay.Add(held);
            _heldChunk = null;
        }
    }

    /// <summary>Puts an input on the loop's channel; false when the loop has ended.</summary>
    private async ValueTask<bool> PostAsync(SessionInput input, CancellationToken cancellationToken)
    {
        while (await _inbox.Writer.WaitToWriteAsync(cancellationToken))
        {
            if (_inbox.Writer.TryWrite(input))
            {
                return true;
            }
        }

        return false;
    }

    private void OnTimer()
    {
        if (!_inbox.Writer.TryWrite(SessionInput.Tick.Instance) && !_inbox.Reader.Completion.IsCompleted)
        {
            try
            {
                _timer?.Change(TickRetry, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // The loop ended.
            }
        }
    }

    /// <summary>Sets the timer for the earliest deadline still ahead (or stops it).</summary>
    private void ArmTimer()
    {
        DateTimeOffset? due = null;
        void Consider(DateTimeOffset? at) => due = at is { } a && (due is null || a < due) ? a : due;
        Consider(_handshakeDeadline);
        Consider(_holdDeadline);
        Consider(_drainDeadline);
        if (!_handover.HandedOver)
        {
            Consider(_watchdog.Deadline);
        }
        if (_phase == SessionPhase.Live && _heldChunk is null)
        {
            // Mid-turn at the deadline even when no audio comes to trigger the decision.
            Consider(_handover.ForceAt);
        }

        var wait = due is { } d ? Max(d - Now, TimeSpan.Zero) : Timeout.InfiniteTimeSpan;
        _timer?.Change(wait, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Acts on deadlines that passed: a handshake that took too long throws, a stalled session is abandoned (the
    /// watchdog), a drain is given up on; returns true when
    /// a hold was given up on (so audio may go out at once).
    /// </summary>
    private bool GiveUpPassedDeadlines()
    {
        var streamOn = false;
        var now = Now;
        if (_handshakeDeadline is { } handshake && now >= handshake)
        {
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                $"the Realtime server did not complete the session handshake within {Options.HandshakeTimeoutSeconds} s"));
        }

        if (_holdDeadline is { } hold && now >= hold && _holdingFor is { } oldest)
        {
            _turns.GiveUpWaitingFor(oldest);
            _holdingFor = null;
            _holdDeadline = null;
            LogReplayWaitGivenUp(Language, Options.DrainTimeoutSeconds, Options.ReplaySeconds);
            streamOn = _phase == SessionPhase.Live;
        }

        if (!_handover.HandedOver && _watchdog.Stalled(now) is { } stalled)
        {
            // Hears speech but answers nothing: replaced like a lost session, its unanswered audio heard again.
            LogWatchdog(Language, stalled);
            Context.UpdateStatus(s => s with { WatchdogRestarts = s.WatchdogRestarts + 1 });
            Abandon("watchdog: " + stalled);
            _abandon.Token.ThrowIfCancellationRequested();
        }

        if (_drainDeadline is { } drain && now >= drain)
        {
            _drainDeadline = null;
            LogDrainTimedOut(Language, Options.DrainTimeoutSeconds, _turns.PendingCount);
        }

        return streamOn;
    }

    private async Task AppendAsync(AudioChunk chunk, CancellationToken cancellationToken)
    {
        var (message, id) = Events.Append(chunk.Pcm16.Span);
        await SendAsync(message, id, "input_audio_buffer.append", cancellationToken);
        _turns.Appended(chunk);
        Context.UpdateStatus(s => s with { ChunksSent = s.ChunksSent + 1 });
        if (Options.TurnDetection == TurnDetectionMode.Manual && _turns.UncommittedSamples >= Options.ManualCommitSeconds * AudioChunk.SampleRate)
        {
            Send(Events.Commit(), "input_audio_buffer.commit");
            _turns.CommitSent();
            await FlushAsync(cancellationToken);
        }
    }

    /// <summary>
    /// The input ended, or the session handed the live audio over: close the last turn (manual mode: commit what is
    /// left; VAD modes: append the silence that ends a turn, as a pause would), then send
    /// <c>input_audio_buffer.clear</c>. The server handles events in order, so its <c>cleared</c> answer means it has
    /// heard every byte and made every commit it will make; then the loop waits for the pending turns (within the
    /// drain timeout; queued events still go out). The clear drops only trailing silence, so no silence is committed
    /// and billed.
    /// </summary>
    private void BeginDrain()
    {
        _phase = SessionPhase.Draining;
        _holdDeadline = null;
        _holdingFor = null;
        _drainDeadline = Now + TimeSpan.FromSeconds(Options.DrainTimeoutSeconds);
        if (Options.TurnDetection == TurnDetectionMode.Manual)
        {
            if (_turns.UncommittedSamples >= MinCommitSamples)
            {
                Send(Events.Commit(), "input_audio_buffer.commit");
                _turns.CommitSent();
            }
        }
        else
        {
            var silence = new byte[AudioChunk.SampleRate / 10 * 2]; // 100 ms
            for (var sent = TimeSpan.Zero; sent < Options.TurnEndingSilence; sent += TimeSpan.FromMilliseconds(100))
            {
                Send(Events.Append(silence), "input_audio_buffer.append");
                _turns.AppendedSilence(silence.Length / 2);
            }
        }

        var clear = Events.Clear();
        _clearEventId = clear.EventId;
        Send(clear, "input_audio_buffer.clear");
    }

    private bool DrainSettled() => _cleared && _turns.PendingCount == 0 && KindSettled;

    /// <summary>Queues a client event; the loop (the socket's only writer) sends it before it reads the next input.</summary>
    protected void Send((BinaryData Message, string EventId) evt, string type) => _outbox.Enqueue((evt.Message, evt.EventId, type));

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (_outbox.TryDequeue(out var queued))
        {
            await SendAsync(queued.Message, queued.EventId, queued.Type, cancellationToken);
        }
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
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), Context.Time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            await _connection.CloseAsync(linked.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            LogCloseFailed(Language, ex.Message);
        }
    }

    private JsonDocument? Parse(BinaryData message)
    {
        try
        {
            return JsonDocument.Parse(message.ToMemory());
        }
        catch (JsonException ex)
        {
            LogMalformed(Language, message.ToMemory().Length, Snippet(message.ToMemory().Span), ex.Message);
            return null;
        }
    }

    private void Handle(JsonElement root, int length)
    {
        if (root.ValueKind != JsonValueKind.Object || Str(root, "type") is not { } type)
        {
            LogMalformed(Language, length, Snippet(Encoding.UTF8.GetBytes(root.GetRawText())), "no event type");
            return;
        }

        try
        {
            Dispatch(type, root);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or KeyNotFoundException)
        {
            // A field of an unexpected JSON type: keep the session, log what came.
            LogMalformed(Language, length, Snippet(Encoding.UTF8.GetBytes(root.GetRawText())), ex.Message);
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
                OnSessionUpdated();
                break;
            case "input_audio_buffer.speech_started":
                var started = _turns.SpeechStarted(Str(e, "item_id"), Num(e, "audio_start_ms"));
                if (!_handover.HandedOver)
                {
                    // After a handover the successor hears the live speech and reports it.
                    Captions.SpeechStarted(started);
                }

                break;
            case "input_audio_buffer.speech_stopped":
                var stopped = _turns.SpeechStopped(Str(e, "item_id"), Num(e, "audio_end_ms"));
                if (!_handover.HandedOver)
                {
                    Captions.SpeechStopped(stopped);
                }

                break;
            case "input_audio_buffer.committed":
                OnCommitted(e);
                break;
            case "input_audio_buffer.cleared":
                _cleared = true;
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
        if (_phase != SessionPhase.AwaitingCreated || !e.TryGetProperty("session", out var session))
        {
            return;
        }

        _sessionId = Str(session, "id") ?? "unknown";

        // 0 means "does not expire" (a server without a limit).
        _expiresAt = session.TryGetProperty("expires_at", out var exp) && exp.ValueKind == JsonValueKind.Number && exp.TryGetInt64(out var seconds) && seconds > 0
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
        var update = SessionUpdate();
        _configEventId = update.EventId;
        Send(update, "session.update");
        _phase = SessionPhase.AwaitingUpdated;
        _handshakeDeadline = Now + TimeSpan.FromSeconds(Options.HandshakeTimeoutSeconds);
    }

    private void OnSessionUpdated()
    {
        if (_phase != SessionPhase.AwaitingUpdated)
        {
            return;
        }

        _phase = SessionPhase.Ready;
        _handshakeDeadline = null;
        LogConfigured(Language, _sessionId, Model, Options.TurnDetection);
        _ready.TrySetResult(_expiresAt);
    }

    private void OnCommitted(JsonElement e)
    {
        if (Str(e, "item_id") is not { } item)
        {
            return;
        }

        var previous = PreviousTurn(item, Str(e, "previous_item_id"));
        var turn = _turns.Committed(item);
        if (turn.LeftToSuccessor)
        {
            // Speech that began at the handover: the successor heard it from its start too and captions it.
            LogLeftToSuccessor(Language, item);
            Captions.TurnFailed(item, "heard by the next session");
            return;
        }

        Captions.TurnCommitted(item, previous, turn.Start, turn.End);
        OnTurnCommitted(item);
    }

    /// <summary>The turn <paramref name="item"/> got its text or failed: it no longer holds back the drain or the resume point.</summary>
    protected void TurnFinished(string item) => _turns.Finished(item);

    /// <summary>
    /// True for a turn this session committed after its handover from audio its successor heard too: the successor
    /// captions it, so its text here is ignored.
    /// </summary>
    protected bool IsHeardByNext(string item) => _turns.IsLeftToSuccessor(item);

    /// <summary>True while <paramref name="item"/> is a committed turn still waiting for its text.</summary>
    protected bool IsPendingTurn(string item) => _turns.IsPending(item);

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

        Context.UpdateStatus(s => s with { RateLimits = list });
    }

    private void OnError(JsonElement e)
    {
        var error = RealtimeServerError.From(e);
        Context.UpdateStatus(s => s with { LastError = error.Summary });
        if (error.Code == "session_expired")
        {
            LogSessionExpired(Language, error.Message ?? "no message");
            return;
        }

        LogServerError(Language, error.Describe(_sent.TypeOf(error.EventId)));
        if (error.EventId is not { } clientEventId)
        {
            return;
        }

        if (clientEventId == _configEventId)
        {
            if (_phase == SessionPhase.AwaitingUpdated)
            {
                throw new RealtimeConfigurationException(
                    $"The Realtime server refused the session configuration: {error.Summary}" + (error.Param is null ? string.Empty : $" (setting {error.Param})"));
            }
        }
        else if (clientEventId == _clearEventId)
        {
            // The final clear was answered, by an error naming it: the server has heard everything all the same.
            _cleared = true;
        }
        else
        {
            OnEventRefused(clientEventId, error.CodeOrUnknown, error.Message ?? string.Empty);
        }
    }

    private DateTimeOffset Now => Context.Time.GetUtcNow();

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>A string field, or null when missing or not a string.</summary>
    protected static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>An integer field, or 0 when missing or not an integer.</summary>
    protected static long Num(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;

    private static string Snippet(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 120)]);
        return text.ReplaceLineEndings(" ");
    }

    /// <summary>Passes every report on, and tells the session's watchdog about turns and their text.</summary>
    private sealed class WatchedCaptions(ICaptionInput captions, RealtimeSession session) : ICaptionInput
    {
        public void SpeechStarted(TimeSpan at) => captions.SpeechStarted(at);

        public void SpeechStopped(TimeSpan at) => captions.SpeechStopped(at);

        public void TurnCommitted(string itemId, string? previousItemId, TimeSpan start, TimeSpan end)
        {
            captions.TurnCommitted(itemId, previousItemId, start, end);
            session._watchdog.Committed(itemId, session.Now);
        }

        public void TextDelta(string itemId, string delta)
        {
            captions.TextDelta(itemId, delta);
            session._watchdog.Answered(itemId, finished: false, session.Now);
        }

        public void TextCompleted(string itemId, string text)
        {
            captions.TextCompleted(itemId, text);
            session._watchdog.Answered(itemId, finished: true, session.Now);
        }

        public void TurnFailed(string itemId, string reason)
        {
            captions.TurnFailed(itemId, reason);
            session._watchdog.Answered(itemId, finished: true, session.Now);
        }
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: the Realtime server reported {Error}")]
    private partial void LogServerError(string language, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {Language}: the Realtime session reached its maximum duration ({Message}); a new session takes over")]
    private partial void LogSessionExpired(string language, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: sending to the Realtime server failed")]
    private partial void LogSendFailed(Exception ex, string language);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: {Pending} turns were still pending {Seconds} s after the session's last audio (end of input or handover); giving up on them")]
    private partial void LogDrainTimedOut(string language, int seconds, int pending);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: the session hears speech but returns no text ({Reason}); replacing it and replaying the unanswered audio")]
    private partial void LogWatchdog(string language, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Track {Language}: closing the Realtime connection failed: {Reason}")]
    private partial void LogCloseFailed(string language, string reason);
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
