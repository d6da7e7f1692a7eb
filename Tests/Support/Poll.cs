using System.Globalization;

namespace CaptionSidecar.Tests.Support;

/// <summary>
/// The one helper for waiting on something another task or process makes true (a child process, a real OBS or
/// PulseAudio): probes at an interval until a generous upper bound, never a timing assertion. On timeout it fails
/// the test with <see cref="Assert.Fail(string)"/>, naming what was waited for and the last value seen.
/// </summary>
/// <remarks>
/// Every overload takes the same optional settings:
/// <list type="bullet">
/// <item><c>timeoutMs</c>: the upper bound, measured on the monotonic clock (<see cref="TimeProvider.System"/>
/// timestamps), so a wall-clock jump neither shortens nor stretches it. The probe gets a token that is cancelled
/// at the bound too, so a hanging probe cannot outlast it.</item>
/// <item><c>intervalMs</c>: the pause between probes (the first probe runs at once).</item>
/// <item><c>failIf</c>: checked after every unsuccessful probe; a non-null result fails the test at once with that
/// message, e.g. <c>() =&gt; sidecar.HasExited ? sidecar.Stderr : null</c>, so a dead peer does not cost the
/// whole timeout.</item>
/// <item><c>details</c>: more text for the timeout message, read when it fails (e.g. the sidecar's logs).</item>
/// <item><c>onTimeout</c>: called with the timeout message instead of failing, for a test that skips when a real
/// peer never answers (<c>Peers.Missing</c>); it must throw.</item>
/// </list>
/// </remarks>
public static class Poll
{
    /// <summary>The default upper bound: generous for a loaded machine.</summary>
    public const int DefaultTimeoutMs = 15000;

    /// <summary>The default pause between probes.</summary>
    public const int DefaultIntervalMs = 10;

    /// <summary>Waits until <paramref name="condition"/> is true; fails naming <paramref name="what"/> on timeout.</summary>
    /// <param name="condition">Checked at once and then every <paramref name="intervalMs"/>.</param>
    /// <param name="what">What is waited for, completing "Timed out waiting until …".</param>
    /// <param name="cancellationToken">The test's token.</param>
    /// <param name="timeoutMs">The upper bound.</param>
    /// <param name="intervalMs">The pause between checks.</param>
    /// <param name="failIf">Returns a message to fail with at once (the peer died), or null to keep waiting.</param>
    /// <param name="details">More text for the timeout message, read when it fails.</param>
    /// <param name="onTimeout">Called with the timeout message instead of failing; must throw.</param>
    public static Task UntilAsync(
        Func<bool> condition,
        string what,
        CancellationToken cancellationToken,
        int timeoutMs = DefaultTimeoutMs,
        int intervalMs = DefaultIntervalMs,
        Func<string?>? failIf = null,
        Func<string?>? details = null,
        Action<string>? onTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return UntilAsync(_ => Task.FromResult(condition()), what, cancellationToken, timeoutMs, intervalMs, failIf, details, onTimeout);
    }

    /// <summary>Waits until the asynchronous <paramref name="condition"/> is true; fails naming <paramref name="what"/> on timeout.</summary>
    /// <param name="condition">Checked at once and then every <paramref name="intervalMs"/>; its token is cancelled at the bound.</param>
    /// <param name="what">What is waited for, completing "Timed out waiting until …".</param>
    /// <param name="cancellationToken">The test's token.</param>
    /// <param name="timeoutMs">The upper bound.</param>
    /// <param name="intervalMs">The pause between checks.</param>
    /// <param name="failIf">Returns a message to fail with at once (the peer died), or null to keep waiting.</param>
    /// <param name="details">More text for the timeout message, read when it fails.</param>
    /// <param name="onTimeout">Called with the timeout message instead of failing; must throw.</param>
    public static async Task UntilAsync(
        Func<CancellationToken, Task<bool>> condition,
        string what,
        CancellationToken cancellationToken,
        int timeoutMs = DefaultTimeoutMs,
        int intervalMs = DefaultIntervalMs,
        Func<string?>? failIf = null,
        Func<string?>? details = null,
        Action<string>? onTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        await RunAsync(condition, what, lastSeen: null, cancellationToken, timeoutMs, intervalMs, failIf, details, onTimeout);
    }

