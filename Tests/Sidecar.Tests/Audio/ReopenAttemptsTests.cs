using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

public sealed class ReopenAttemptsTests
{
    [Fact]
    public void IsWorthAWarning_AnHourOfFailuresAtTheBackoffCap_FirstFiveThenAboutOneAMinute()
    {
        // 5 s between attempts at the cap: an hour is about 720 attempts.
        var warned = Enumerable.Range(1, 720).Where(ReopenAttempts.IsWorthAWarning).ToList();

        Assert.Equal([1, 2, 3, 4, 5, 12, 24], warned.Take(7));
        Assert.Equal(5 + (720 / 12), warned.Count);
    }
}
