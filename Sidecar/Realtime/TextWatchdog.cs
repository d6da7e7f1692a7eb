using System.Globalization;
using CaptionSidecar.Captions;

namespace CaptionSidecar.Realtime;

/// <summary>
/// Watches what one session reports to the captions (it sits between the session and the caption input and passes
/// every call on): when committed turns wait <c>limit</c> with no text at all for any of them (no delta, completion
/// or failure), the session hears speech but has stopped answering, and <see cref="Stalled"/> completes with the
/// reason. Queued turns do not count against a session that keeps answering: any text restarts the wait.
/// </summary>
internal sealed class TextWatchdog : ICaptionInput, IDisposable
{
    private readonly ICaptionInput _captions;
    private readonly TimeProvider _time;
    private readonly TimeSpan _limit;
    private readonly ITimer? _timer;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _waiting = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<string> _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _waitingSince;
    private bool _disposed;

    /// <param name="captions">Where every call goes on to.</param>
    /// <param name="limit">How long committed turns may get no text; zero or less turns the watchdog off.</param>
    /// <param name="time">The clock.</param>
    public TextWatchdog(ICaptionInput captions, TimeSpan limit, TimeProvider time)
    {
        _captions = captions;
        _time = time;
        _limit = limit;
        if (limit > TimeSpan.Zero)
        {
            _timer = time.CreateTimer(static state => ((TextWatchdog)state!).Check(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Completes with the reason once committed turns waited too long for text; never completes when off.</summary>
    public Task<string> Stalled => _stalled.Task;

    /// <inheritdoc />
    public void SpeechStarted(TimeSpan at) => _captions.SpeechStarted(at);

    /// <inheritdoc />
    public void SpeechStopped(TimeSpan at) => _captions.SpeechStopped(at);

    /// <inheritdoc />
    public void TurnCommitted(string itemId, string? previousItemId, TimeSpan start, TimeSpan end)
    {
        _captions.TurnCommitted(itemId, previousItemId, start, end);
        lock (_gate)
        {
            if (_waiting.Count == 0)
            {
                _waitingSince = _time.GetTimestamp();
            }

            _waiting.Add(itemId);
            Arm();
        }
    }

    /// <inheritdoc />
    public void TextDelta(string itemId, string delta)
    {
        _captions.TextDelta(itemId, delta);
        Answered(itemId, finished: false);
    }

    /// <inheritdoc />
    public void TextCompleted(string itemId, string text)
    {
        _captions.TextCompleted(itemId, text);
        Answered(itemId, finished: true);
    }

    /// <inheritdoc />
    public void TurnFailed(string itemId, string reason)
    {
        _captions.TurnFailed(itemId, reason);
        Answered(itemId, finished: true);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer?.Dispose();
        }
    }

    private void Answered(string itemId, bool finished)
    {
        lock (_gate)
        {
            if (finished)
            {
                _waiting.Remove(itemId);
            }

            // Text only moves the deadline later: a timer already armed finds that out when it fires and re-arms
            // (Check), so a delta does not reschedule it; with nothing left waiting it is disarmed.
            _waitingSince = _time.GetTimestamp();
            if (_waiting.Count == 0)
            {
                Arm();
            }
        }
    }

    /// <summary>Sets the timer for the end of the current wait, or stops it when no turn waits (under the lock).</summary>
    private void Arm()
    {
        if (_timer is null || _disposed || _stalled.Task.IsCompleted)
        {
            return;
        }

        if (_waiting.Count == 0)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        var left = _limit - _time.GetElapsedTime(_waitingSince);
        _timer.Change(left > TimeSpan.Zero ? left : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void Check()
    {
        string? reason = null;
        lock (_gate)
        {
            if (_disposed || _waiting.Count == 0)
            {
                return;
            }

            if (_time.GetElapsedTime(_waitingSince) >= _limit)
            {
                reason = string.Create(CultureInfo.InvariantCulture, $"{_waiting.Count} committed turn(s) got no text for {_limit.TotalSeconds:0.#} s");
            }
            else
            {
                Arm();
            }
        }

        if (reason is not null)
        {
            _stalled.TrySetResult(reason);
        }
    }
}
