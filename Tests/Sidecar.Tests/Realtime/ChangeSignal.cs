using System.Threading.Channels;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>
/// Wakes a test when something it watches may have changed (a fake records a call), so the test waits on the change
/// itself instead of sleeping and looking again. One waiter at a time.
/// </summary>
internal sealed class ChangeSignal
{
    private readonly Channel<bool> _pulses = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Something changed: a waiter looks at its condition again.</summary>
    public void Changed() => _pulses.Writer.TryWrite(true);

    /// <summary>Waits until <paramref name="condition"/> holds; fails the test with <paramref name="what"/> after 20 s.</summary>
    public async Task UntilAsync(Func<bool> condition, string what, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        try
        {
            while (!condition())
            {
                await _pulses.Reader.ReadAsync(timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"Timed out waiting until {what}");
        }
    }
}
