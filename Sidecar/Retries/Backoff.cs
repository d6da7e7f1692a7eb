using Polly;
using Polly.Retry;

namespace CaptionSidecar.Retries;

/// <summary>
/// How long to wait between attempts: the first wait and the cap. The wait doubles from <see cref="FirstDelay"/>
/// towards <see cref="MaxDelay"/> with jitter (Polly's decorrelated jitter), so several retrying parts of the
/// product, or several streamers' sidecars, never retry in step.
/// </summary>
/// <param name="FirstDelay">The wait after the first failure, before jitter.</param>
/// <param name="MaxDelay">The longest wait between two attempts.</param>
public sealed record BackoffSettings(TimeSpan FirstDelay, TimeSpan MaxDelay)
{
    /// <summary>Reconnecting to a network peer: 0.5 s doubling to 30 s.</summary>
    public static BackoffSettings Network { get; } = new(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30));

    /// <summary>
    /// Reconnecting to a peer on the streamer's own machine (OBS): 250 ms doubling to 2 s, so captions are back within
    /// about two seconds of OBS restarting; a local connect that fails costs next to nothing.
    /// </summary>
    public static BackoffSettings LocalPeer { get; } = new(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2));

    /// <summary>Reopening a lost audio device: 250 ms doubling to 5 s.</summary>
    public static BackoffSettings Device { get; } = new(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));

    /// <summary>Writing to a file that failed (disk full, folder read-only): 1 s doubling to 30 s.</summary>
    public static BackoffSettings Disk { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
}

/// <summary>
/// A failure that says when to try again (HTTP <c>Retry-After</c>): <see cref="Backoff"/> waits at least that long.
/// </summary>
public interface IRetryAfter
{
    /// <summary>The wait the peer asked for, if it asked.</summary>
    TimeSpan? RetryAfter { get; }
}

/// <summary>
/// The product's one retry policy (Polly): exponential backoff with jitter, honouring <see cref="IRetryAfter"/>,
/// on the given <see cref="TimeProvider"/>. Every retry in the sidecar goes through it: Realtime connects, the OBS
/// connection, the caption source and stream captions, audio devices reopening, outputs that failed to write.
/// <para>
/// A reconnect loop uses it per outage: <c>await pipeline.ExecuteAsync(connectOnce, ct)</c> retries the failed
/// attempts with growing waits and returns once one succeeds; the next outage starts again from the first wait.
/// </para>
/// </summary>
public static class Backoff
{
    /// <summary>
    /// A pipeline that retries every exception <paramref name="shouldRetry"/> accepts (all but cancellation when
    /// null), without limit, until the operation succeeds or the caller's token is cancelled.
    /// </summary>
    /// <param name="settings">First wait and cap.</param>
    /// <param name="time">The clock the waits run on (a fake one in tests).</param>
    /// <param name="onRetry">Called before each wait with the failure, the attempt number (from 1) and the wait: log it, update status.</param>
    /// <param name="shouldRetry">Which failures are retried; others end the pipeline with that exception.</param>
    public static ResiliencePipeline Forever(
        BackoffSettings settings,
        TimeProvider time,
        Action<RetryAttempt>? onRetry = null,
        Func<Exception, bool>? shouldRetry = null) =>
        Build(settings, time, int.MaxValue, onRetry, shouldRetry);

    /// <summary>As <see cref="Forever"/>, but gives up (rethrows the last failure) after <paramref name="maxRetries"/> retries.</summary>
    public static ResiliencePipeline Limited(
        BackoffSettings settings,
        TimeProvider time,
        int maxRetries,
        Action<RetryAttempt>? onRetry = null,
        Func<Exception, bool>? shouldRetry = null) =>
        Build(settings, time, maxRetries, onRetry, shouldRetry);

    private static ResiliencePipeline Build(
        BackoffSettings settings,
        TimeProvider time,
        int maxRetries,
        Action<RetryAttempt>? onRetry,
        Func<Exception, bool>? shouldRetry)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRetries, 1);
        var retryable = shouldRetry ?? (static ex => ex is not OperationCanceledException);
        return new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && retryable(ex)),
                MaxRetryAttempts = maxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.FirstDelay,
                MaxDelay = settings.MaxDelay,
                // A peer's Retry-After replaces the computed wait (when it asks for more than the cap, it gets the cap).
                DelayGenerator = args => ValueTask.FromResult(
                    args.Outcome.Exception is IRetryAfter { RetryAfter: { } asked }
                        ? (TimeSpan?)(asked < settings.MaxDelay ? asked : settings.MaxDelay)
                        : null),
                OnRetry = args =>
                {
                    onRetry?.Invoke(new RetryAttempt(args.Outcome.Exception, args.AttemptNumber + 1, args.RetryDelay));
                    return default;
                },
            })
            .Build();
    }
}

/// <summary>One failed attempt about to be retried.</summary>
/// <param name="Failure">Why the attempt failed.</param>
/// <param name="Attempt">The failed attempt's number, from 1.</param>
/// <param name="Delay">The wait before the next attempt.</param>
public sealed record RetryAttempt(Exception? Failure, int Attempt, TimeSpan Delay)
{
    /// <summary>
    /// True when this attempt is worth a warning: the first five, then every twelfth, so an outage of an hour leaves
    /// a readable log rather than hundreds of identical lines (the rest go to debug level).
    /// </summary>
    public bool IsWorthAWarning => Attempt <= 5 || Attempt % 12 == 0;
}
