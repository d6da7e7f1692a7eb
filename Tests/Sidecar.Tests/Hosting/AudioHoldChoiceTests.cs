using CaptionSidecar.Audio;
using CaptionSidecar.Hosting;
using CaptionSidecar.Outputs;
using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Hosting;

public sealed class AudioHoldChoiceTests
{
    private static readonly EngineChoice OpenAi = new(EngineChoice.OpenAi, null);

    private sealed class NamedHold(string name) : IAudioHold
    {
        public string Name { get; } = name;

        public bool IsHeld => false;

        public string Reason => $"'{Name}' is muted";
    }

    [Fact]
    public void Resolve_NoMuteSource_NoHoldAndNothingToLog()
    {
        var choice = AudioHoldChoice.Resolve(new ObsOptions(), OpenAi, new RealtimeOptions(), _ => throw new InvalidOperationException("no hold wanted"));

        Assert.Null(choice.Settings);
        Assert.Null(choice.Reason);
    }

    [Fact]
    public void Resolve_MuteSourceWithOpenAi_HoldsWithTheTurnEndingSilence()
    {
        var realtime = new RealtimeOptions { TurnDetection = TurnDetectionMode.ServerVad, SilenceDurationMs = 700 };

        var choice = AudioHoldChoice.Resolve(new ObsOptions { MuteSource = "Mic/Aux" }, OpenAi, realtime, name => new NamedHold(name));

        Assert.NotNull(choice.Settings);
        Assert.Equal("Mic/Aux", Assert.IsType<NamedHold>(choice.Settings.Hold).Name);
        Assert.Equal(TimeSpan.FromMilliseconds(1200), choice.Settings.ClosingSilence);
        Assert.Contains("Mic/Aux", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_MuteSourceWithObsOff_IgnoredWithAReason()
    {
        var choice = AudioHoldChoice.Resolve(new ObsOptions { MuteSource = "Mic/Aux", Enabled = false }, OpenAi, new RealtimeOptions(),
            _ => throw new InvalidOperationException("OBS is off"));

        Assert.Null(choice.Settings);
        Assert.Contains("--no-obs", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_MuteSourceWithTestPattern_IgnoredWithAReason()
    {
        var choice = AudioHoldChoice.Resolve(new ObsOptions { MuteSource = "Mic/Aux" }, new EngineChoice(EngineChoice.TestPattern, null),
            new RealtimeOptions(), _ => throw new InvalidOperationException("no audio"));

        Assert.Null(choice.Settings);
        Assert.Contains("test pattern", choice.Reason, StringComparison.Ordinal);
    }
}
