using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

public sealed class AudioDevicesTests
{
    private static readonly AudioDevice[] Devices =
    [
        new("alsa_input.usb-Blue_Yeti-00.analog-stereo", "Yeti Stereo Microphone Analog Stereo", true, 48_000, 2, false),
        new("alsa_input.pci-0000_00_1f.3.analog-stereo", "Built-in Audio Analog Stereo", false, 44_100, 2, false),
        new("alsa_output.pci-0000_00_1f.3.analog-stereo.monitor", "Monitor of Built-in Audio Analog Stereo", false, 44_100, 2, true),
        new("yeti", "Virtual yeti alias", false, 48_000, 1, false),
    ];

    [Fact]
    public void Resolve_ExactId_WinsOverSubstringMatches()
    {
        Assert.Equal("yeti", AudioDevices.Resolve("yeti", Devices).Id);
    }

    [Theory]
    [InlineData("BLUE_yeti", "alsa_input.usb-Blue_Yeti-00.analog-stereo")]
    [InlineData("monitor of built-in", "alsa_output.pci-0000_00_1f.3.analog-stereo.monitor")]
    [InlineData("input.pci", "alsa_input.pci-0000_00_1f.3.analog-stereo")]
    public void Resolve_UniqueCaseInsensitiveSubstringOfIdOrDescription_ReturnsThatDevice(string name, string expectedId)
    {
        Assert.Equal(expectedId, AudioDevices.Resolve(name, Devices).Id);
    }

    [Fact]
    public void Resolve_SeveralMatches_ErrorListsOnlyTheMatches()
    {
        var ex = Assert.Throws<ArgumentException>(() => AudioDevices.Resolve("Built-in", Devices));

        Assert.Contains("'Built-in' matches 2 audio inputs", ex.Message, StringComparison.Ordinal);
        Assert.Contains("alsa_input.pci-0000_00_1f.3.analog-stereo", ex.Message, StringComparison.Ordinal);
        Assert.Contains("alsa_output.pci-0000_00_1f.3.analog-stereo.monitor", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Blue_Yeti", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NoMatch_ErrorListsEveryChoice()
    {
        var ex = Assert.Throws<ArgumentException>(() => AudioDevices.Resolve("headset", Devices));

        Assert.Contains("No audio input matches 'headset'", ex.Message, StringComparison.Ordinal);
        Assert.All(Devices, d => Assert.Contains(d.Id, ex.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Format_MarksTheDefaultAndMonitors()
    {
        var lines = AudioDevices.Format(Devices, "monitor").Split('\n');

        Assert.Equal(4, lines.Length);
        Assert.StartsWith("* alsa_input.usb-Blue_Yeti", lines[0], StringComparison.Ordinal);
        Assert.Contains("48000 Hz  2 ch  input", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("  alsa_output", lines[2], StringComparison.Ordinal);
        Assert.Contains("monitor  Monitor of Built-in Audio", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Format_NamesMonitorsAsTheOperatingSystemDoes()
    {
        var lines = AudioDevices.Format(Devices).Split('\n');

        var label = OperatingSystem.IsWindows() ? "loopback" : "monitor";
        Assert.Contains($"{label}  Monitor of Built-in Audio", lines[2], StringComparison.Ordinal);
        Assert.Contains($"2 ch  {"input".PadRight(label.Length)}  Yeti", lines[0], StringComparison.Ordinal);
    }
}
