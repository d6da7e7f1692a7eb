namespace CaptionSidecar.ObsBridge.Tests;

/// <summary>The coalescer's decisions, without sockets or clocks.</summary>
public sealed class CaptionCoalescerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private static List<string> TakeAll(CaptionCoalescer coalescer, DateTimeOffset now)
    {
        var texts = new List<string>();
        while (coalescer.TakeDue(now, out _) is { } work)
        {
            texts.Add(work.Text);
            coalescer.Delivered(work);
            now += Interval;
        }

        return texts;
    }

    [Fact]
    public void TakeDue_BurstOfPartialsThenFinal_FinalThenLatestPartialAndTheRestCounted()
    {
        var coalescer = new CaptionCoalescer(maxQueuedFinals: 16, Interval);
        for (var i = 0; i < 50; i++)
        {
            coalescer.Set("en", $"p{i}", isFinal: false);
        }

        coalescer.Set("en", "final", isFinal: true);
        coalescer.Set("en", "next", isFinal: false);

        Assert.Equal(["final", "next"], TakeAll(coalescer, T0));
        Assert.Equal(50, coalescer.Coalesced);
        Assert.Null(coalescer.TakeDue(T0 + TimeSpan.FromHours(1), out var due));
        Assert.Null(due);
    }

    [Fact]
    public void TakeDue_WithinTheInterval_NothingDueAndTheWaitIsReturned()
    {
        var coalescer = new CaptionCoalescer(16, Interval);
        coalescer.Set("en", "one", isFinal: true);
        coalescer.Set("en", "two", isFinal: true);

        Assert.Equal("one", coalescer.TakeDue(T0, out _)!.Value.Text);
        Assert.Null(coalescer.TakeDue(T0 + TimeSpan.FromMilliseconds(30), out var due));
        Assert.Equal(TimeSpan.FromMilliseconds(70), due);
        Assert.Equal("two", coalescer.TakeDue(T0 + Interval, out _)!.Value.Text);
    }

    [Fact]
    public void Set_MoreFinalsThanTheQueueHolds_OldestDroppedAndCounted()
    {
        var coalescer = new CaptionCoalescer(maxQueuedFinals: 2, Interval);
        coalescer.Set("en", "a", isFinal: true);
        coalescer.Set("en", "b", isFinal: true);
        coalescer.Set("en", "c", isFinal: true);

        Assert.Equal(["b", "c"], TakeAll(coalescer, T0));
        Assert.Equal(1, coalescer.Dropped);
    }

    [Fact]
    public void TakeDue_SourceFoundThenReconnected_NeedsTheSourceAgainAndResendsTheCurrentText()
    {
        var coalescer = new CaptionCoalescer(16, Interval);
        coalescer.Set("en", "hello", isFinal: true);
        var first = coalescer.TakeDue(T0, out _)!.Value;
        Assert.True(first.NeedsSource);
        coalescer.Delivered(first);
        coalescer.Set("en", "world", isFinal: false);
        Assert.False(coalescer.TakeDue(T0 + Interval, out _)!.Value.NeedsSource);

        coalescer.Reconnected();

        var again = coalescer.TakeDue(T0 + (2 * Interval), out _)!.Value;
        Assert.Equal("world", again.Text);
        Assert.True(again.NeedsSource);
    }

    [Fact]
    public void Delivered_ForAnOlderEpoch_DoesNotMarkTheNewSourceReady()
    {
        var coalescer = new CaptionCoalescer(16, Interval);
        coalescer.Set("en", "hello", isFinal: true);
        var inFlight = coalescer.TakeDue(T0, out _)!.Value;

        coalescer.SourceGone("en"); // removed in OBS while the update was on its way
        coalescer.Delivered(inFlight);

        var next = coalescer.TakeDue(T0 + Interval, out _)!.Value;
        Assert.True(next.NeedsSource);
        Assert.Equal("hello", next.Text);
    }

    [Fact]
    public void DropPending_WhileObsIsDown_CountsAndKeepsOnlyTheCurrentTextForLater()
    {
        var coalescer = new CaptionCoalescer(16, Interval);
        coalescer.Set("en", "two", isFinal: true);
        coalescer.Set("en", "three", isFinal: false);

        coalescer.DropPending();

        Assert.Equal(2, coalescer.Dropped);
        Assert.Equal(["three"], TakeAll(coalescer, T0));
    }

    [Fact]
    public void Failed_TheCurrentTextIsSentOnTheNextAttemptWithoutWaiting()
    {
        var coalescer = new CaptionCoalescer(16, Interval);
        coalescer.Set("en", "a", isFinal: true);
        var work = coalescer.TakeDue(T0, out _)!.Value;
        coalescer.Set("en", "b", isFinal: false);
        var b = coalescer.TakeDue(T0 + Interval, out _)!.Value;

        coalescer.Failed(b);

        Assert.Equal("b", coalescer.TakeDue(T0 + Interval, out _)!.Value.Text);
        Assert.Equal(1, coalescer.Dropped);
        Assert.Equal("a", work.Text);
    }

    [Fact]
    public void TakeDue_TwoLanguages_EachRateLimitedOnItsOwn()
    {
        var coalescer = new CaptionCoalescer(16, Interval);
        coalescer.Set("en", "hello", isFinal: true);
        coalescer.Set("de", "hallo", isFinal: true);

        var first = coalescer.TakeDue(T0, out _)!.Value;
        var second = coalescer.TakeDue(T0, out _)!.Value;

        Assert.Equal(["de", "en"], new[] { first.Source, second.Source }.Order());
    }
}
