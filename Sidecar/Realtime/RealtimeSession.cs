using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Captions;
using CaptionSidecar.Glossaries;

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
    private Glossary _glossary = Glossary.Empty;
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

    /// <summary>This kind's <c>session.update</c> (configured with <see cref="Glossary"/>).</summary>
    protected abstract (BinaryData Message, string EventId) SessionUpdate();

    /// <summary>This kind's mid-session <c>session.update</c> that puts a new <see cref="Glossary"/> in force.</summary>
    protected abstract (BinaryData Message, string EventId) GlossaryUpdate();

    /// <summary>The glossary this session's configuration uses (the one in force when it was last sent).</summary>
    protected Glossary Glossary => _glossary;

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
        var glossary = Context.Glossary;
        _glossary = glossary?.Current ?? Glossary.Empty;
        if (glossary is not null)
        {
            glossary.Changed += OnGlossaryChanged;
        }

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
            if (glossary is not null)
            {
                glossary.Changed -= OnGlossaryChanged;
            }

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
            ApplyGlossary();
        }
    }

    /// <summary>
    /// Tells the loop about a glossary change. When the inbox is full the input is dropped: the loop is busy then and
    /// checks the glossary after every batch anyway (<see cref="ApplyGlossary"/>).
    /// </summary>
    private void OnGlossaryChanged(object? sender, EventArgs e) => _inbox.Writer.TryWrite(SessionInput.GlossaryChanged.Instance);

    /// <summary>
    /// Sends a new glossary to the server once the session is configured (before that, the handshake's
    /// <c>session.update</c> carries it): it applies from the next turn the server transcribes or answers.
    /// </summary>
    private void ApplyGlossary()
    {
        if (Context.Glossary?.Current is not { } current || ReferenceEquals(current, _glossary) || _phase == SessionPhase.AwaitingCreated)
        {
            return;
        }

        _glossary = current;
        Send(GlossaryUpdate(), "session.update");
        LogGlossarySent(Language, current.Terms.Length);
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
            case SessionInput.GlossaryChanged:
                // In order with the server's events: a turn committed after the change is answered with it.
                ApplyGlossary();
                break;
        }

        return null;
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

    private DateTimeOffset Now => Context.Time.GetUtcNow();

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: a turn has waited {Seconds} s for its text; sending on, so a replacement session may no longer replay all of it (Realtime:ReplaySeconds is {ReplaySeconds})")]
    private partial void LogReplayWaitGivenUp(string language, int seconds, double replaySeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {Language}: the session now uses the changed glossary ({Terms} terms) from its next sentence")]
    private partial void LogGlossarySent(string language, int terms);

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
