using CaptionSidecar.Retries;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Retries;

public sealed class BackoffTests
{
    private sealed class Refused(TimeSpan? retryAfter) : Exception("refused"), IRetryAfter
    {
        public TimeSpan? RetryAfter { get; } = retryAfter;
    }

    /// <summary>Runs an operation that fails <paramref name="failures"/> times and records every wait the pipeline chose.</summary>
    private static async Task<List<TimeSpan>> WaitsAsync(BackoffSettings settings, int failures, TimeSpan? retryAfter = null)
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new TimerSignallingTimeProvider();
        var waits = new List<TimeSpan>();
        var pipeline = Backoff.Forever(settings, time, attempt => waits.Add(attempt.Delay));
        var calls = 0;
        var run = pipeline.ExecuteAsync(_ =>
        {
            calls++;
            return calls <= failures ? throw new Refused(retryAfter) : ValueTask.CompletedTask;
        }, ct).AsTask();

        // Each retry waits on the fake clock: once the pipeline is waiting, move the clock by exactly that wait.
        for (var i = 0; i < failures; i++)
        {
            var due = await time.NextTimerAsync(ct);
            // Task.Delay rounds the wait to whole milliseconds.
            Assert.InRange((due - waits[^1]).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
            time.Advance(due);
        }

        await run.WaitAsync(TimeSpan.FromSeconds(10), ct);
        Assert.Equal(failures + 1, calls);
        return waits;
    }

    [Fact]
    public async Task Forever_RetriesUntilSuccess_WaitsGrowAndStayUnderTheCap()
    {
        var settings = new BackoffSettings(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(8));

        var waits = await WaitsAsync(settings, failures: 12);

        Assert.Equal(12, waits.Count);
        Assert.All(waits, w => Assert.InRange(w, TimeSpan.Zero, settings.MaxDelay));
        // Exponential on average: the last few waits are well above the first one.
        Assert.True(waits.Skip(8).Average(w => w.TotalMilliseconds) > 2 * settings.FirstDelay.TotalMilliseconds);
    }

    [Fact]
    public async Task Forever_IsJittered_TwoRunsDoNotWaitInStep()
    {
        var settings = new BackoffSettings(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30));

        var first = await WaitsAsync(settings, failures: 6);
        var second = await WaitsAsync(settings, failures: 6);

        // Without jitter these would be 0.5, 1, 2, 4, 8, 16 s both times.
        Assert.NotEqual(first, second);
        Assert.DoesNotContain(TimeSpan.FromSeconds(16), first);
    }

    [Fact]
    public async Task Forever_HonoursRetryAfter_UpToTheCap()
    {
        var asked = await WaitsAsync(new BackoffSettings(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30)), 3, TimeSpan.FromSeconds(7));
        var capped = await WaitsAsync(new BackoffSettings(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5)), 2, TimeSpan.FromMinutes(2));

        Assert.All(asked, w => Assert.Equal(TimeSpan.FromSeconds(7), w));
        Assert.All(capped, w => Assert.Equal(TimeSpan.FromSeconds(5), w));
    }

    [Fact]
    public async Task Forever_DoesNotRetryWhatShouldRetryRefuses()
    {
        var calls = 0;
        var pipeline = Backoff.Forever(BackoffSettings.Network, new FakeTimeProvider(), shouldRetry: ex => ex is not InvalidOperationException);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await pipeline.ExecuteAsync(_ =>
        {
            calls++;
            throw new InvalidOperationException("final");
        }, TestContext.Current.CancellationToken));

        Assert.Equal(1, calls);
    }

    [Fact]
    public void RetryAttempt_WarnsForTheFirstFiveThenEveryTwelfth()
    {
        var warned = Enumerable.Range(1, 30).Where(n => new RetryAttempt(null, n, TimeSpan.Zero).IsWorthAWarning);

        Assert.Equal([1, 2, 3, 4, 5, 12, 24], warned);
    }
}
