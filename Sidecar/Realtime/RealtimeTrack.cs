using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Captions;
using CaptionSidecar.Glossaries;
using CaptionSidecar.Retries;
using CaptionSidecar.Tracks;
using Polly;

namespace CaptionSidecar.Realtime;

/// <summary>
/// A language track on the Realtime engine: streams the audio into a session of its kind and reports the text of
/// each turn to the caption track. It owns its sessions, invisibly to callers:
/// <list type="bullet">
/// <item>when one is lost (network drop, server close, expiry) it opens the next with jittered backoff and replays
/// the audio that was not yet turned into text;</item>
/// <item>before a session's limit (<see cref="RolloverSchedule"/>) it opens the next one while the old one still
/// hears the audio, hands the live audio over at a pause between turns, and lets the old one finish its last turns
/// meanwhile (a rollover: no gap, no turn twice);</item>
/// <item>a session that leaves committed turns without text too long (its <see cref="TextWatchdog"/>) gives itself up
/// and is replaced like a lost one.</item>
/// </list>
/// At most two sessions are open at once: the live one and the one before it finishing its turns.
/// </summary>
internal abstract partial class RealtimeTrack : ILanguageTrack
{
    /// <summary>A session that ends sooner than this after it started counts as a failure for backoff.</summary>
    private static readonly TimeSpan HealthySessionAge = TimeSpan.FromSeconds(10);

    private readonly RealtimeOptions _options;
    private readonly IRealtimeConnector _connector;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _connectRetry;
    private readonly ResiliencePipeline _shortSessionRetry;
    private readonly Lock _statusGate = new();
    private TrackStatus _status;

    private readonly GlossarySource _glossary;

    protected RealtimeTrack(CaptionLanguage language, RealtimeOptions options, IRealtimeConnector connector, ILogger logger, TimeProvider time, string model, GlossarySource? glossary)
    {
        _glossary = glossary ?? GlossarySource.None;
        Language = language;
        _options = options;
        _connector = connector;
        _logger = logger;
        _time = time;
        _status = new TrackStatus(language.Code, TrackSessionState.Starting, Model: model);
        var backoff = new BackoffSettings(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(options.MaxRetryDelaySeconds));
        _connectRetry = Backoff.Forever(backoff, time, OnConnectRetry, static ex => ex is RealtimeConnectException);
        _shortSessionRetry = Backoff.Forever(backoff, time, OnShortSession, static ex => ex is SessionEndedEarlyException);
    }

    public CaptionLanguage Language { get; }

    /// <summary>The kind of session this track opens.</summary>
    protected abstract RealtimeSessionKind Kind { get; }

    /// <summary>A session of this track's kind on a new connection.</summary>
    protected abstract RealtimeSession CreateSession(IRealtimeConnection connection, ICaptionInput captions, AudioReplayBuffer replay, int sessionNumber);

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

    public async Task RunAsync(ChannelReader<AudioChunk> audio, ICaptionInput captions, CancellationToken cancellationToken)
    {
        // The replay also covers the watchdog's wait, so the turns it gives up on can be heard again.
        var replaySeconds = _options.ReplaySeconds > 0 ? _options.ReplaySeconds + _options.WatchdogSeconds : 0;
        var run = new TrackRun(audio, new SerialCaptionInput(captions), new AudioReplayBuffer(TimeSpan.FromSeconds(replaySeconds)), cancellationToken);
        try
        {
            // Each pass runs one session until it ends. One that ends sooner than HealthySessionAge (a server that
            // accepts and then drops at once) fails its pass, so the next waits with the product's backoff; a pass
            // after a healthy session starts the waits afresh.
            var inputEnded = false;
            while (!inputEnded)
            {
                inputEnded = await _shortSessionRetry.ExecuteAsync(async _ => await RunOneSessionAsync(run), cancellationToken);
            }
        }
        finally
        {
            foreach (var session in new[] { run.Next, run.Live })
            {
                if (session is not null)
                {
                    await session.StopAsync();
                }
            }

            // The session before the live one finishes its last turns (bounded by the drain timeout) or stops with the track.
            await run.Retiring;
        }
    }

