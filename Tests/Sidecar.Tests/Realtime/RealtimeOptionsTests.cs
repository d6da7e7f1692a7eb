using System.ComponentModel.DataAnnotations;
using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Realtime;

public sealed class RealtimeOptionsTests
{
    [Fact]
    public void Validate_Defaults_RollOverAt55MinutesWithA20SecondWatchdog()
    {
        var options = new RealtimeOptions();

        Assert.Empty(Problems(options));
        Assert.Equal(55, options.RolloverAfterMinutes);
        Assert.Equal(20, options.WatchdogSeconds);
    }

    [Fact]
    public void Validate_NegativeRollover_NamesTheSettingAndTheAllowedRange()
    {
        var problem = Assert.Single(Problems(new RealtimeOptions { RolloverAfterMinutes = -1 }));

        Assert.StartsWith("Realtime:RolloverAfterMinutes must be between 0 (rollover off) and 600 minutes", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NegativeWatchdog_NamesTheSettingAndTheAllowedRange()
    {
        var problem = Assert.Single(Problems(new RealtimeOptions { WatchdogSeconds = -5 }));

        Assert.StartsWith("Realtime:WatchdogSeconds must be between 0 (watchdog off) and 600 seconds", problem, StringComparison.Ordinal);
    }

    private static List<string> Problems(RealtimeOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(r => r.ErrorMessage ?? string.Empty)];
    }
}
