using CaptionSidecar.Audio;
using CaptionSidecar.Hosting;
using CaptionSidecar.Realtime;
using CaptionSidecar.Speakers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Roster;

/// <summary>Speakers from the command line and settings: resolution, defaults, and what is refused at start.</summary>
public sealed class SpeakerRosterTests
{
    private static readonly AudioOptions Audio = new() { Input = "default" };
    private static readonly RealtimeOptions Realtime = new() { Language = "en" };

    [Fact]
    public void Resolve_NoSpeakers_OneUnnamedSpeakerFromTheInputLanguageAndMuteSource()
    {
        var roster = SpeakerRoster.Resolve(new SpeakerListOptions(), new AudioOptions { Input = "stdin" }, new RealtimeOptions { Language = "de" }, "Mic/Aux");

        var speaker = Assert.Single(roster.Speakers);
        Assert.Equal(new Speaker("main", null, "stdin", "de", "Mic/Aux"), speaker);
        Assert.False(roster.Named);
    }

    [Fact]
    public void Resolve_Speakers_NamedWithPaletteColoursAndDefaults()
    {
        var list = new SpeakerListOptions
        {
            Speakers =
            [
                new SpeakerOptions { Name = "Alice", Input = "default" },
                new SpeakerOptions { Name = "Bob", Input = "stdin", Language = "es", Colour = "#ABCDEF", ObsMuteSource = "Bob mic" },
            ],
        };

        var roster = SpeakerRoster.Resolve(list, Audio, Realtime, obsMuteSource: "Host mic");

        Assert.True(roster.Named);
        Assert.Equal(new Speaker("Alice", new("Alice", SpeakerRoster.Palette[0]), "default", "en", null), roster.Speakers[0]);
        Assert.Equal(new Speaker("Bob", new("Bob", "#abcdef"), "stdin", "es", "Bob mic"), roster.Speakers[1]);
        Assert.Same(roster.Speakers[1], roster.Find("BOB"));
    }

    [Theory]
    [InlineData(null, "default", "Name is missing")]
    [InlineData("A<b>", "default", "is not usable")]
    [InlineData("main", "default", "reserved for the unnamed speaker")]
    [InlineData("Alice", "mic", "Speakers:0:Input")]
    [InlineData("Alice", "file:/nonexistent/x.wav", "does not exist")]
    public void Validate_BadSpeaker_SaysWhatToFix(string? name, string input, string expected)
    {
        var failures = SpeakerRoster.Validate(new SpeakerListOptions { Speakers = [new SpeakerOptions { Name = name, Input = input }] }, Audio, Realtime);

        Assert.Contains(failures, f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_DuplicateNamesTwoStdinsBadColourAndLanguage_EachNamed()
    {
        var list = new SpeakerListOptions
        {
            Speakers =
            [
                new SpeakerOptions { Name = "Alice", Input = "stdin", Colour = "red" },
                new SpeakerOptions { Name = "alice", Input = "stdin", Language = "Spanish" },
            ],
        };

        var failures = SpeakerRoster.Validate(list, Audio, Realtime);

        Assert.Contains(failures, f => f.Contains("'alice' is given twice", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("more than one speaker reads stdin", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Colour 'red'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Language 'Spanish'", StringComparison.Ordinal));
    }

    [Fact]
    public void CommandLine_RepeatedSpeaker_BindsToTheSpeakersList()
    {
        var settings = SidecarCommandLine.Settings();
        var root = new System.CommandLine.RootCommand { SidecarCommandLine.SpeakerOption() };
        foreach (var s in settings)
        {
            root.Add(s.Option);
        }

        var parse = root.Parse(["--speaker", "Alice=default", "--speaker", "Bob=cmd:parec --raw", "--translate-from", "audio"]);
        Assert.Empty(parse.Errors);

        var config = SidecarCommandLine.ToConfiguration(parse, settings);
        var bound = new ConfigurationBuilder().AddInMemoryCollection(config).Build().Get<SpeakerListOptions>()!;

        Assert.Equal(["Alice", "Bob"], bound.Speakers.Select(s => s.Name));
        Assert.Equal(["default", "cmd:parec --raw"], bound.Speakers.Select(s => s.Input));
        Assert.Equal("audio", config["Realtime:TranslateFrom"]);
    }

    [Fact]
    public void Validator_RefusesAtStartWithEveryProblem()
    {
        var validator = new SpeakerListValidator(Options.Create(Audio), Options.Create(Realtime));

        var result = validator.Validate(null, new SpeakerListOptions { Speakers = [new SpeakerOptions { Name = "", Input = "" }] });

        Assert.True(result.Failed);
        Assert.Contains("Name is missing", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Input is empty", result.FailureMessage, StringComparison.Ordinal);
    }
}