    /// <summary>
    /// Opens a session (or lets a ready successor take over) and runs it until it ends. Returns true when the input
    /// ended; throws <see cref="SessionEndedEarlyException"/> when the session was lost before it was healthy.
    /// </summary>
    private async Task<bool> RunOneSessionAsync(TrackRun run)
    {
        if (run.Next is { CanTakeOver: true })
        {
            // A session opened for a rollover is ready: it replaces the lost one at once.
            run.Live = run.Next;
        }
        else
        {
            if (run.Next is not null)
            {
                await run.Next.StopAsync();
            }

            UpdateStatus(s => s with { State = s.State == TrackSessionState.Starting ? TrackSessionState.Connecting : TrackSessionState.Reconnecting });
            run.Live = await OpenAsync(run, retry: true) ?? throw new InvalidOperationException("A connect with retries returns a session or throws.");
        }

        run.Next = null;
        var startedAt = _time.GetUtcNow();
        await run.Live.Session.StartAsync(run.ResumeSample);
        (var outcome, run.Next) = await LiveAsync(run);
        if (outcome.InputEnded)
        {
            UpdateStatus(s => s with { State = TrackSessionState.Stopped });
            return true;
        }

        run.ResumeSample = outcome.ResumeSample;
        await run.Live.DisposeAsync();
        run.Live = null;
        UpdateStatus(s => s with { State = TrackSessionState.Reconnecting, Reconnects = s.Reconnects + 1, LastError = outcome.Reason });
        LogSessionLost(Language.Code, outcome.Reason);
        var lasted = _time.GetUtcNow() - startedAt;
        if (lasted < HealthySessionAge && run.Next is not { CanTakeOver: true })
        {
            throw new SessionEndedEarlyException(outcome.Reason, lasted);
        }

        return false;
    }

    private void OnConnectRetry(RetryAttempt attempt)
    {
        var reason = attempt.Failure?.Message ?? "unknown";
        var delayMs = (long)attempt.Delay.TotalMilliseconds;
        if (attempt.IsWorthAWarning)
        {
            LogConnectRetry(Language.Code, _options.Endpoint.Host, reason, attempt.Attempt, delayMs);
        }
        else
        {
            LogConnectRetryQuietly(Language.Code, _options.Endpoint.Host, reason, attempt.Attempt, delayMs);
        }

        UpdateStatus(s => s with { State = TrackSessionState.Reconnecting, LastError = reason });
    }

    private void OnShortSession(RetryAttempt attempt)
    {
        var lasted = attempt.Failure is SessionEndedEarlyException early ? early.Lasted : TimeSpan.Zero;
        LogShortSession(Language.Code, (long)lasted.TotalMilliseconds, attempt.Attempt, (long)attempt.Delay.TotalMilliseconds);
    }

    /// <summary>
    /// Runs the live session (<see cref="TrackRun.Live"/>) and its rollovers until the live session ends without
    /// handing over (input ended, lost, or given up by the watchdog). Returns how it ended, and a next session if one
    /// was opened.
    /// </summary>
    private async Task<(RealtimeSessionOutcome Outcome, RealtimeSessionRun? Next)> LiveAsync(TrackRun run)
    {
        while (true)
        {
            var live = run.Live ?? throw new InvalidOperationException("A live session is set before it is supervised.");
            var (handedOverTo, next) = await SuperviseAsync(live, run);
            if (handedOverTo is null)
            {
                return (await live.Run, next);
            }

            // The old session finishes its last turns beside the new one; its end is awaited before the next rollover.
            run.Retiring = live.DisposeAsync().AsTask();
            run.Live = handedOverTo;
            UpdateStatus(s => s with { Rollovers = s.Rollovers + 1 });
            LogRolledOver(Language.Code, live.Number, handedOverTo.Number);
        }
    }

