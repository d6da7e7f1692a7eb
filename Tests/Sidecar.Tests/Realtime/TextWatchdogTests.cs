using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>The watchdog's decision, event by event on given times: no clock, no timer.</summary>
public sealed class TextWatchdogTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 20, 0, 0, TimeSpan.Zero);
    private readonly TextWatchdog _watchdog = new(Limit);

    private static DateTimeOffset At(double seconds) => Start.AddSeconds(seconds);

    [Fact]
    public void Committed_NoTextWithinTheLimit_Stalls()
    {
        _watchdog.Committed("a", At(0));

        Assert.Equal(At(20), _watchdog.Deadline);
        Assert.Null(_watchdog.Stalled(At(19.9)));
        Assert.Equal("1 committed turn(s) got no text for 20 s", _watchdog.Stalled(At(20)));
    }

    [Fact]
    public void TextForAnEarlierTurn_RestartsTheWaitForTheLaterOnes()
    {
        _watchdog.Committed("a", At(0));
        _watchdog.Committed("b", At(1));
        _watchdog.Answered("a", finished: false, At(15));
        _watchdog.Answered("a", finished: true, At(30));

        Assert.Null(_watchdog.Stalled(At(45)));
        Assert.Equal(At(50), _watchdog.Deadline);
        Assert.NotNull(_watchdog.Stalled(At(50)));
    }

    [Fact]
    public void EveryTurnAnswered_NeverStalls()
    {
        _watchdog.Committed("a", At(0));
        _watchdog.Answered("a", finished: true, At(1));
        _watchdog.Committed("b", At(2));
        _watchdog.Answered("b", finished: true, At(3));

        Assert.Null(_watchdog.Deadline);
        Assert.Null(_watchdog.Stalled(At(3600)));
    }

    [Fact]
    public void ZeroLimit_IsOff()
    {
        var off = new TextWatchdog(TimeSpan.Zero);
        off.Committed("a", At(0));

        Assert.Null(off.Deadline);
        Assert.Null(off.Stalled(At(3600)));
    }
}
