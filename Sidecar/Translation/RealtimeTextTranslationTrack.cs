using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using CaptionSidecar.Captions;
using CaptionSidecar.Glossaries;
using CaptionSidecar.Realtime;
using CaptionSidecar.Retries;
using CaptionSidecar.Tracks;
using Polly;

namespace CaptionSidecar.Translation;

/// <summary>
/// The text translation of one target language on the Realtime engine: a text-only conversation session (no audio
/// input, text output) that gets each source line as a user <c>input_text</c> message and answers it with a
/// response whose context is the last few lines and their translations (item references, never a later line).
/// <para>
/// One loop (<see cref="RunAsync"/>) reads one bounded channel of <see cref="TextTranslationInput"/>: lines (from a
/// pump on the caller's channel), server events (from each session's receive task), connections opened (from the
/// connect task, with the product's backoff) and timer ticks; it alone owns the state and writes to the sockets. The
/// decisions are in plain types: <see cref="TextLineSchedule"/> (which line next, retry once alone, the lag limit,
/// exactly-once reports) and <see cref="TranslationConversation"/> (context and trimming).
/// </para>
/// <para>
/// Sessions: a lost session is replaced and its unfinished line asked again there; ahead of a session's limit the
/// next one is opened beside it and takes over between two responses (a rollover). At the end of input the lines
/// taken are finished (bounded by <see cref="RealtimeOptions.DrainTimeoutSeconds"/>).
/// </para>
/// </summary>
internal sealed partial class RealtimeTextTranslationTrack : ITextTranslationTrack
{
    // Full policy: writers wait (the line pump, the receive tasks: they stop reading until the loop catches up);
    // ticks and glossary changes that find it full are dropped, since the loop checks both after every batch.
    private const int InboxCapacity = 1024;
    private const int InputBatch = 64;

    /// <summary>A session lost sooner than this after it opened, having answered nothing, counts as a failed connect for backoff.</summary>
    private static readonly TimeSpan HealthySessionAge = TimeSpan.FromSeconds(10);

