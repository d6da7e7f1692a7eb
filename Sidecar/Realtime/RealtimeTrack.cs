using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Captions;
using CaptionSidecar.Tracks;
using Polly;
using Polly.Retry;

namespace CaptionSidecar.Realtime;

/// <summary>
/// A language track on the Realtime engine: streams the audio into a session of its kind and reports the text of
/// each turn to the caption track. It owns its sessions: when one is lost (network drop, server close, expiry) it
/// opens the next with jittered backoff and replays the audio that was not yet turned into text, invisibly to callers.
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
    private readonly Lock _statusGate = new();
    private TrackStatus _status;

    protected RealtimeTrack(CaptionLanguage language, RealtimeOptions options, IRealtimeConnector connector, ILogger logger, TimeProvider time, string model)
    {
        Language = language;
        _options = options;
        _connector = connector;
        _logger = logger;
        _time = time;
        _status = new TrackStatus(language.Code, TrackSessionState.Starting, Model: model);
        _connectRetry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RealtimeConnectException>(),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(500),
                MaxDelay = TimeSpan.FromSeconds(options.MaxRetryDelaySeconds),
                OnRetry = args =>
                {
                    var reason = args.Outcome.Exception?.Message ?? "unknown";
                    LogConnectRetry(Language.Code, _options.Endpoint.Host, reason, args.AttemptNumber + 1, (long)args.RetryDelay.TotalMilliseconds);
                    UpdateStatus(s => s with { State = TrackSessionState.Reconnecting, LastError = reason });
                    return default;
                },
            })
            .Build();
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
        var replay = new AudioReplayBuffer(TimeSpan.FromSeconds(_options.ReplaySeconds));
        long resumeSample = 0;
        var shortSessions = 0;
        for (var sessionNumber = 1; ; sessionNumber++)
        {
            UpdateStatus(s => s with { State = sessionNumber == 1 ? TrackSessionState.Connecting : TrackSessionState.Reconnecting });
            var connection = await _connectRetry.ExecuteAsync(
                async ct => await _connector.ConnectAsync(Kind, ct), cancellationToken);
            var startedAt = _time.GetUtcNow();
            RealtimeSessionOutcome outcome;
            await using (connection)
            {
                var session = CreateSession(connection, captions, replay, sessionNumber);
                outcome = await session.RunAsync(audio, resumeSample, cancellationToken);
                resumeSample = outcome.ResumeSample;
            }

            if (outcome.InputEnded)
            {
                UpdateStatus(s => s with { State = TrackSessionState.Stopped });
                return;
            }

            UpdateStatus(s => s with { State = TrackSessionState.Reconnecting, Reconnects = s.Reconnects + 1, LastError = outcome.Reason });
            LogSessionLost(Language.Code, outcome.Reason);
            shortSessions = _time.GetUtcNow() - startedAt < HealthySessionAge ? shortSessions + 1 : 0;
            if (shortSessions > 0)
            {
                // A server that accepts and then drops at once must not be hammered: back off as for a refused connect.
                var delay = TimeSpan.FromMilliseconds(Math.Min(_options.MaxRetryDelaySeconds * 1000.0, 500 * Math.Pow(2, shortSessions - 1)));
                await Task.Delay(delay, _time, cancellationToken);
            }
        }
    }

    internal RealtimeOptions Options => _options;

    internal ILogger Logger => _logger;

    internal TimeProvider Time => _time;

    internal void UpdateStatus(Func<TrackStatus, TrackStatus> change)
    {
        lock (_statusGate)
        {
            _status = change(_status);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: could not reach the Realtime endpoint {Host} ({Reason}); retry {Attempt} in {DelayMs} ms")]
    private partial void LogConnectRetry(string language, string host, string reason, int attempt, long delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: the Realtime session ended ({Reason}); opening a new one and replaying the audio not yet captioned")]
    private partial void LogSessionLost(string language, string reason);
}

/// <summary>The source-language track: a Realtime transcription session reports what the server hears.</summary>
internal sealed class RealtimeTranscriptionTrack(CaptionLanguage language, RealtimeOptions options, IRealtimeConnector connector, ILogger logger, TimeProvider time)
    : RealtimeTrack(language, options, connector, logger, time, options.TranscribeModel)
{
    protected override RealtimeSessionKind Kind => RealtimeSessionKind.Transcription;

    protected override RealtimeSession CreateSession(IRealtimeConnection connection, ICaptionInput captions, AudioReplayBuffer replay, int sessionNumber) =>
        new RealtimeTranscriptionSession(this, connection, captions, replay, sessionNumber);
}

/// <summary>A translation target's track: a Realtime conversation session translates each turn into the track's language.</summary>
internal sealed class RealtimeTranslationTrack(CaptionLanguage language, RealtimeOptions options, IRealtimeConnector connector, ILogger logger, TimeProvider time)
    : RealtimeTrack(language, options, connector, logger, time, options.TranslateModel)
{
    protected override RealtimeSessionKind Kind => RealtimeSessionKind.Translation;

    protected override RealtimeSession CreateSession(IRealtimeConnection connection, ICaptionInput captions, AudioReplayBuffer replay, int sessionNumber) =>
        new RealtimeTranslationSession(this, connection, captions, replay, sessionNumber);
}

/// <summary>How one session ended.</summary>
/// <param name="InputEnded">True when the audio input ended and every pending turn was finished.</param>
/// <param name="Reason">Why the session ended, for logs and status.</param>
/// <param name="ResumeSample">Where a replacement session should start hearing audio again (pipeline sample).</param>
internal sealed record RealtimeSessionOutcome(bool InputEnded, string Reason, long ResumeSample);