    /// <summary>
    /// Watches the live session: opens the next one when the schedule says so and asks for the handover once it is
    /// ready. Returns the session it handed over to, or null (and any next session opened) once the live session's run
    /// ended.
    /// </summary>
    private async Task<(RealtimeSessionRun? HandedOverTo, RealtimeSessionRun? Next)> SuperviseAsync(RealtimeSessionRun live, TrackRun run)
    {
        await Task.WhenAny(live.Session.Ready, live.Run);
        if (live.Run.IsCompleted)
        {
            return (null, null);
        }

        var schedule = new RolloverSchedule(TimeSpan.FromMinutes(_options.RolloverAfterMinutes), _time.GetUtcNow(), await live.Session.Ready);
        using var timers = CancellationTokenSource.CreateLinkedTokenSource(run.CancellationToken);
        var rolloverDue = schedule.StartAt is { } startAt
            ? Task.Delay(Max(startAt - _time.GetUtcNow(), TimeSpan.Zero), _time, timers.Token)
            : Task.Delay(Timeout.InfiniteTimeSpan, _time, timers.Token);
        Task<RealtimeSessionRun?>? opening = null;
        RealtimeSessionRun? next = null;
        var gaveUp = false;
        var handoverAsked = false;
        try
        {
            while (true)
            {
                if (live.Session.HandedOver.IsCompleted && next is not null)
                {
                    var successor = next;
                    next = null;
                    await successor.Session.StartAsync(await live.Session.HandedOver);
                    return (successor, null);
                }

                if (live.Run.IsCompleted)
                {
                    var keep = next;
                    next = null;
                    return (null, keep);
                }

                if (opening is { IsCompleted: true })
                {
                    next = await opening;
                    opening = null;
                    gaveUp = next is null;
                }

                if (next is not null && !handoverAsked)
                {
                    if (next.Session.Ready.IsCompletedSuccessfully)
                    {
                        await live.Session.RequestHandoverAsync(schedule.HandOverBy(_time.GetUtcNow()));
                        handoverAsked = true;
                    }
                    else if (next.Run.IsCompleted)
                    {
                        var outcome = await next.Run;
                        LogRolloverFailed(Language.Code, outcome.Reason);
                        await next.DisposeAsync();
                        next = null;
                        gaveUp = true;
                    }
                }

                // The session before this one must have finished first: at most two sessions at once.
                var mayOpen = !gaveUp && opening is null && next is null;
                if (mayOpen && rolloverDue.IsCompletedSuccessfully && run.Retiring.IsCompleted)
                {
                    LogRolloverStarting(Language.Code, live.Number);
                    opening = OpenAsync(run, retry: false);
                }

                var waits = new List<Task> { live.Run, live.Session.HandedOver };

                if (mayOpen && opening is null)
                {
                    if (!rolloverDue.IsCompleted)
                    {
                        waits.Add(rolloverDue);
                    }
                    else if (rolloverDue.IsCompletedSuccessfully)
                    {
                        waits.Add(run.Retiring);
                    }
                }

                if (opening is not null)
                {
                    waits.Add(opening);
                }

                if (next is not null && !handoverAsked)
                {
                    waits.Add(next.Session.Ready);
                    waits.Add(next.Run);
                }

                await Task.WhenAny(waits);
            }
        }
        finally
        {
            await timers.CancelAsync();
            if (opening is not null)
            {
                // Opening was cut short (the track stops or the live session failed): a session it made is not needed.
                await ((Task)opening).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (opening.IsCompletedSuccessfully && await opening is { } unused)
                {
                    await unused.StopAsync();
                }
            }

            if (next is not null)
            {
                await next.StopAsync();
            }
        }
    }

