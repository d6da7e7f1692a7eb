using System.Text.Json;
using CaptionSidecar.Control;
using CaptionSidecar.Overlay;
using CaptionSidecar.Speakers;

namespace CaptionSidecar.Tests.Control;

/// <summary>The speakers as the control API and <c>/api/status</c> give them (the JSON the control page reads).</summary>
public sealed class ControlSurfaceSpeakerTests
{
    private static readonly SpeakerStatus Alice =
        new("Alice", true, "#4fc3f7", "en", "default", true, "receiving", null, -12.3456, -20.04, true, null);

    private static readonly SpeakerStatus Bob =
        new("Bob", true, "#ffb74d", "es", "device:usb-mic", false, "failed", "The device usb-mic is gone.", null, null, null, false);

    private static FakeControlSurface Surface() => new(new LanguageState("en", "English", true)) { Speakers = [Alice, Bob] };

    [Fact]
    public void ForJson_LevelsRoundedAndSilenceOrNaNIsNull()
    {
        var silent = ControlSurface.ForJson(Alice with { LevelDbfs = double.NegativeInfinity, RmsDbfs = double.NaN });
        var loud = ControlSurface.ForJson(Alice);

        Assert.Null(silent.LevelDbfs);
        Assert.Null(silent.RmsDbfs);
        Assert.Equal(-12.3, loud.LevelDbfs);
        Assert.Equal(-20.0, loud.RmsDbfs);
        Assert.Equal(Alice with { LevelDbfs = -12.3, RmsDbfs = -20.0 }, loud);
    }

    [Fact]
    public void GetSpeakers_EveryFieldTheControlPageReads_InCamelCase()
    {
        var json = ((IControlSurface)Surface()).GetSpeakers();

        Assert.Equal(JsonValueKind.Array, json.ValueKind);
        Assert.Equal(2, json.GetArrayLength());
        var alice = json[0];
        Assert.Equal(
            ["name", "label", "colour", "language", "input", "captioned", "inputState", "inputDetail", "levelDbfs", "rmsDbfs", "speech", "mutedInObs"],
            alice.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Alice", alice.GetProperty("name").GetString());
        Assert.True(alice.GetProperty("label").GetBoolean());
        Assert.Equal("#4fc3f7", alice.GetProperty("colour").GetString());
        Assert.Equal("receiving", alice.GetProperty("inputState").GetString());
        Assert.Equal(JsonValueKind.Null, alice.GetProperty("mutedInObs").ValueKind);
        var bob = json[1];
        Assert.False(bob.GetProperty("captioned").GetBoolean());
        Assert.Equal("The device usb-mic is gone.", bob.GetProperty("inputDetail").GetString());
        Assert.Equal(JsonValueKind.Null, bob.GetProperty("levelDbfs").ValueKind);
        Assert.False(bob.GetProperty("mutedInObs").GetBoolean());
    }

    [Fact]
    public async Task SetSpeakerCaptionedAsync_KnownNameInAnyCase_AppliesAndReturnsTheSpeakersNewState()
    {
        var surface = Surface();

        var state = await ((IControlSurface)surface).SetSpeakerCaptionedAsync("alice", false, TestContext.Current.CancellationToken);

        Assert.NotNull(state);
        Assert.Equal("Alice", state.Value.GetProperty("name").GetString());
        Assert.False(state.Value.GetProperty("captioned").GetBoolean());
        Assert.Equal([("alice", false)], surface.SpeakerChanges);
    }

    [Fact]
    public async Task SetSpeakerCaptionedAsync_UnknownName_IsNull()
    {
        var surface = Surface();

        var state = await ((IControlSurface)surface).SetSpeakerCaptionedAsync("Carol", true, TestContext.Current.CancellationToken);

        Assert.Null(state);
    }

    [Fact]
    public void GetStatus_HasSpeakersShapedLikeGetSpeakers()
    {
        IControlSurface surface = Surface();

        var status = surface.GetStatus();

        var speakers = status.GetProperty("speakers");
        Assert.Equal(surface.GetSpeakers().GetRawText(), speakers.GetRawText());
        Assert.Equal("Bob", speakers[1].GetProperty("name").GetString());
    }

    [Fact]
    public void ControlStatus_UnnamedSpeaker_SerializesWithNullColourAndNoInfinity()
    {
        var main = ControlSurface.ForJson(new SpeakerStatus(Speaker.UnnamedKey, false, null, "en", "default", true, "waiting-for-audio",
            "Waiting for audio from default", double.NegativeInfinity, double.NegativeInfinity, null, null));
        var status = new ControlStatus("openai", 1, [], "off", null, 0, 0, [], [], Speakers: [main]);

        var json = JsonSerializer.Serialize(status, ControlJsonContext.Default.ControlStatus);

        Assert.Contains("\"speakers\":[{\"name\":\"main\",\"label\":false,\"colour\":null,", json, StringComparison.Ordinal);
        Assert.DoesNotContain("Infinity", json, StringComparison.Ordinal);
    }
}
