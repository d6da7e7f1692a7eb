using CaptionSidecar.Translation;

namespace CaptionSidecar.Tests.Translation;

/// <summary>The text translation's line decisions, without a socket or a clock (timestamps in milliseconds).</summary>
public sealed class TextLineScheduleTests
{
    private const long Frequency = 1000;

    private static TextLineSchedule Schedule(double lagSeconds = 10) => new(TimeSpan.FromSeconds(lagSeconds), Frequency);

    private static SourceLine Line(string id, long finalAtMs, string speaker = "main", string text = "text") =>
        new(speaker, null, "en", id, text, TimeSpan.Zero, TimeSpan.FromSeconds(1), finalAtMs);

    [Fact]
    public void Add_TwoSpeakers_PreviousIsTheSameSpeakersLastLine()
    {
        var schedule = Schedule();

        Assert.Equal((true, (string?)null), schedule.Add(Line("a1", 0, "ana")));
        Assert.Equal((true, (string?)null), schedule.Add(Line("b1", 0, "ben")));
        Assert.Equal((true, (string?)"a1"), schedule.Add(Line("a2", 0, "ana")));
        Assert.Equal((false, (string?)null), schedule.Add(Line("a2", 0, "ana")));
        Assert.Equal(3, schedule.Pending);
    }

    [Fact]
    public void Next_OneAtATimeInOrder()
    {
        var schedule = Schedule();
        schedule.Add(Line("l1", 0));
        schedule.Add(Line("l2", 0));

        Assert.Equal("l1", schedule.Next()?.Source.ItemId);
        Assert.Null(schedule.Next());
        Assert.NotNull(schedule.Completed("l1"));
        Assert.Equal("l2", schedule.Next()?.Source.ItemId);
        Assert.NotNull(schedule.Completed("l2"));
        Assert.Null(schedule.Next());
        Assert.Equal(0, schedule.Pending);
    }

    [Fact]
    public void Failed_FirstTimeAskedAgainAloneBeforeLaterLines_SecondTimeFailed()
    {
        var schedule = Schedule();
        schedule.Add(Line("l1", 0));
        schedule.Add(Line("l2", 0));
        schedule.Next();

        Assert.Equal(FailureOutcome.AskAlone, schedule.Failed("l1"));
        var again = schedule.Next();
        Assert.Equal("l1", again?.Source.ItemId);
        Assert.True(again!.Alone);
        Assert.Equal(FailureOutcome.Failed, schedule.Failed("l1"));
        Assert.Equal("l2", schedule.Next()?.Source.ItemId);
        Assert.Equal(1, schedule.Pending);
    }

    [Fact]
    public void Failed_NotTheActiveLine_NotActive()
    {
        var schedule = Schedule();
        schedule.Add(Line("l1", 0));

        Assert.Equal(FailureOutcome.NotActive, schedule.Failed("l1"));
        Assert.Null(schedule.Completed("l1"));
        Assert.Equal(1, schedule.Pending);
    }

    [Fact]
    public void Interrupted_LineAskedAgainFirstWithoutCountingAFailure()
    {
        var schedule = Schedule();
        schedule.Add(Line("l1", 0));
        schedule.Add(Line("l2", 0));
        schedule.Next();

        schedule.Interrupted();

        var again = schedule.Next();
        Assert.Equal("l1", again?.Source.ItemId);
        Assert.False(again!.Alone);
        Assert.Equal(FailureOutcome.AskAlone, schedule.Failed("l1"));
    }

    [Fact]
    public void Delta_AskedAgain_OnlyTextBeyondWhatWasShown()
    {
        var schedule = Schedule();
        schedule.Add(Line("l1", 0));
        schedule.Next();
        Assert.Equal("Hola", schedule.Delta("l1", "Hola"));
        Assert.Equal(" a", schedule.Delta("l1", " a"));
        Assert.Null(schedule.Delta("other", "x"));

        schedule.Interrupted();
        schedule.Next();

        Assert.Null(schedule.Delta("l1", "Hola"));
        Assert.Equal("l", schedule.Delta("l1", " al"));
        Assert.Equal("l!", schedule.Delta("l1", "l!"));
    }

    [Fact]
    public void TakeLate_WaitingAndActiveLinesPastTheLag_FinishedInOrder()
    {
        var schedule = Schedule(lagSeconds: 10);
        schedule.Add(Line("l1", 0));
        schedule.Add(Line("l2", 2000));
        schedule.Add(Line("l3", 9000));
        schedule.Next();

        Assert.Empty(schedule.TakeLate(9_999));
        Assert.Equal((long?)10_000, schedule.NextDeadline);

        var late = schedule.TakeLate(12_000);

        Assert.Equal(["l1", "l2"], late.Select(l => l.Source.ItemId));
        Assert.Null(schedule.Active);
        Assert.Equal(1, schedule.Pending);
        Assert.Equal((long?)19_000, schedule.NextDeadline);
        Assert.Null(schedule.Completed("l1"));
        Assert.Equal("l3", schedule.Next()?.Source.ItemId);
    }

    [Fact]
    public void TakeLate_LineAlreadyTooOldWhenItArrives_SkippedBeforeItIsAsked()
    {
        var schedule = Schedule(lagSeconds: 10);
        schedule.Add(Line("old", 0));

        Assert.Equal(["old"], schedule.TakeLate(10_000).Select(l => l.Source.ItemId));
        Assert.Null(schedule.Next());
        Assert.Null(schedule.NextDeadline);
    }

    [Fact]
    public void TakeAll_EveryPendingLineOnceInOrder()
    {
        var schedule = Schedule();
        schedule.Add(Line("l1", 0));
        schedule.Add(Line("l2", 0));
        schedule.Next();

        Assert.Equal(["l1", "l2"], schedule.TakeAll().Select(l => l.Source.ItemId));
        Assert.Empty(schedule.TakeAll());
        Assert.Equal(0, schedule.Pending);
    }
}
