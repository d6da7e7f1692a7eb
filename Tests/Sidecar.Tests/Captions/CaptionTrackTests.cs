using CaptionSidecar.Captions;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Captions;

public sealed class CaptionTrackTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 2, 0, 0, TimeSpan.Zero));
    private readonly RecordingPublisher _published = new();

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    private CaptionTrack Track(double clearAfterSeconds = 5, int maxLines = 2, int maxCharacters = 42, CaptionOptions? options = null)
    {
        options ??= new CaptionOptions();
        options.ClearAfterSeconds = clearAfterSeconds;
        options.MaxLines = maxLines;
        options.MaxCharactersPerLine = maxCharacters;
        return new(new CaptionLanguage("en", IsSource: true), options, _published, _time);
    }

    [Fact]
    public void TextDelta_ThenCompleted_PublishesTentativeThenFinalItem()
    {
        using var track = Track();
        track.TurnCommitted("A", null, S(1), S(2.5));
        track.TextDelta("A", "Hello");
        track.TextDelta("A", " wor");
        track.TextCompleted("A", "Hello world.");

        var updates = _published.Updates;
        Assert.Equal(3, updates.Count);
        Assert.Equal([new CaptionLine("", "Hello")], updates[0].Lines);
        Assert.Equal([new CaptionLine("", "Hello wor")], updates[1].Lines);
        Assert.Equal([new CaptionLine("Hello world.", "")], updates[2].Lines);
        Assert.All(updates, u => Assert.Equal(CaptionUpdateKind.Text, u.Kind));
        Assert.Equal([new CaptionItem("en", 1, "A", "Hello world.", S(1), S(2.5))], updates[2].Finalized);
        Assert.Equal(_time.GetUtcNow(), updates[2].Timestamp);
    }

    [Fact]
    public void TextCompleted_LaterTurnCompletesFirst_FinalizedInCommittedOrder()
    {
        using var track = Track();
        track.TurnCommitted("A", null, S(0), S(1));
        track.TurnCommitted("B", "A", S(1), S(2));
        track.TextDelta("A", "first");
        track.TextCompleted("B", "second");

        Assert.Empty(_published.Finalized);
        Assert.Equal("first second", _published.Last.DisplayText);
        Assert.Equal([new CaptionLine("", "first second")], _published.Last.Lines);

        track.TextCompleted("A", "First,");

        var finalized = _published.Last.Finalized;
        Assert.Equal(["A", "B"], finalized.Select(i => i.ItemId));
        Assert.Equal([1, 2], finalized.Select(i => i.Index));
        Assert.Equal([new CaptionLine("First, second", "")], _published.Last.Lines);
    }

    [Fact]
    public void TurnCommitted_CommitsAndTextOutOfOrder_OrderFollowsPreviousItemId()
    {
        using var track = Track();
        track.TextDelta("C", "three");
        track.TextDelta("B", "two");
        track.TurnCommitted("C", "B", S(2), S(3));
        track.TurnCommitted("B", "A", S(1), S(2));
        track.TurnCommitted("A", null, S(0), S(1));
        track.TextDelta("A", "one");

        Assert.Equal("one two three", _published.Last.DisplayText);

        track.TextCompleted("C", "three");
        track.TextCompleted("B", "two");
        track.TextCompleted("A", "one");

        Assert.Equal(["A", "B", "C"], _published.Finalized.Select(i => i.ItemId));
        Assert.Equal([1, 2, 3], _published.Finalized.Select(i => i.Index));
    }

    [Fact]
    public void TurnFailed_PendingPredecessorFails_LaterTurnProceeds()
    {
        using var track = Track();
        track.TurnCommitted("A", null, S(0), S(1));
        track.TurnCommitted("B", "A", S(1), S(2));
        track.TextDelta("A", "lost words");
        track.TextCompleted("B", "kept");
        Assert.Empty(_published.Finalized);

        track.TurnFailed("A", "transcription failed");

        Assert.Equal([new CaptionItem("en", 1, "B", "kept", S(1), S(2))], _published.Finalized);
        Assert.Equal([new CaptionLine("kept", "")], _published.Last.Lines);
    }

    [Fact]
    public void TextCompleted_WhitespaceText_TreatedAsFailedAndNotCounted()
    {
        using var track = Track();
        track.TurnCommitted("A", null, S(0), S(1));
        track.TextDelta("A", "uh");
        track.TextCompleted("A", "  ");
        track.TurnCommitted("B", "A", S(1), S(2));
        track.TextCompleted("B", "Yes.");

        Assert.Equal([new CaptionItem("en", 1, "B", "Yes.", S(1), S(2))], _published.Finalized);
        Assert.Equal("Yes.", _published.Last.DisplayText);
    }

    [Fact]
    public void TextCompleted_PredecessorNeverCompletes_GivenUpAfter15Seconds()
    {
        using var track = Track(clearAfterSeconds: 0);
        track.TurnCommitted("A", null, S(0), S(1));
        track.TurnCommitted("B", "A", S(1), S(2));
        track.TextCompleted("B", "held back");

        _time.Advance(S(14.9));
        Assert.Empty(_published.Finalized);

        _time.Advance(S(0.2));
        Assert.Equal(["B"], _published.Finalized.Select(i => i.ItemId));
        Assert.Equal(1, _published.Finalized[0].Index);

        // The given-up turn's late text is ignored.
        track.TextCompleted("A", "too late");
        Assert.Single(_published.Finalized);
    }

    [Fact]
    public void TurnFailed_LaterTurnFailsOrIsEmpty_PendingPredecessorIsNotGivenUp()
    {
        using var track = Track(clearAfterSeconds: 0);
        track.TurnCommitted("A", null, S(0), S(1));
        track.TurnCommitted("B", "A", S(1), S(2));
        track.TurnCommitted("C", "B", S(2), S(3));
        track.TextDelta("A", "a long turn");
        track.TurnFailed("B", "cancelled");
        track.TextCompleted("C", " ");

        _time.Advance(S(60));
        track.TextCompleted("A", "A long turn.");

        Assert.Equal([new CaptionItem("en", 1, "A", "A long turn.", S(0), S(1))], _published.Finalized);
    }

    [Fact]
    public void Timer_SilenceAfterFinalText_ClearsAtConfiguredTime()
    {
        using var track = Track(clearAfterSeconds: 5);
        track.TurnCommitted("A", null, S(0), S(1));
        track.TextCompleted("A", "Hello.");

        _time.Advance(S(4.9));
        Assert.Equal(CaptionUpdateKind.Text, _published.Last.Kind);

        _time.Advance(S(0.2));
        Assert.Equal(CaptionUpdateKind.Cleared, _published.Last.Kind);
        Assert.Empty(_published.Last.Lines);
        Assert.Empty(_published.Last.Finalized);

        track.TurnCommitted("B", "A", S(10), S(11));
        track.TextCompleted("B", "Again.");
        Assert.Equal([new CaptionLine("Again.", "")], _published.Last.Lines);

        // Cleared once, not again while the screen is empty.
        Assert.Single(_published.Updates, u => u.Kind == CaptionUpdateKind.Cleared);
    }

    [Fact]
    public void Timer_TentativeTurnPending_DoesNotClearUntilItCompletes()
    {
        using var track = Track(clearAfterSeconds: 5);
        track.TurnCommitted("A", null, S(0), S(1));
        track.TextCompleted("A", "Hello.");
        track.TurnCommitted("B", "A", S(1), S(2));
        track.TextDelta("B", "and");

        _time.Advance(S(60));
        Assert.DoesNotContain(_published.Updates, u => u.Kind == CaptionUpdateKind.Cleared);

        track.TextCompleted("B", "and then.");
        _time.Advance(S(4.9));
        Assert.DoesNotContain(_published.Updates, u => u.Kind == CaptionUpdateKind.Cleared);
        _time.Advance(S(0.2));
        Assert.Equal(CaptionUpdateKind.Cleared, _published.Last.Kind);
    }

    [Fact]
    public void Timer_SpeechStartedWithoutText_DoesNotDelayClear()
    {
        using var track = Track(clearAfterSeconds: 5);
        track.TurnCommitted("A", null, S(0), S(1));
        track.TextCompleted("A", "Hello.");
        _time.Advance(S(3));
        track.SpeechStarted(S(3));
        _time.Advance(S(2.1));

        Assert.Equal(CaptionUpdateKind.Cleared, _published.Last.Kind);
    }

    [Fact]
    public void Timer_ClearAfterZero_NeverClears()
    {
        using var track = Track(clearAfterSeconds: 0);
        track.TurnCommitted("A", null, S(0), S(1));
        track.TextCompleted("A", "Stays.");
        _time.Advance(TimeSpan.FromHours(1));

        Assert.Single(_published.Updates);
    }

    [Fact]
    public void Publish_MixedEventsAndTimers_SequenceStrictlyIncreasesFromOne()
    {
        using var track = Track(clearAfterSeconds: 2, maxLines: 2, maxCharacters: 12);
        string? previous = null;
        for (var i = 0; i < 40; i++)
        {
            var id = $"item{i}";
            track.TurnCommitted(id, previous, S(i), S(i + 1));
            track.TextDelta(id, "word ");
            track.TextDelta(id, $"number {i}");
            if (i % 7 == 3)
            {
                track.TurnFailed(id, "cancelled");
            }
            else
            {
                track.TextCompleted(id, $"Word number {i}.");
            }

            _time.Advance(S(i % 5 == 0 ? 3 : 0.5));
            previous = id;
        }

        var sequences = _published.Updates.Select(u => u.Sequence).ToList();
        Assert.Equal(Enumerable.Range(1, sequences.Count).Select(n => (long)n), sequences);
        Assert.Contains(_published.Updates, u => u.Kind == CaptionUpdateKind.Cleared);
        Assert.Equal(Enumerable.Range(1, 34), _published.Finalized.Select(i => i.Index));
        Assert.All(_published.Updates, u => Assert.True(u.Lines.Count <= 2 && u.Lines.All(l => l.Text.Length <= 12)));
    }

    [Fact]
    public void TextDelta_OnlyWhitespace_PublishesNothing()
    {
        using var track = Track();
        track.TurnCommitted("A", null, S(0), S(1));
        track.TextDelta("A", "Hi");
        track.TextDelta("A", " ");
        track.TextDelta("A", "\n");

        Assert.Single(_published.Updates);
    }

    [Fact]
    public void TextCompleted_CommitComesAfterTheText_ShownAndFinalizedWithTheCommitsTimes()
    {
        using var track = Track();
        track.TextDelta("A", "Hello");
        track.TextCompleted("A", "Hello.");
        Assert.Empty(_published.Updates);

        track.TurnCommitted("A", null, S(2), S(3.5));

        var item = Assert.Single(_published.Finalized);
        Assert.Equal(("A", "Hello.", S(2), S(3.5)), (item.ItemId, item.Text, item.Start, item.End));
        Assert.Equal(0, track.HeldUncommittedTurns);
    }

    [Fact]
    public void TextCompleted_ItemNeverCommitted_NeverShownAndDroppedWhenTooOld()
    {
        using var track = Track(options: new CaptionOptions { UncommittedTurnSeconds = 10 });
        track.TurnCommitted("A", null, S(0), S(1));
        track.TextCompleted("A", "Real.");
        _time.Advance(S(1));

        // Text for an item the session never committed: an old completion, then a delta of another unknown item.
        track.TextCompleted("ghost", "From nowhere.");
        track.TextDelta("ghost2", "nor this");
        track.TurnCommitted("B", "A", S(5), S(6));
        track.TextCompleted("B", "Later.");
        Assert.Equal(2, track.HeldUncommittedTurns);

        _time.Advance(S(9.9));
        Assert.Equal(2, track.HeldUncommittedTurns);
        _time.Advance(S(0.2));

        Assert.Equal(0, track.HeldUncommittedTurns);
        Assert.Equal(["A", "B"], _published.Finalized.Select(i => i.ItemId));
        Assert.DoesNotContain(_published.Updates, u => u.DisplayText.Contains("nowhere", StringComparison.Ordinal) || u.DisplayText.Contains("nor this", StringComparison.Ordinal));
        Assert.Equal(
            [(CaptionDiscardReason.UncommittedTooOld, "ghost"), (CaptionDiscardReason.UncommittedTooOld, "ghost2")],
            _published.Discards.Select(d => (d.Reason, d.ItemId)));
    }

    [Fact]
    public void TextDelta_FloodOfItemsNeverCommitted_HeldCountBoundedAndRealTurnsStillCaptioned()
    {
        using var track = Track(options: new CaptionOptions { MaxUncommittedTurns = 32 });
        string? previous = null;
        for (var turn = 0; turn < 20; turn++)
        {
            for (var i = 0; i < 5_000; i++)
            {
                track.TextDelta($"fl_{(turn * 5_000) + i}", "flood ");
            }

            var id = $"real_{turn}";
            track.TurnCommitted(id, previous, S(turn), S(turn + 0.5));
            track.TextDelta(id, "real");
            track.TextCompleted(id, $"Real turn {turn}.");
            previous = id;
            Assert.InRange(track.HeldUncommittedTurns, 1, 32);
        }

        Assert.Equal(Enumerable.Range(0, 20).Select(t => $"Real turn {t}."), _published.Finalized.Select(i => i.Text));
        Assert.All(_published.Updates, u => Assert.DoesNotContain("flood", u.DisplayText, StringComparison.Ordinal));
        Assert.Equal(100_000 - 32, _published.Discards.Count(d => d.Reason == CaptionDiscardReason.UncommittedTooMany));
        Assert.Equal(0, track.HeldTurns);
    }

    [Fact]
    public void TurnCommitted_FloodedItemCommittedLate_ItsTextKeptWhileHeld()
    {
        using var track = Track(options: new CaptionOptions { MaxUncommittedTurns = 4 });
        for (var i = 0; i < 10; i++)
        {
            track.TextDelta($"fl_{i}", $"text {i}");
        }

        // The oldest six were dropped; a commit for one of the four held ones shows its text.
        track.TurnCommitted("fl_8", null, S(1), S(2));
        track.TextCompleted("fl_8", "eight");

        Assert.Equal(["fl_8"], _published.Finalized.Select(i => i.ItemId));
        Assert.Equal("eight", _published.Last.DisplayText);
        Assert.Equal(3, track.HeldUncommittedTurns);
    }

    [Fact]
    public void TextDelta_HugeDeltaAndHugeCompletion_CutToTheLimitsWithOneReportPerTurn()
    {
        using var track = Track(options: new CaptionOptions { MaxDeltaCharacters = 200, MaxTurnCharacters = 1_000 });
        var huge = new string('x', 5_000_000);
        track.TurnCommitted("A", null, S(0), S(1));
        for (var i = 0; i < 20; i++)
        {
            track.TextDelta("A", huge);
        }

        track.TurnCommitted("B", "A", S(1), S(2));
        track.TextCompleted("B", "ok " + huge);
        track.TextCompleted("A", huge);

        var finalized = _published.Finalized;
        Assert.Equal([1_000, 1_000], finalized.Select(i => i.Text.Length));
        Assert.Equal(
            [(CaptionDiscardReason.DeltaTooLong, "A"), (CaptionDiscardReason.TurnTooLong, "B")],
            _published.Discards.Select(d => (d.Reason, d.ItemId)));
    }

    [Fact]
    public void TextCompleted_CutInsideASurrogatePair_KeepsThePairWhole()
    {
        using var track = Track(options: new CaptionOptions { MaxTurnCharacters = 101 });
        track.TurnCommitted("A", null, S(0), S(1));
        track.TextCompleted("A", string.Concat(Enumerable.Repeat("😀", 100)));

        var text = Assert.Single(_published.Finalized).Text;
        Assert.Equal(100, text.Length);
        Assert.False(char.IsHighSurrogate(text[^1]));
    }

    [Fact]
    public void TurnCommitted_ManyCommitsNeverTranscribed_PendingTurnsBounded()
    {
        using var track = Track();
        string? previous = null;
        for (var i = 0; i < 1_000; i++)
        {
            track.TurnCommitted($"c_{i}", previous, S(i), S(i + 1));
            previous = $"c_{i}";
        }

        Assert.InRange(track.HeldTurns, 1, CaptionTrack.MaxPendingTurns);
        Assert.Equal(1_000 - CaptionTrack.MaxPendingTurns, _published.Discards.Count(d => d.Reason == CaptionDiscardReason.PendingTooMany));

        // The newest turns still get captioned.
        track.TextCompleted("c_999", "last");
        _time.Advance(CaptionTrack.GiveUpAfter);
        Assert.Equal(["c_999"], _published.Finalized.Select(i => i.ItemId));
    }

    [Fact]
    public void Dispose_CompletedTurnsHeldByPendingOne_FlushedInOrderOnceThenIgnoresCalls()
    {
        var track = Track();
        track.TurnCommitted("A", null, S(0), S(1));
        track.TurnCommitted("B", "A", S(1), S(2));
        track.TurnCommitted("C", "B", S(2), S(3));
        track.TurnCommitted("D", "C", S(3), S(4));
        track.TextDelta("A", "never finished");
        track.TextCompleted("C", "three");
        track.TextCompleted("B", "two");
        track.TextDelta("D", "tentative tail");
        Assert.Empty(_published.Finalized);

        track.Dispose();

        Assert.Equal(["B", "C"], _published.Finalized.Select(i => i.ItemId));
        Assert.Equal([1, 2], _published.Finalized.Select(i => i.Index));
        Assert.Equal([new CaptionLine("two three", "")], _published.Last.Lines);

        var count = _published.Updates.Count;
        track.Dispose();
        track.TextCompleted("A", "late");
        track.TextDelta("E", "late");
        _time.Advance(S(60));
        Assert.Equal(count, _published.Updates.Count);
    }

    [Fact]
    public void TextDelta_ForFinalizedTurn_Ignored()
    {
        using var track = Track();
        track.TurnCommitted("A", null, S(0), S(1));
        track.TextCompleted("A", "Done.");
        track.TextDelta("A", " extra");
        track.TextCompleted("A", "Done again.");
        track.TurnCommitted("A", null, S(0), S(1));

        Assert.Single(_published.Updates);
    }

    [Fact]
    public void TextCompleted_FourHoursOfTurns_HeldStateStaysBounded()
    {
        using var track = Track(clearAfterSeconds: 5);
        string? previous = null;
        for (var i = 0; i < 4 * 3600 / 3; i++)
        {
            var id = $"item_{i}";
            track.TurnCommitted(id, previous, S(i * 3), S(i * 3 + 2));
            track.TextDelta(id, "some words of this turn");
            track.TextCompleted(id, $"Some words of turn {i}.");
            _time.Advance(S(i % 50 == 0 ? 8 : 3));
            previous = id;
        }

        Assert.Equal(4 * 3600 / 3, _published.Finalized.Count);
        Assert.InRange(track.HeldTurns, 0, 1);
        Assert.InRange(track.RememberedIds, 0, 256);
    }
}
