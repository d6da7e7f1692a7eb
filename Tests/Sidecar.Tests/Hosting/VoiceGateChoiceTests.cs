using CaptionSidecar.Audio;
using CaptionSidecar.Hosting;
using CaptionSidecar.Realtime;
using Microsoft.Extensions.Configuration;

namespace CaptionSidecar.Tests.Hosting;

public sealed class VoiceGateChoiceTests
{
    [Theory]
    [InlineData(TurnDetectionMode.ServerVad, "auto", 500, 1000)]
    [InlineData(TurnDetectionMode.ServerVad, "auto", 800, 1300)]
    [InlineData(TurnDetectionMode.SemanticVad, "high", 500, 2500)]
    [InlineData(TurnDetectionMode.SemanticVad, "medium", 500, 4500)]
    [InlineData(TurnDetectionMode.SemanticVad, "auto", 500, 4500)]
    [InlineData(TurnDetectionMode.SemanticVad, "low", 500, 8500)]
    public void Resolve_VadTurnDetection_HangoverIsTheSilenceTheServerNeedsToEndATurn(TurnDetectionMode mode, string eagerness, int silenceMs, int hangoverMs)
    {
        var realtime = new RealtimeOptions { TurnDetection = mode, Eagerness = eagerness, SilenceDurationMs = silenceMs };

        var choice = VoiceGateChoice.Resolve(new AudioOptions(), realtime);

        Assert.NotNull(choice.Settings);
        Assert.Equal(TimeSpan.FromMilliseconds(hangoverMs), choice.Settings.Hangover);
        Assert.Equal(TimeSpan.FromMilliseconds(300), choice.Settings.PreRoll);
        Assert.Equal(-50, choice.Settings.MinimumLevelDbfs);
    }

    [Fact]
    public void Resolve_HangoverSetInTheOptions_WinsOverTheDerivedOne()
    {
        var audio = new AudioOptions { VoiceGate = { HangoverMilliseconds = 2000, PreRollMilliseconds = 500, MinimumLevelDbfs = -60 } };

        var choice = VoiceGateChoice.Resolve(audio, new RealtimeOptions());

        Assert.Equal(TimeSpan.FromSeconds(2), choice.Settings?.Hangover);
        Assert.Equal(TimeSpan.FromMilliseconds(500), choice.Settings?.PreRoll);
        Assert.Equal(-60, choice.Settings?.MinimumLevelDbfs);
    }

    [Fact]
    public void Resolve_ManualTurnDetection_TurnsTheGateOffAndSaysWhy()
    {
        var choice = VoiceGateChoice.Resolve(new AudioOptions(), new RealtimeOptions { TurnDetection = TurnDetectionMode.Manual });

        Assert.Null(choice.Settings);
        Assert.Contains("manual", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NoVoiceGateFlag_TurnsTheGateOff()
    {
        var settings = SidecarCommandLine.Settings();
        var root = new System.CommandLine.RootCommand();
        foreach (var s in settings)
        {
            root.Add(s.Option);
        }

        var config = SidecarCommandLine.ToConfiguration(root.Parse(["--no-voice-gate"]), settings);
        var audio = new ConfigurationBuilder().AddInMemoryCollection(config).Build().GetSection(AudioOptions.Section).Get<AudioOptions>();

        Assert.Equal("false", config["Audio:VoiceGate:Enabled"]);
        Assert.NotNull(audio);
        Assert.Null(VoiceGateChoice.Resolve(audio, new RealtimeOptions()).Settings);
        Assert.NotNull(VoiceGateChoice.Resolve(new AudioOptions(), new RealtimeOptions()).Settings);
    }

    [Theory]
    [InlineData("MinimumLevelDbfs", "-5")]
    [InlineData("AboveNoiseFloorDb", "1")]
    [InlineData("OnsetMilliseconds", "-20")]
    [InlineData("PreRollMilliseconds", "5000")]
    [InlineData("HangoverMilliseconds", "50")]
    public void AudioOptionsValidator_VoiceGateValueOutOfRange_FailsNamingTheSetting(string key, string value)
    {
        var audio = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"Audio:VoiceGate:{key}"] = value, ["Audio:Input"] = "stdin" })
            .Build().GetSection(AudioOptions.Section).Get<AudioOptions>();

        var result = new AudioOptionsValidator().Validate(null, audio!);

        Assert.True(result.Failed);
        Assert.Contains($"Audio:VoiceGate:{key}", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains(value, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void AudioOptionsValidator_DefaultVoiceGate_Passes()
    {
        Assert.True(new AudioOptionsValidator().Validate(null, new AudioOptions { Input = "stdin" }).Succeeded);
    }
}
