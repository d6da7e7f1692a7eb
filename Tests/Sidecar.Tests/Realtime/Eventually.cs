namespace CaptionSidecar.Tests.Realtime;

/// <summary>Polls a condition the test cannot await directly (fake-server counters).</summary>
internal static class Eventually
{
    /// <summary>Waits until <paramref name="condition"/> holds; fails the test after 20 s or when it is cancelled.</summary>
    public static async Task TrueAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
