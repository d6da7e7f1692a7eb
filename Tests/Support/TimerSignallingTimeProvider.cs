using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Support;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that reports every timer created on it, so a test advances the clock only once
/// the code under test is waiting on it (advancing before the timer exists would skip past a wait never started).
/// </summary>
public sealed class TimerSignallingTimeProvider : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _created.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Waits until the code under test creates its next timer; returns that timer's due time.</summary>
    public async Task<TimeSpan> NextTimerAsync(CancellationToken cancellationToken) =>
        await _created.Reader.ReadAsync(cancellationToken);
}
