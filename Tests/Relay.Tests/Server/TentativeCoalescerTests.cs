using CaptionSidecar.Overlay;

namespace CaptionSidecar.Relay.Tests.Server;

/// <summary>The coalescing rules of docs/relay.md, on times passed in (no clock).</summary>
public sealed class TentativeCoalescerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    private static StreamCaptionUpdate Update(string kind, long sequence, string language = "en", string stream = "demo") =>
        new(stream, language, kind, new OverlayCaption(language, sequence, [new OverlayCaptionLine("a", $"t{sequence}")], false, T0));

    private static DateTimeOffset At(int milliseconds) => T0.AddMilliseconds(milliseconds);

    [Fact]
    public void FirstTentative_GoesOutAtOnce()
    {
        var coalescer = new TentativeCoalescer();
        Assert.Single(coalescer.OnUpdate(Update(CaptionUpdateKinds.Tentative, 1), At(0)));
        Assert.Null(coalescer.NextDue);
    }

    [Fact]
    public void TentativeWithinWindow_IsHeld_NewerReplacesIt_SentWhenWindowIsOver()
    {
        var coalescer = new TentativeCoalescer();
        coalescer.OnUpdate(Update(CaptionUpdateKinds.Tentative, 1), At(0));

        Assert.Empty(coalescer.OnUpdate(Update(CaptionUpdateKinds.Tentative, 2), At(50)));
        Assert.Empty(coalescer.OnUpdate(Update(CaptionUpdateKinds.Tentative, 3), At(100)));
        Assert.Equal(At(250), coalescer.NextDue);
        Assert.Empty(coalescer.OnTick(At(249)));

        var sent = coalescer.OnTick(At(250));

        Assert.Equal(3, Assert.Single(sent).Caption.Sequence);
        Assert.Equal(1, coalescer.Coalesced);
        Assert.Null(coalescer.NextDue);
        // The window now runs from the held one's send.
        Assert.Empty(coalescer.OnUpdate(Update(CaptionUpdateKinds.Tentative, 4), At(400)));
        Assert.Equal(At(500), coalescer.NextDue);
    }

    [Theory]
    [InlineData(CaptionUpdateKinds.Final)]
    [InlineData(CaptionUpdateKinds.Cleared)]
    [InlineData(CaptionUpdateKinds.Closed)]
    public void FinalClearedClosed_GoOutAtOnce_AndDropTheHeldTentative(string kind)
    {
        var coalescer = new TentativeCoalescer();
        coalescer.OnUpdate(Update(CaptionUpdateKinds.Tentative, 1), At(0));
        coalescer.OnUpdate(Update(CaptionUpdateKinds.Tentative, 2), At(10));

        var sent = coalescer.OnUpdate(Update(kind, 3), At(20));

        Assert.Equal(3, Assert.Single(sent).Caption.Sequence);
        Assert.Null(coalescer.NextDue);
        Assert.Empty(coalescer.OnTick(At(1000)));
        Assert.Equal(1, coalescer.Coalesced);
    }

    [Fact]
    public void EveryFinal_GoesThrough_EvenInABurst()
    {
        var coalescer = new TentativeCoalescer();
        var sent = Enumerable.Range(1, 20).SelectMany(i => coalescer.OnUpdate(Update(CaptionUpdateKinds.Final, i), At(i))).ToList();
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), sent.Select(u => u.Caption.Sequence));
    }

    [Fact]
    public void Languages_AndStreams_AreCoalescedApart()
    {
        var coalescer = new TentativeCoalescer();
        coalescer.OnUpdate(Update(CaptionUpdateKinds.Tentative, 1, "en"), At(0));
        Assert.Single(coalescer.OnUpdate(Update(CaptionUpdateKinds.Tentative, 1, "es"), At(10)));
        Assert.Single(coalescer.OnUpdate(Update(CaptionUpdateKinds.Tentative, 1, "en", "other"), At(20)));
        Assert.Empty(coalescer.OnUpdate(Update(CaptionUpdateKinds.Tentative, 2, "es"), At(30)));
        Assert.Empty(coalescer.OnUpdate(Update(CaptionUpdateKinds.Tentative, 2, "en"), At(40)));

        Assert.Equal(At(250), coalescer.NextDue);
        Assert.Equal(["en"], coalescer.OnTick(At(250)).Select(u => u.Language));
        Assert.Equal(At(260), coalescer.NextDue);
        Assert.Equal(["es"], coalescer.OnTick(At(260)).Select(u => u.Language));
    }

    [Fact]
    public void AtMostFourTentativesPerSecond()
    {
        var coalescer = new TentativeCoalescer();
        var sent = 0;
        for (var ms = 0; ms < 1000; ms += 20)
        {
            sent += coalescer.OnTick(At(ms)).Count;
            sent += coalescer.OnUpdate(Update(CaptionUpdateKinds.Tentative, ms + 1), At(ms)).Count;
        }

        Assert.InRange(sent, 1, 4);
    }
}