    /// <summary>
    /// Probes until <paramref name="probe"/> returns a non-null value that <paramref name="accept"/> takes (any
    /// non-null value when it is null) and returns that value; on timeout fails naming <paramref name="what"/> and
    /// the last value probed.
    /// </summary>
    /// <typeparam name="T">What the probe reads.</typeparam>
    /// <param name="probe">Reads the current value, or null when there is none yet; its token is cancelled at the bound.</param>
    /// <param name="accept">Whether a value is the one waited for; null takes the first non-null value.</param>
    /// <param name="what">What is waited for, completing "Timed out waiting for …".</param>
    /// <param name="cancellationToken">The test's token.</param>
    /// <param name="timeoutMs">The upper bound.</param>
    /// <param name="intervalMs">The pause between probes.</param>
    /// <param name="failIf">Returns a message to fail with at once (the peer died), or null to keep waiting.</param>
    /// <param name="details">More text for the timeout message, read when it fails.</param>
    /// <param name="onTimeout">Called with the timeout message instead of failing; must throw.</param>
    /// <returns>The accepted value.</returns>
    public static async Task<T> ForAsync<T>(
        Func<CancellationToken, Task<T?>> probe,
        Func<T, bool>? accept,
        string what,
        CancellationToken cancellationToken,
        int timeoutMs = DefaultTimeoutMs,
        int intervalMs = DefaultIntervalMs,
        Func<string?>? failIf = null,
        Func<string?>? details = null,
        Action<string>? onTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var probed = false;
        T? last = default;
        await RunAsync(
            async token =>
            {
                last = await probe(token);
                probed = true;
                return last is not null && (accept is null || accept(last));
            },
            what,
            () => probed ? Describe(last) : "nothing (no probe finished)",
            cancellationToken,
            timeoutMs,
            intervalMs,
            failIf,
            details,
            onTimeout);
        return last!;
    }

    private static async Task RunAsync(
        Func<CancellationToken, Task<bool>> attempt,
        string what,
        Func<string>? lastSeen,
        CancellationToken cancellationToken,
        int timeoutMs,
        int intervalMs,
        Func<string?>? failIf,
        Func<string?>? details,
        Action<string>? onTimeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(what);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeoutMs);
        ArgumentOutOfRangeException.ThrowIfNegative(intervalMs);
        var clock = TimeProvider.System;
        var started = clock.GetTimestamp();
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(timeoutMs);
        var probes = 0;
        while (true)
        {
            try
            {
                probes++;
                if (await attempt(bound.Token))
                {
                    return;
                }

                if (failIf?.Invoke() is { } reason)
                {
                    // A peer that made the condition true and then ended is not a failure: probe once more first.
                    if (await attempt(bound.Token))
                    {
                        return;
                    }

                    Assert.Fail($"Gave up waiting {Connector(lastSeen)} {what}{LastSeen(lastSeen)}: {reason}");
                }

                if (clock.GetElapsedTime(started).TotalMilliseconds < timeoutMs)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(intervalMs), clock, bound.Token);
                    continue;
                }
            }
            catch (OperationCanceledException) when (bound.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The bound cancelled a probe or the pause: a timeout, reported below.
            }

            var elapsed = clock.GetElapsedTime(started).TotalMilliseconds;
            var message = string.Create(
                CultureInfo.InvariantCulture,
                $"Timed out after {elapsed:F0} ms (bound {timeoutMs} ms, {probes} probes) waiting {Connector(lastSeen)} {what}{LastSeen(lastSeen)}");
            if (details?.Invoke() is { Length: > 0 } more)
            {
                message += "\n" + more;
            }

            onTimeout?.Invoke(message);
            Assert.Fail(message);
        }
    }

    // UntilAsync reads "waiting until the client reconnected", ForAsync "waiting for the OBS text".
    private static string Connector(Func<string>? lastSeen) => lastSeen is null ? "until" : "for";

    private static string LastSeen(Func<string>? lastSeen) => lastSeen is null ? string.Empty : $" (last seen: {lastSeen()})";

    private static string Describe<T>(T? value) => value switch
    {
        null => "null",
        string s => $"'{s}'",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };
}
