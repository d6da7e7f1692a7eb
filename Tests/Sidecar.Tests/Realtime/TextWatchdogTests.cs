using CaptionSidecar.Realtime;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Realtime;

public sealed class TextWatchdogTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);
    private readonly FakeTimeProvider _time = new();
    private readonly RecordingCaptionInput _captions = new();
    private readonly TextWatchdog _watchdog;

    public TextWatchdogTests()
    {
        _watchdog = new TextWatchdog(_captions, Limit, _time);
    }

    public void Dispose() => _watchdog.Dispose();

    [Fact(Timeout = 30000)]
    public async Task TurnCommitted_NoTextWithinTheLimit_Stalls()
    {
        _watchdog.TurnCommitted("a", null, TimeSpan.Zero, TimeSpan.FromSeconds(1));

        _time.Advance(Limit - TimeSpan.FromMilliseconds(100));
        Assert.False(_watchdog.Stalled.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(100));

        Assert.True(_watchdog.Stalled.IsCompleted);
        Assert.Contains("1 committed turn(s) got no text for 20 s", await _watchdog.Stalled.WaitAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public void TextForAnEarlierTurn_RestartsTheWaitForTheLaterOnes()
    {
        _watchdog.TurnCommitted("a", null, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        _watchdog.TurnCommitted("b", "a", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        _time.Advance(TimeSpan.FromSeconds(15));
        _watchdog.TextDelta("a", "Hello");
        _time.Advance(TimeSpan.FromSeconds(15));
        _watchdog.TextCompleted("a", "Hello there.");
        _time.Advance(TimeSpan.FromSeconds(15));

        Assert.False(_watchdog.Stalled.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.True(_watchdog.Stalled.IsCompleted);
    }

    [Fact]
    public void EveryTurnAnswered_NeverStalls()
    {
        _watchdog.TurnCommitted("a", null, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        _watchdog.TextCompleted("a", "Hello.");
        _watchdog.TurnCommitted("b", "a", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        _watchdog.TurnFailed("b", "server error");

        _time.Advance(TimeSpan.FromHours(1));

        Assert.False(_watchdog.Stalled.IsCompleted);
    }

    [Fact]
    public void Calls_ArePassedOnToTheCaptions()
    {
        _watchdog.SpeechStarted(TimeSpan.FromSeconds(1));
        _watchdog.SpeechStopped(TimeSpan.FromSeconds(2));
        _watchdog.TurnCommitted("a", null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        _watchdog.TextDelta("a", "Hi");
        _watchdog.TextCompleted("a", "Hi.");
        _watchdog.TurnFailed("b", "gone");

        Assert.Equal(["started 1000", "stopped 2000", "committed a", "completed a", "failed b gone"], _captions.Calls);
        Assert.Equal("Hi", _captions.DeltasOf("a"));
    }

    [Fact]
    public void ZeroLimit_IsOff()
    {
        using var off = new TextWatchdog(_captions, TimeSpan.Zero, _time);
        off.TurnCommitted("a", null, TimeSpan.Zero, TimeSpan.FromSeconds(1));

        _time.Advance(TimeSpan.FromHours(1));

        Assert.False(off.Stalled.IsCompleted);
    }
}
