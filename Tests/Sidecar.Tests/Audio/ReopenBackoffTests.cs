using CaptionSidecar.Audio;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.Tests.Audio;

public sealed class ReopenBackoffTests
{
    [Fact]
    public void IsWorthAWarning_AnHourOfFailuresAtTheBackoffCap_FirstFiveThenAboutOneAMinute()
    {
        // 5 s between attempts at the cap: an hour is about 720 attempts.
        var warned = Enumerable.Range(1, 720).Where(ReopenBackoff.IsWorthAWarning).ToList();

        Assert.Equal([1, 2, 3, 4, 5, 12, 24], warned.Take(7));
        Assert.Equal(5 + (720 / 12), warned.Count);
        Assert.Equal(LogLevel.Debug, ReopenBackoff.LevelFor(6));
    }

    [Fact]
    public void Next_DoublesUpToTheCap()
    {
        var delays = new List<TimeSpan> { ReopenBackoff.FirstDelay };
        for (var i = 0; i < 6; i++)
        {
            delays.Add(ReopenBackoff.Next(delays[^1]));
        }

        Assert.Equal([250, 500, 1000, 2000, 4000, 5000, 5000], delays.Select(d => d.TotalMilliseconds));
    }
}