    private readonly RealtimeOptions _options;
    private readonly IRealtimeConnector _connector;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly GlossarySource _glossary;
    private readonly ResiliencePipeline _connectRetry;
    private readonly Lock _statusGate = new();
    private readonly Channel<TextTranslationInput> _inbox =
        Channel.CreateBounded<TextTranslationInput>(new BoundedChannelOptions(InboxCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    private TrackStatus _status;

    // Loop state.
    private TextLineSchedule _schedule = null!;
    private Func<string, ICaptionInput> _captions = null!;
    private TextTranslationSession? _live;
    private TextTranslationSession? _next;
    private readonly List<Task> _closing = [];

    // The last lines translated and their translations, given to each new session as its first context.
    private readonly Queue<(string Source, string Translation)> _recent = new();
    private Task? _connecting;
    private CancellationTokenSource? _connectStop;
    private int _sessionsOpened;
    private int _earlyLosses;
    private bool _linesEnded;
    private DateTimeOffset? _drainDeadline;
    private ITimer? _timer;

    /// <param name="language">The target language.</param>
    /// <param name="options">The Realtime settings.</param>
    /// <param name="connector">Opens the sessions.</param>
    /// <param name="logger">The log.</param>
    /// <param name="time">The clock.</param>
    /// <param name="glossary">The glossary, if any.</param>
    /// <param name="lagLimit">False: no line is skipped as late (speech faster than real time, nobody watches live).</param>
    public RealtimeTextTranslationTrack(CaptionLanguage language, RealtimeOptions options, IRealtimeConnector connector, ILogger logger, TimeProvider time, GlossarySource? glossary = null, bool lagLimit = true)
    {
        _lagLimit = lagLimit;
        ArgumentNullException.ThrowIfNull(language);
        ArgumentNullException.ThrowIfNull(options);
        Language = language;
        _options = options;
        _connector = connector;
        _logger = logger;
        _time = time;
        _glossary = glossary ?? GlossarySource.None;
        _status = new TrackStatus(language.Code, TrackSessionState.Starting, Model: options.TextTranslateModel);
        var backoff = new BackoffSettings(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(options.MaxRetryDelaySeconds));
        _connectRetry = Backoff.Forever(backoff, time, OnConnectRetry, static ex => ex is RealtimeConnectException or SessionEndedEarlyException);
    }

    public CaptionLanguage Language { get; }

    public TrackStatus Status
    {
        get
        {
            lock (_statusGate)
            {
                return _status;
            }
        }
    }

    private readonly bool _lagLimit;

    /// <summary>The lag limit; 30 days when there is none (the schedule needs a bound a timer can hold, and no line waits that long).</summary>
    private TimeSpan Lag => _lagLimit ? TimeSpan.FromSeconds(_options.TranslationLagSeconds) : TimeSpan.FromDays(30);

    private DateTimeOffset Now => _time.GetUtcNow();

    public async Task RunAsync(ChannelReader<SourceLine> lines, Func<string, ICaptionInput> captions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(captions);
        _schedule = new TextLineSchedule(Lag, _time.TimestampFrequency);
        _captions = captions;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _timer = _time.CreateTimer(static s => ((RealtimeTextTranslationTrack)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _glossary.Changed += OnGlossaryChanged;
        var pump = PumpLinesAsync(lines, stop.Token);
        try
        {
            Connect();
            await LoopAsync(stop.Token);
            UpdateStatus(s => s with { State = TrackSessionState.Stopped });
        }
        finally
        {
            _glossary.Changed -= OnGlossaryChanged;
            await stop.CancelAsync();
            await ShutdownAsync(pump);
        }
    }

    /// <summary>The loop: until the input ended and every line taken is finished (or the drain gave up).</summary>
    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Decide();
            await FlushAsync(cancellationToken);
            if (_linesEnded && _schedule.Pending == 0)
            {
                return;
            }

            ArmTimer();
            var input = await _inbox.Reader.ReadAsync(cancellationToken);
            var handled = 0;
            do
            {
                Take(input);
            }
            while (++handled < InputBatch && _inbox.Reader.TryRead(out input));
        }
    }

    /// <summary>Acts on the state after a batch of inputs: deadlines, lag, glossary, rollover, the next line.</summary>
    private void Decide()
    {
        var now = Now;
        foreach (var session in Sessions().ToList())
        {
            if (session.Phase != TextSessionPhase.Ready && session.HandshakeDeadline is { } handshake && now >= handshake)
            {
                Lose(session, string.Create(CultureInfo.InvariantCulture, $"the Realtime server did not complete the session handshake within {_options.HandshakeTimeoutSeconds} s"));
            }
            else if (session.Ask is { CancelDeadline: { } cancelBy } && now >= cancelBy)
            {
                Lose(session, "the server did not end a cancelled response");
            }
        }

        SkipLate();
        ApplyGlossary();
        if (_drainDeadline is { } drain && now >= drain)
        {
            var left = _schedule.TakeAll();
            LogDrainTimedOut(Language.Code, _options.DrainTimeoutSeconds, left.Count);
            foreach (var line in left)
            {
                Commit(line).TurnFailed(line.Source.ItemId, "the input ended and the drain timed out");
            }

            return;
        }

        RollOver(now);
        AskNext();
    }

    /// <summary>Takes one input into the loop's state.</summary>
    private void Take(TextTranslationInput input)
    {
        switch (input)
        {
            case TextTranslationInput.LineArrived arrived:
                OnLine(arrived.Line);
                break;
            case TextTranslationInput.LinesEnded:
                _linesEnded = true;
                _drainDeadline = Now + TimeSpan.FromSeconds(_options.DrainTimeoutSeconds);
                UpdateStatus(s => s with { State = TrackSessionState.Draining });
                break;
            case TextTranslationInput.Connected connected:
                OnConnected(connected.Connection);
                break;
            case TextTranslationInput.ConnectFailed failed:
                _connecting = null;
                UpdateStatus(s => s with { State = TrackSessionState.Failed, LastError = failed.Failure.Message });
                throw failed.Failure;
            case TextTranslationInput.ServerEvent server:
                using (server.Document)
                {
                    if (SessionNumbered(server.Session) is { } session)
                    {
                        Handle(session, server.Document.RootElement);
                    }
                }

                break;
            case TextTranslationInput.ConnectionEnded ended:
                if (SessionNumbered(ended.Session) is { } lost)
                {
                    Lose(lost, ended.Reason);
                }

                break;
            default:
                // Tick, GlossaryChanged: Decide checks deadlines and the glossary after every batch.
                break;
        }
    }

    private void OnLine(SourceLine line)
    {
        var (taken, _) = _schedule.Add(line);
        if (!taken)
        {
            LogDuplicateLine(Language.Code, line.ItemId);
        }
    }

    /// <summary>The line's caption track, its turn reported first if it was not yet (see <see cref="TextLine.Committed"/>).</summary>
    private ICaptionInput Commit(TextLine line)
    {
        var captions = _captions(line.Source.SpeakerKey);
        if (!line.Committed)
        {
            line.Committed = true;
            captions.TurnCommitted(line.Source.ItemId, line.Previous, line.Source.Start, line.Source.End);
        }

        return captions;
    }

    /// <summary>Skips the lines whose translation can no longer be final within the lag limit; cancels the one being asked for.</summary>
    private void SkipLate()
    {
        var late = _schedule.TakeLate(_time.GetTimestamp());
        foreach (var line in late)
        {
            if (_live?.Ask is { Cancelled: false } ask && ask.Line == line.Source.ItemId)
            {
                ask.Cancelled = true;
                ask.CancelDeadline = Now + TimeSpan.FromSeconds(_options.HandshakeTimeoutSeconds);
                _live.Send(_live.Events.ResponseCancel(ask.ResponseId), "response.cancel");
            }

            var reason = string.Create(CultureInfo.InvariantCulture, $"the translation was not final within {_options.TranslationLagSeconds} s (Realtime:TranslationLagSeconds)");
            LogSkippedLate(Language.Code, line.Source.ItemId, _options.TranslationLagSeconds);
            Commit(line).TurnFailed(line.Source.ItemId, reason);
            UpdateStatus(s => s with { LinesSkippedLate = s.LinesSkippedLate + 1 });
        }
    }

    /// <summary>Asks the live session for the next line's translation when it is ready and asks for nothing else.</summary>
    private void AskNext()
    {
        while (_live is { Phase: TextSessionPhase.Ready, Ask: null } live && _schedule.Next() is { } line)
        {
            if (string.IsNullOrWhiteSpace(line.Source.Text))
            {
                // Nothing to translate: finished without a request.
                _schedule.Completed(line.Source.ItemId);
                Commit(line).TextCompleted(line.Source.ItemId, string.Empty);
                continue;
            }

            Commit(line);
            var itemId = live.NextItemId();
            var create = live.Events.UserText(itemId, line.Source.Text);
            live.Send(create, "conversation.item.create");
            var context = live.Conversation.Context(itemId, line.Alone);
            live.Conversation.Add(itemId);
            var request = live.Events.ResponseCreate(itemId, context);
            live.Send(request, "response.create");
            live.Ask = new TextAsk(line.Source.ItemId, itemId, create.EventId, request.EventId);
        }
    }

    /// <summary>
    /// Opens the next session when the live one nears its limit, and lets it take over once it is ready and the live
    /// one has no response running (text sessions have no audio to hand over: between two responses is enough).
    /// </summary>
    private void RollOver(DateTimeOffset now)
    {
        if (_live is not { Phase: TextSessionPhase.Ready } live)
        {
            return;
        }

        if (_next is null && _connecting is null && live.RolloverAt is { } at && now >= at)
        {
            LogRolloverStarting(Language.Code, live.Number);
            Connect();
        }

        if (_next is { Phase: TextSessionPhase.Ready } next && live.Ask is null)
        {
            Retire(live);
            _live = next;
            _next = null;
            UpdateStatus(s => s with { Rollovers = s.Rollovers + 1, SessionId = next.SessionId, ExpiresAt = next.ExpiresAt, ConnectedAt = Now });
            LogRolledOver(Language.Code, live.Number, next.Number);
        }
    }

    /// <summary>A line was translated: it may be context for the lines after it, in this session and the next.</summary>
    private void Remember(string source, string translation)
    {
        _recent.Enqueue((source, translation));
        while (_recent.Count > Math.Max(0, (_options.MaxConversationItems - 1) / 2))
        {
            _recent.Dequeue();
        }
    }

    /// <summary>
    /// Gives a session that just became ready the last lines translated before it, with their translations, so the
    /// first lines it translates keep the context a replaced session had (they are all earlier than any line waiting).
    /// </summary>
    private static void Seed(TextTranslationSession session, IEnumerable<(string Source, string Translation)> recent)
    {
        foreach (var (source, translation) in recent)
        {
            var line = session.NextItemId();
            var answer = session.NextItemId();
            session.Send(session.Events.UserText(line, source), "conversation.item.create");
            session.Send(session.Events.AssistantText(answer, translation), "conversation.item.create");
            session.Conversation.Add(line);
            session.Conversation.Add(answer);
            session.Conversation.Translated(line, answer);
        }
    }

    private void OnConnected(IRealtimeConnection connection)
    {
        _connecting = null;
        var session = new TextTranslationSession(++_sessionsOpened, connection, _options.MaxConversationItems, Now)
        {
            HandshakeDeadline = Now + TimeSpan.FromSeconds(_options.HandshakeTimeoutSeconds),
        };
        session.Receive = ReceiveAsync(session);
        if (_live is null)
        {
            _live = session;
        }
        else
        {
            _next = session;
        }
    }

    /// <summary>
    /// A session ended without us ending it (connection lost, handshake or cancel timed out): its line is asked again
    /// in the next session, which is the one opened ahead of a rollover if there is one, else a new connection.
    /// </summary>
    private void Lose(TextTranslationSession session, string reason)
    {
        Retire(session);
        if (session == _next)
        {
            // No second try ahead of this session's limit: when the service ends it, it is replaced like a lost one
            // (with backoff), so a server that keeps refusing new sessions is not asked again at once.
            _next = null;
            if (_live is not null)
            {
                _live.RolloverAt = null;
            }

            LogRolloverFailed(Language.Code, reason);
            return;
        }

        if (session != _live)
        {
            return;
        }

        if (session.Ask is { Cancelled: false })
        {
            _schedule.Interrupted();
        }

        _live = _next;
        _next = null;
        var lasted = Now - session.OpenedAt;
        _earlyLosses = session.Answered == 0 && lasted < HealthySessionAge ? Math.Min(_earlyLosses + 1, 10) : 0;
        UpdateStatus(s => s with { State = TrackSessionState.Reconnecting, Reconnects = s.Reconnects + 1, LastError = reason });
        LogSessionLost(Language.Code, session.Number, reason);
        if (_live is null && _connecting is null)
        {
            Connect();
        }
    }

    /// <summary>Stops a session's receive task and closes its connection in the background (awaited at shutdown).</summary>
    private void Retire(TextTranslationSession session)
    {
        session.Lost.Cancel();
        _closing.RemoveAll(t => t.IsCompleted);
        _closing.Add(CloseAsync(session));
    }

    private async Task CloseAsync(TextTranslationSession session)
    {
        await session.Receive;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
            await session.Connection.CloseAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            LogCloseFailed(Language.Code, ex.Message);
        }
        finally
        {
            await session.Connection.DisposeAsync();
            session.Lost.Dispose();
        }
    }

    /// <summary>Starts the connect task: with the product's backoff, after a wait when sessions keep ending early.</summary>
    private void Connect()
    {
        _connectStop ??= new CancellationTokenSource();
        UpdateStatus(s => s with { State = s.State == TrackSessionState.Starting ? TrackSessionState.Connecting : s.State });
        _connecting = ConnectAsync(_earlyLosses, _connectStop.Token);
    }

    private async Task ConnectAsync(int earlyLosses, CancellationToken cancellationToken)
    {
        await Task.Yield();
        IRealtimeConnection connection;
        try
        {
            // Each session lost early counts as one failed attempt, so replacements of a server that keeps dropping at
            // once are spaced by the same growing, jittered waits as failed connects.
            var forced = earlyLosses;
            connection = await _connectRetry.ExecuteAsync(
                async ct => forced-- > 0
                    ? throw new SessionEndedEarlyException("the previous session ended soon after it opened", TimeSpan.Zero)
                    : await _connector.ConnectAsync(RealtimeSessionKind.TextTranslation, ct),
                cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (RealtimeAuthenticationException ex)
        {
            await PostQuietlyAsync(new TextTranslationInput.ConnectFailed(ex), cancellationToken);
            return;
        }

        if (!await PostQuietlyAsync(new TextTranslationInput.Connected(connection), cancellationToken))
        {
            await connection.DisposeAsync();
        }
    }

    private void OnConnectRetry(RetryAttempt attempt)
    {
        var reason = attempt.Failure?.Message ?? "unknown";
        if (attempt.IsWorthAWarning)
        {
            LogConnectRetry(Language.Code, _options.Endpoint.Host, reason, attempt.Attempt, (long)attempt.Delay.TotalMilliseconds);
        }

        UpdateStatus(s => s with { State = TrackSessionState.Reconnecting, LastError = reason });
    }

    /// <summary>Reads a session's server events into the loop until the connection ends or the session is retired.</summary>
    private async Task ReceiveAsync(TextTranslationSession session)
    {
        await Task.Yield();
        var lost = session.Lost.Token;
        string reason;
        try
        {
            await foreach (var message in session.Connection.ReceiveAsync(lost))
            {
                JsonDocument document;
                try
                {
                    document = JsonDocument.Parse(message.ToMemory());
                }
                catch (JsonException ex)
                {
                    LogMalformed(Language.Code, message.ToMemory().Length, ex.Message);
                    continue;
                }

                if (!await PostQuietlyAsync(new TextTranslationInput.ServerEvent(session.Number, document), lost))
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

        await PostQuietlyAsync(new TextTranslationInput.ConnectionEnded(session.Number, reason), lost);
    }

    /// <summary>Takes lines from the caller's channel into the loop, in order, until it completes.</summary>
    private async Task PumpLinesAsync(ChannelReader<SourceLine> lines, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await foreach (var line in lines.ReadAllAsync(cancellationToken))
            {
                if (!await PostQuietlyAsync(new TextTranslationInput.LineArrived(line), cancellationToken))
                {
                    return;
                }
            }

            await PostQuietlyAsync(TextTranslationInput.LinesEnded.Instance, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The track stops.
        }
    }

    /// <summary>Puts an input on the loop's channel; false when the loop ended or <paramref name="cancellationToken"/> was cancelled.</summary>
    private async Task<bool> PostQuietlyAsync(TextTranslationInput input, CancellationToken cancellationToken)
    {
        try
        {
            while (await _inbox.Writer.WaitToWriteAsync(cancellationToken))
            {
                if (_inbox.Writer.TryWrite(input))
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The session was retired or the track stops.
        }

        return false;
    }

    /// <summary>Sends every session's queued events; a send that fails loses that session.</summary>
    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        foreach (var session in Sessions().ToList())
        {
            try
            {
                while (session.TryTakeQueued(out var queued))
                {
                    await session.Connection.SendAsync(queued.Message, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
            {
                LogSendFailed(ex, Language.Code);
                Lose(session, ex.InnerException?.Message ?? ex.Message);
            }
        }
    }

    /// <summary>Sends each configured session the instructions of a changed glossary: the next line is translated with it.</summary>
    private void ApplyGlossary()
    {
        var current = _glossary.Current;
        foreach (var session in Sessions())
        {
            if (session.Phase != TextSessionPhase.AwaitingCreated && !ReferenceEquals(session.Glossary, current))
            {
                session.Glossary = current;
                session.Send(session.Events.InstructionsUpdate(Instructions(current)), "session.update");
                LogGlossarySent(Language.Code, session.Number, current.Terms.Length);
            }
        }
    }

    private string Instructions(Glossary glossary) => TextTranslationInstructions.For(Language.Code, _options.Prompt, glossary);

    private void OnGlossaryChanged(object? sender, EventArgs e) => _inbox.Writer.TryWrite(TextTranslationInput.GlossaryChanged.Instance);

    private void OnTimer() => _inbox.Writer.TryWrite(TextTranslationInput.Tick.Instance);

    /// <summary>Sets the timer for the earliest deadline ahead: a line's lag limit, a handshake, a cancel, a rollover, the drain.</summary>
    private void ArmTimer()
    {
        var now = Now;
        DateTimeOffset? due = null;
        void Consider(DateTimeOffset? at) => due = at is { } a && (due is null || a < due) ? a : due;
        if (_schedule.NextDeadline is { } lag)
        {
            var ticks = lag - _time.GetTimestamp();
            Consider(now + TimeSpan.FromSeconds(Math.Max(0, (double)ticks / _time.TimestampFrequency)));
        }

        foreach (var session in Sessions())
        {
            Consider(session.Phase == TextSessionPhase.Ready ? null : session.HandshakeDeadline);
            Consider(session.Ask?.CancelDeadline);
        }

        if (_next is null && _connecting is null)
        {
            Consider(_live?.RolloverAt);
        }

        Consider(_drainDeadline);
        if (due is { } passed && passed <= now)
        {
            // Passed while the loop was busy (the clock moved between deciding and arming): look again at once.
            _inbox.Writer.TryWrite(TextTranslationInput.Tick.Instance);
            return;
        }

        _timer?.Change(due is { } d ? d - now : Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (due is { } later && Now >= later)
        {
            // The clock passed it while the timer was being set (a timer is set relative to the time read above).
            _inbox.Writer.TryWrite(TextTranslationInput.Tick.Instance);
        }
    }

    /// <summary>Ends everything the run started: the pump, the connect task, the sessions (closed), the timer.</summary>
    private async Task ShutdownAsync(Task pump)
    {
        _inbox.Writer.TryComplete();
        if (_connectStop is not null)
        {
            await _connectStop.CancelAsync();
        }

        await pump;
        if (_connecting is not null)
        {
            await _connecting;
        }

        foreach (var session in Sessions().ToList())
        {
            Retire(session);
        }

        _live = null;
        _next = null;
        await Task.WhenAll(_closing);
        while (_inbox.Reader.TryRead(out var left))
        {
            switch (left)
            {
                case TextTranslationInput.ServerEvent server:
                    server.Document.Dispose();
                    break;
                case TextTranslationInput.Connected connected:
                    await connected.Connection.DisposeAsync();
                    break;
            }
        }

        if (_timer is not null)
        {
            await _timer.DisposeAsync();
        }

        _connectStop?.Dispose();
    }

    private IEnumerable<TextTranslationSession> Sessions()
    {
        if (_live is not null)
        {
            yield return _live;
        }

        if (_next is not null)
        {
            yield return _next;
        }
    }

    private TextTranslationSession? SessionNumbered(int number) =>
        _live?.Number == number ? _live : _next?.Number == number ? _next : null;

    internal void UpdateStatus(Func<TrackStatus, TrackStatus> change)
    {
        lock (_statusGate)
        {
            _status = change(_status);
        }
    }
}
