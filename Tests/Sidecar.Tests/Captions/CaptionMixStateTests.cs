using CaptionSidecar.Captions;

namespace CaptionSidecar.Tests.Captions;

/// <summary>The mix's decisions without a clock: blocks per speaker, lines that fit, finals in start order.</summary>
public sealed class CaptionMixStateTests
{
    private const long Second = 1000;
    private static readonly SpeakerLabel Alice = new("Alice", "#ffd166");
    private static readonly SpeakerLabel Bob = new("Bob", "#64d2ff");
    private readonly CaptionMixState _mix = new(maxLines: 2, holdLimit: TimeSpan.FromSeconds(15), ticksPerSecond: Second);

    [Fact]
    public void Update_OneSpeaker_PassesLinesAndFinalsThroughUnchanged()
    {
        var lines = new[] { new CaptionLine("Hello there.", " How", null), new CaptionLine("", "are you", null) };
        var item = Item("a1", "Hello there.", 1, 2);

        var output = _mix.Update("main", Update(CaptionUpdateKind.Text, lines, item), now: 0);

        Assert.Equal(CaptionUpdateKind.Text, output.Kind);
        Assert.Equal(lines, output.Lines);
        Assert.Equal([item], output.Finalized);
    }

    [Fact]
    public void Update_TwoSpeakersTalking_BothKeepALineInTheOrderTheyStarted()
    {
        _mix.Update("Bob", Update(CaptionUpdateKind.Text, [Line("b1", Bob), Line("b2", Bob)]), now: 0);

        var output = _mix.Update("Alice", Update(CaptionUpdateKind.Text, [Line("a1", Alice), Line("a2", Alice)]), now: 1);

        Assert.Equal(["b2", "a2"], output.Lines.Select(l => l.Text));
        Assert.Equal([Bob, Alice], output.Lines.Select(l => l.Speaker));
    }

    [Fact]
    public void Update_OneSpeakerStops_TheOtherGetsTheLinesBackAndAClearNeedsBoth()
    {
        _mix.Update("Alice", Update(CaptionUpdateKind.Text, [Line("a1", Alice)]), now: 0);
        _mix.Update("Bob", Update(CaptionUpdateKind.Text, [Line("b1", Bob), Line("b2", Bob)]), now: 1);

        var aliceCleared = _mix.Update("Alice", Update(CaptionUpdateKind.Cleared, []), now: 2);
        Assert.Equal(CaptionUpdateKind.Text, aliceCleared.Kind);
        Assert.Equal(["b1", "b2"], aliceCleared.Lines.Select(l => l.Text));

        var bothCleared = _mix.Update("Bob", Update(CaptionUpdateKind.Cleared, []), now: 3);
        Assert.Equal(CaptionUpdateKind.Cleared, bothCleared.Kind);
        Assert.Empty(bothCleared.Lines);
    }

    [Fact]
    public void Update_FinalOfALaterTurn_WaitsForAnotherSpeakersEarlierPendingTurnThenBothLeaveInStartOrder()
    {
        _mix.Committed("Alice", "a1", TimeSpan.FromSeconds(1), now: 0);
        _mix.Committed("Bob", "b1", TimeSpan.FromSeconds(2), now: 0);
        _mix.Settled("Bob", "b1");

        var bobFinal = _mix.Update("Bob", Update(CaptionUpdateKind.Text, [Line("b1", Bob)], Item("b1", "Bob's line", 2, 3, Bob)), now: 1 * Second);
        Assert.Empty(bobFinal.Finalized);
        Assert.Equal(1, _mix.HeldCount);

        _mix.Settled("Alice", "a1");
        var aliceFinal = _mix.Update("Alice", Update(CaptionUpdateKind.Text, [Line("a1", Alice)], Item("a1", "Alice's line", 1, 4, Alice)), now: 2 * Second);

        Assert.Equal(["a1", "b1"], aliceFinal.Finalized.Select(f => f.ItemId));
        Assert.Equal([1, 2], aliceFinal.Finalized.Select(f => f.Index));
        Assert.Equal(0, _mix.HeldCount);
    }

    [Fact]
    public void Tick_AfterTheHoldLimit_ReleasesAFinalWhoseEarlierTurnNeverSettles()
    {
        _mix.Committed("Alice", "a1", TimeSpan.FromSeconds(1), now: 0);
        _mix.Update("Bob", Update(CaptionUpdateKind.Text, [Line("b1", Bob)], Item("b1", "Bob's line", 2, 3, Bob)), now: 0);

        Assert.Null(_mix.Tick(14 * Second));
        Assert.Equal(15 * Second, _mix.NextDeadline());
        var released = _mix.Tick(15 * Second);

        Assert.NotNull(released);
        Assert.Equal(["b1"], released.Finalized.Select(f => f.ItemId));
        Assert.Null(_mix.NextDeadline());
    }

    [Fact]
    public void Update_FinalThatStartedEarlierThanAnotherSpeakersPendingTurn_LeavesAtOnce()
    {
        _mix.Committed("Alice", "a2", TimeSpan.FromSeconds(5), now: 0);

        var output = _mix.Update("Bob", Update(CaptionUpdateKind.Text, [Line("b1", Bob)], Item("b1", "Bob's line", 2, 3, Bob)), now: 0);

        Assert.Equal(["b1"], output.Finalized.Select(f => f.ItemId));
    }

    [Fact]
    public void Remove_ASpeaker_ReleasesTheirHeldFinalsAndNobodyWaitsForThemAnyMore()
    {
        _mix.Committed("Alice", "a1", TimeSpan.FromSeconds(1), now: 0);
        _mix.Update("Alice", Update(CaptionUpdateKind.Text, [Line("a1", Alice)]), now: 0);
        _mix.Update("Bob", Update(CaptionUpdateKind.Text, [Line("b1", Bob)], Item("b1", "Bob's line", 2, 3, Bob)), now: 0);

        var output = _mix.Remove("Alice", now: 1);

        Assert.Equal(["b1"], output.Finalized.Select(f => f.ItemId));
        Assert.Equal(["b1"], output.Lines.Select(l => l.Text));
    }

    [Fact]
    public void Committed_ManyTurnsNeverSettled_StaysBounded()
    {
        for (var i = 0; i < 10_000; i++)
        {
            _mix.Committed("Alice", $"a{i}", TimeSpan.FromSeconds(i), now: i);
        }

        var output = _mix.Update("Bob", Update(CaptionUpdateKind.Text, [Line("b", Bob)], Item("b", "late", 9_999, 10_000, Bob)), now: 10_000);

        Assert.Empty(output.Finalized); // Alice's latest turns started earlier and are still pending
        Assert.NotNull(_mix.NextDeadline());
    }

    private static CaptionLine Line(string text, SpeakerLabel speaker) => new(text, "", speaker);

    private static CaptionItem Item(string id, string text, double start, double end, SpeakerLabel? speaker = null) =>
        new("en", 1, id, text, TimeSpan.FromSeconds(start), TimeSpan.FromSeconds(end), speaker);

    private static CaptionUpdate Update(CaptionUpdateKind kind, IReadOnlyList<CaptionLine> lines, params CaptionItem[] finals) =>
        new("en", 1, kind, lines, finals, DateTimeOffset.UnixEpoch);
}