    /// <summary>
    /// Connects and starts a session (its handshake runs; it hears audio once started). With <paramref name="retry"/>
    /// it retries with backoff until it succeeds; without, a failed connect is logged and gives null.
    /// </summary>
    private async Task<RealtimeSessionRun?> OpenAsync(TrackRun run, bool retry)
    {
        IRealtimeConnection connection;
        if (retry)
        {
            connection = await _connectRetry.ExecuteAsync(async ct => await _connector.ConnectAsync(Kind, ct), run.CancellationToken);
        }
        else
        {
            try
            {
                connection = await _connector.ConnectAsync(Kind, run.CancellationToken);
            }
            catch (RealtimeConnectException ex)
            {
                LogRolloverFailed(Language.Code, ex.Message);
                return null;
            }
        }

        var number = ++run.SessionsOpened;
        var session = CreateSession(connection, run.Captions, run.Replay, number);
        return new RealtimeSessionRun(number, connection, session, run.Audio, run.CancellationToken);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>What this track's sessions need from it.</summary>
    protected RealtimeSessionContext SessionContext => new(_options, _logger, Language.Code, _time, UpdateStatus, _glossary);

    internal void UpdateStatus(Func<TrackStatus, TrackStatus> change)
    {
        lock (_statusGate)
        {
            _status = change(_status);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: could not open a Realtime session at {Host} ({Reason}); retry {Attempt} in {DelayMs} ms")]
    private partial void LogConnectRetry(string language, string host, string reason, int attempt, long delayMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Track {Language}: could not open a Realtime session at {Host} ({Reason}); retry {Attempt} in {DelayMs} ms")]
    private partial void LogConnectRetryQuietly(string language, string host, string reason, int attempt, long delayMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {Language}: the session ended {LastedMs} ms after it opened; waiting {DelayMs} ms before the next one (attempt {Attempt})")]
    private partial void LogShortSession(string language, long lastedMs, int attempt, long delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: the Realtime session ended ({Reason}); opening a new one and replaying the audio not yet captioned")]
    private partial void LogSessionLost(string language, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {Language}: session {Number} nears its limit; opening the next one beside it")]
    private partial void LogRolloverStarting(string language, int number);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {Language}: rolled over from session {Old} to session {New} without a gap")]
    private partial void LogRolledOver(string language, int old, int @new);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: could not open the next session ahead of the limit ({Reason}); the track reconnects and replays when the current one ends")]
    private partial void LogRolloverFailed(string language, string reason);

    /// <summary>What one <see cref="RunAsync"/> shares between its sessions.</summary>
    private sealed class TrackRun(ChannelReader<AudioChunk> audio, ICaptionInput captions, AudioReplayBuffer replay, CancellationToken cancellationToken)
    {
        public ChannelReader<AudioChunk> Audio { get; } = audio;

        public ICaptionInput Captions { get; } = captions;

        public AudioReplayBuffer Replay { get; } = replay;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public int SessionsOpened { get; set; }

        /// <summary>Where the next session starts hearing audio (pipeline sample): after the last finished turn.</summary>
        public long ResumeSample { get; set; }

        /// <summary>A session opened ahead of a rollover that may take over when the live one ends.</summary>
        public RealtimeSessionRun? Next { get; set; }

        /// <summary>The session hearing the live audio (null between a lost one and its replacement).</summary>
        public RealtimeSessionRun? Live { get; set; }

        /// <summary>The session before the live one finishing its last turns (completed when there is none).</summary>
        public Task Retiring { get; set; } = Task.CompletedTask;
    }
}

/// <summary>The source-language track: a Realtime transcription session reports what the server hears.</summary>
internal sealed class RealtimeTranscriptionTrack(
    CaptionLanguage language, RealtimeOptions options, IRealtimeConnector connector, ILogger logger, TimeProvider time, GlossarySource? glossary = null)
    : RealtimeTrack(language, options, connector, logger, time, options.TranscribeModel, glossary)
{
    protected override RealtimeSessionKind Kind => RealtimeSessionKind.Transcription;

    protected override RealtimeSession CreateSession(IRealtimeConnection connection, ICaptionInput captions, AudioReplayBuffer replay, int sessionNumber) =>
        new RealtimeTranscriptionSession(SessionContext, connection, captions, replay, sessionNumber);
}

/// <summary>A translation target's track: a Realtime conversation session translates each turn into the track's language.</summary>
internal sealed class RealtimeTranslationTrack(
    CaptionLanguage language, RealtimeOptions options, IRealtimeConnector connector, ILogger logger, TimeProvider time, GlossarySource? glossary = null)
    : RealtimeTrack(language, options, connector, logger, time, options.TranslateModel, glossary)
{
    protected override RealtimeSessionKind Kind => RealtimeSessionKind.Translation;

    protected override RealtimeSession CreateSession(IRealtimeConnection connection, ICaptionInput captions, AudioReplayBuffer replay, int sessionNumber) =>
        new RealtimeTranslationSession(SessionContext, connection, captions, replay, sessionNumber);
}

/// <summary>A session ended before it was healthy; the track backs off before the next one.</summary>
internal sealed class SessionEndedEarlyException(string reason, TimeSpan lasted) : Exception(reason)
{
    /// <summary>How long the session ran.</summary>
    public TimeSpan Lasted { get; } = lasted;
}

/// <summary>How one session ended.</summary>
/// <param name="InputEnded">True when the audio input ended and every pending turn was finished (false after a handover too).</param>
/// <param name="Reason">Why the session ended, for logs and status.</param>
/// <param name="ResumeSample">Where a replacement session should start hearing audio again (pipeline sample).</param>
internal sealed record RealtimeSessionOutcome(bool InputEnded, string Reason, long ResumeSample);
