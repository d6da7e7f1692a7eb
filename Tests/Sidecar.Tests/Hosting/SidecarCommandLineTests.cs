using CaptionSidecar.Hosting;
using CaptionSidecar.Realtime;
using Microsoft.Extensions.Configuration;

namespace CaptionSidecar.Tests.Hosting;

public sealed class SidecarCommandLineTests
{
    private static Dictionary<string, string?> Map(params string[] args)
    {
        var settings = SidecarCommandLine.Settings();
        var root = new System.CommandLine.RootCommand();
        foreach (var s in settings)
        {
            root.Add(s.Option);
        }

        var parse = root.Parse(args);
        Assert.Empty(parse.Errors);
        return SidecarCommandLine.ToConfiguration(parse, settings);
    }

    [Fact]
    public void ToConfiguration_GivenOptions_MapToTheirSettingKeys()
    {
        var config = Map("--input", "file:a.wav", "--no-pacing", "--engine", "openai", "--exit-at-end",
            "--realtime-endpoint", "http://127.0.0.1:9/v1", "--transcribe-model", "whisper-1", "--language", "de",
            "--prompt", "Valorant", "--transcript-dir", "out", "--input-rate", "44100", "--input-channels", "2");

        Assert.Equal("file:a.wav", config["Audio:Input"]);
        Assert.Equal("true", config["Audio:NoPacing"]);
        Assert.Equal("openai", config["Sidecar:Engine"]);
        Assert.Equal("true", config["Sidecar:ExitAtEnd"]);
        Assert.Equal("http://127.0.0.1:9/v1", config["Realtime:Endpoint"]);
        Assert.Equal("whisper-1", config["Realtime:TranscribeModel"]);
        Assert.Equal("de", config["Realtime:Language"]);
        Assert.Equal("Valorant", config["Realtime:Prompt"]);
        Assert.Equal("out", config["Captions:TranscriptDirectory"]);
        Assert.Equal("44100", config["Audio:InputRate"]);
        Assert.Equal("2", config["Audio:InputChannels"]);
    }

    [Fact]
    public void ToConfiguration_Relay_MapsToTheRelaySection()
    {
        var config = Map("--relay", "nats://sidecar:pw@127.0.0.1:4222", "--relay-stream", "my-channel");

        Assert.Equal("nats://sidecar:pw@127.0.0.1:4222", config["Relay:Url"]);
        Assert.Equal("my-channel", config["Relay:Stream"]);
    }

    [Fact]
    public void ToConfiguration_ObsMuteSource_BindsToObsOptions()
    {
        var config = Map("--obs-mute-source", "Mic/Aux");

        Assert.Equal("Mic/Aux", config["Obs:MuteSource"]);
        var bound = new ConfigurationBuilder().AddInMemoryCollection(config).Build()
            .GetSection(CaptionSidecar.Outputs.ObsOptions.Section).Get<CaptionSidecar.Outputs.ObsOptions>();
        Assert.Equal("Mic/Aux", bound!.MuteSource);
    }

    [Fact]
    public void ToConfiguration_OptionsNotGiven_LeaveOtherSourcesInCharge()
    {
        var config = Map("--language", "fr");

        Assert.Single(config);
        Assert.False(config.ContainsKey("Audio:Input"));
        Assert.False(config.ContainsKey("Audio:NoPacing"));
    }

    [Theory]
    [InlineData("semantic-vad", TurnDetectionMode.SemanticVad)]
    [InlineData("server-vad", TurnDetectionMode.ServerVad)]
    [InlineData("manual", TurnDetectionMode.Manual)]
    public void ToConfiguration_TurnDetection_BindsToTheEnum(string given, TurnDetectionMode expected)
    {
        var config = Map("--turn-detection", given);
        var bound = new ConfigurationBuilder().AddInMemoryCollection(config).Build()
            .GetSection(RealtimeOptions.Section).Get<RealtimeOptions>();

        Assert.NotNull(bound);
        Assert.Equal(expected, bound.TurnDetection);
    }

    [Fact]
    public void Build_RunSubcommand_AcceptsTheSameOptions()
    {
        var parse = SidecarCommandLine.Build().Parse(["run", "--input", "stdin", "--exit-at-end"]);

        Assert.Empty(parse.Errors);
        Assert.Equal("run", parse.CommandResult.Command.Name);
    }

    [Fact]
    public void Build_UnknownOption_IsAParseError()
    {
        var parse = SidecarCommandLine.Build().Parse(["--no-such-flag"]);

        Assert.NotEmpty(parse.Errors);
    }
}
