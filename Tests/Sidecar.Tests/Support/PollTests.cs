using Xunit.Sdk;

namespace CaptionSidecar.Tests.Support;

/// <summary>
/// The polling helper's contract: what it returns and what its failures say. The waits here are either met at once,
/// ended by a fail-at-once check, or bounded by a tiny timeout whose length nothing asserts.
/// </summary>
public sealed class PollTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UntilAsync_ConditionBecomesTrue_Returns()
    {
        var checks = 0;

        await Poll.UntilAsync(() => ++checks == 3, "the third check", Ct, intervalMs: 0);

        Assert.Equal(3, checks);
    }

    [Fact]
    public async Task UntilAsync_NeverTrue_FailsNamingWhatWasWaitedFor()
    {
        var failure = await Assert.ThrowsAsync<FailException>(
            () => Poll.UntilAsync(() => false, "the moon turned blue", Ct, timeoutMs: 30, details: () => "log: nothing happened"));

        Assert.Contains("waiting until the moon turned blue", failure.Message, StringComparison.Ordinal);
        Assert.Contains("bound 30 ms", failure.Message, StringComparison.Ordinal);
        Assert.Contains("log: nothing happened", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UntilAsync_AsyncCondition_IsAwaitedWithATokenCancelledAtTheBound()
    {
        // A probe that never finishes by itself: the bound cancels it and the wait fails as a timeout.
        var failure = await Assert.ThrowsAsync<FailException>(
            () => Poll.UntilAsync(token => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously).Task.WaitAsync(token), "a hanging probe answered", Ct, timeoutMs: 30));

        Assert.Contains("Timed out", failure.Message, StringComparison.Ordinal);
        Assert.Contains("a hanging probe answered", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForAsync_AcceptedValue_ReturnsIt()
    {
        var values = new Queue<string?>([null, "loading", "ready"]);

        var value = await Poll.ForAsync(_ => Task.FromResult(values.Dequeue()), v => v == "ready", "the state", Ct, intervalMs: 0);

        Assert.Equal("ready", value);
        Assert.Empty(values);
    }

    [Fact]
    public async Task ForAsync_NoAccept_ReturnsTheFirstNonNullValue()
    {
        var values = new Queue<string?>([null, null, "first", "second"]);

        var value = await Poll.ForAsync(_ => Task.FromResult(values.Dequeue()), null, "any value", Ct, intervalMs: 0);

        Assert.Equal("first", value);
    }

    [Fact]
    public async Task ForAsync_NeverAccepted_FailsWithTheLastValueSeen()
    {
        var n = 0;

        var failure = await Assert.ThrowsAsync<FailException>(
            () => Poll.ForAsync<int?>(_ => Task.FromResult<int?>(++n), v => v < 0, "a negative count", Ct, timeoutMs: 30, intervalMs: 0));

        Assert.Contains("waiting for a negative count", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"(last seen: {n})", failure.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task UntilAsync_FailIfSaysThePeerDied_FailsAtOnceWithItsMessage()
    {
        // The bound is far beyond the test's own timeout: only the fail-at-once check can end this wait.
        var ct = TestContext.Current.CancellationToken;
        var checks = 0;

        var failure = await Assert.ThrowsAsync<FailException>(
            () => Poll.UntilAsync(() => false, "the peer answered", ct, timeoutMs: int.MaxValue, failIf: () => ++checks == 2 ? "the peer exited with code 3" : null));

        Assert.Contains("the peer answered", failure.Message, StringComparison.Ordinal);
        Assert.Contains("the peer exited with code 3", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Timed out", failure.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task UntilAsync_PeerEndedAfterMakingTheConditionTrue_Succeeds()
    {
        // The condition turns true between the probe and the fail-at-once check (the peer finished and exited).
        var ct = TestContext.Current.CancellationToken;
        var done = false;
        var checks = 0;

        await Poll.UntilAsync(() => { checks++; return done; }, "the peer finished", ct, timeoutMs: int.MaxValue, failIf: () =>
        {
            done = true;
            return "the peer exited";
        });

        Assert.Equal(2, checks); // the check right after the peer ended, not a later round
    }

    [Fact]
    public async Task UntilAsync_OnTimeout_IsCalledInsteadOfFailing()
    {
        var skipped = await Assert.ThrowsAsync<InvalidOperationException>(
            () => Poll.UntilAsync(() => false, "OBS answered", Ct, timeoutMs: 30, onTimeout: message => throw new InvalidOperationException(message)));

        Assert.Contains("waiting until OBS answered", skipped.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UntilAsync_TestCancelled_ThrowsOperationCanceled()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Poll.UntilAsync(() => false, "never", cancelled.Token, intervalMs: 1000));
    }
}
