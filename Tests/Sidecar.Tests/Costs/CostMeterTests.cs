using CaptionSidecar.Costs;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Costs;

public sealed class CostMeterTests
{
    private readonly CostMeter _meter = new(Options.Create(new PricingOptions()));

    [Fact]
    public void CostOf_RealtimeUsage_EachKindAtItsPrice()
    {
        var usage = new TokenUsage
        {
            AudioInputTokens = 1_000_000, CachedAudioInputTokens = 1_000_000, TextInputTokens = 1_000_000,
            CachedTextInputTokens = 1_000_000, TextOutputTokens = 1_000_000,
        };

        // gpt-realtime: 32 + 0.40 + 4 + 0.40 + 16 per million of each.
        Assert.Equal(52.80m, _meter.CostOf("gpt-realtime", usage));
    }

    [Fact]
    public void PriceOf_DatedSnapshot_MatchesTheLongestModelPrefix()
    {
        Assert.Equal(10m, _meter.PriceOf("gpt-realtime-mini-2025-10-06")!.AudioInput);
        Assert.Equal(32m, _meter.PriceOf("gpt-realtime-2025-08-28")!.AudioInput);
        Assert.Null(_meter.PriceOf("some-other-model"));
    }

    [Fact]
    public void CostOf_DurationBilledModel_PerMinute()
    {
        Assert.Equal(0.006m, _meter.CostOf("whisper-1", new TokenUsage { AudioSeconds = 60 }));
    }

    [Fact]
    public void CostOf_UnpricedModelWithUsage_Null()
    {
        Assert.Null(_meter.CostOf("unknown", new TokenUsage { TextOutputTokens = 5 }));
        Assert.Equal(0m, _meter.CostOf(null, TokenUsage.None));
    }

    [Fact]
    public void Read_RunningTrack_CostPerHourIsCostOverHoursRun()
    {
        var status = new TrackStatus("es", TrackSessionState.Connected, Usage: new TokenUsage { AudioInputTokens = 100_000 }, Model: "gpt-realtime");

        var reading = _meter.Read([new TrackUptime(status, TimeSpan.FromMinutes(30))]);

        var es = Assert.Single(reading.Languages);
        Assert.Equal(3.2m, es.Cost);
        Assert.Equal(6.4m, es.CostPerHour);
        Assert.Equal(6.4m, reading.PerHour);
        Assert.Equal("USD", reading.Currency);
    }

    [Fact]
    public void Read_UnderAMinute_NoHourlyRateYet()
    {
        var status = new TrackStatus("es", TrackSessionState.Connected, Usage: new TokenUsage { AudioInputTokens = 10 }, Model: "gpt-realtime");

        var reading = _meter.Read([new TrackUptime(status, TimeSpan.FromSeconds(20))]);

        Assert.Null(reading.Languages[0].CostPerHour);
        Assert.Equal(0m, reading.PerHour);
    }

    [Fact]
    public void Read_LanguageStoppedAndStartedAgain_KeepsEarlierRunsButCountsOnlyRunningLanguagesPerHour()
    {
        _meter.TrackEnded(new TrackStatus("fr", TrackSessionState.Stopped, Usage: new TokenUsage { TextOutputTokens = 1_000_000 }, Model: "gpt-realtime"), TimeSpan.FromHours(1));
        _meter.TrackEnded(new TrackStatus("de", TrackSessionState.Stopped, Usage: new TokenUsage { TextOutputTokens = 1_000_000 }, Model: "gpt-realtime"), TimeSpan.FromHours(1));
        var again = new TrackStatus("fr", TrackSessionState.Connected, Usage: new TokenUsage { TextOutputTokens = 1_000_000 }, Model: "gpt-realtime");

        var reading = _meter.Read([new TrackUptime(again, TimeSpan.FromHours(1))]);

        var fr = reading.Languages.Single(l => l.Language == "fr");
        Assert.Equal(32m, fr.Cost);
        Assert.Equal(16m, fr.CostPerHour);
        Assert.Equal(2_000_000, fr.Usage.TextOutputTokens);
        Assert.Equal(48m, reading.Total); // fr twice and de once
        Assert.Equal(16m, reading.PerHour); // de is off
    }
}
