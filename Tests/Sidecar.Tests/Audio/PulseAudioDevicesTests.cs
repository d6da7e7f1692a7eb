using System.Runtime.Versioning;
using CaptionSidecar.Audio;
using CaptionSidecar.Hosting;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionSidecar.Tests.Audio;

/// <summary>
/// Lists the sources of the headless PulseAudio (<c>scripts/pulse-headless.sh start</c>) through libpulse and checks
/// every field read from pa_source_info by offset against what pactl prints.
/// </summary>
[SupportedOSPlatform("linux")]
[Collection(PulseAudioDaemon.Name)]
[Trait("Category", "Integration")]
public sealed class PulseAudioDevicesTests
{
    private const string Sink = "caption_test";

    private static Task<string> RequireDaemonAsync(CancellationToken cancellationToken) => Peers.RequirePulseDaemonAsync(Sink, cancellationToken);

    [Fact(Timeout = 30000)]
    public async Task List_HeadlessDaemon_MatchesPactlForEverySource()
    {
        var ct = TestContext.Current.CancellationToken;
        var pactl = await RequireDaemonAsync(ct);
        // A microphone-like source with another rate and channel count, so every field read by offset differs
        // between the two sources; unloaded again so other tests see the daemon as the script left it.
        var (loaded, module, loadError) = await Peers.RunAsync(
            pactl, ["load-module", "module-null-source", "source_name=caption_devices_mic", "rate=16000", "channels=1", "description=Caption_Devices_Mic"], TimeSpan.FromSeconds(10), ct);
        Assert.True(loaded == 0, loadError);
        IReadOnlyList<AudioDevice> devices;
        string shortList, longList, defaultSource;
        try
        {
            (_, shortList, _) = await Peers.RunAsync(pactl, ["list", "short", "sources"], TimeSpan.FromSeconds(10), ct);
            (_, longList, _) = await Peers.RunAsync(pactl, ["list", "sources"], TimeSpan.FromSeconds(10), ct);
            (_, defaultSource, _) = await Peers.RunAsync(pactl, ["get-default-source"], TimeSpan.FromSeconds(10), ct);
            devices = PulseAudioDevices.List();
        }
        finally
        {
            await Peers.RunAsync(pactl, ["unload-module", module.Trim()], TimeSpan.FromSeconds(10), CancellationToken.None);
        }

        var mic = Assert.Single(devices, d => d.Id == "caption_devices_mic");
        Assert.Equal(new AudioDevice("caption_devices_mic", "Caption_Devices_Mic", false, 16_000, 1, false), mic);

        // "0	caption_test.monitor	module-null-sink.c	s16le 2ch 44100Hz	IDLE"
        var expected = shortList.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
        Assert.Equal(expected.Select(e => e[1]), devices.Select(d => d.Id));
        foreach (var (fields, device) in expected.Zip(devices))
        {
            var spec = fields[3].Split(' ');
            Assert.Equal(spec[1], $"{device.Channels}ch");
            Assert.Equal(spec[2], $"{device.SampleRate}Hz");
            Assert.Contains($"Description: {device.Description}\n", longList, StringComparison.Ordinal);
            Assert.Equal(device.Id == defaultSource.Trim(), device.IsDefault);
        }

        var monitor = Assert.Single(devices, d => d.Id == $"{Sink}.monitor");
        Assert.True(monitor.IsMonitor);
        Assert.Equal("Monitor of CaptionSidecar_test", monitor.Description);
    }

    [Fact(Timeout = 30000)]
    public async Task ListDevices_Command_PrintsTheMonitorMarkedAsDefault()
    {
        await RequireDaemonAsync(TestContext.Current.CancellationToken);
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = SidecarCommandLine.ListDevices(output, error);

        Assert.True(exit == 0, error.ToString());
        Assert.Contains($"* {Sink}.monitor", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("monitor  Monitor of CaptionSidecar_test", output.ToString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task Create_DeviceBySubstringOfDescription_OpensTheResolvedSource()
    {
        await RequireDaemonAsync(TestContext.Current.CancellationToken);
        var factory = new AudioSourceFactory(NullLoggerFactory.Instance);

        await using var source = await factory.OpenAsync(new AudioOptions { Input = "device:monitor of captionsidecar" }, TestContext.Current.CancellationToken);

        Assert.Equal($"{Sink}.monitor", Assert.IsType<PulseAudioCapture>(source).Device);
    }

    [Fact(Timeout = 30000)]
    public async Task Create_DeviceMatchingNothing_IOExceptionListsTheChoices()
    {
        await RequireDaemonAsync(TestContext.Current.CancellationToken);
        var factory = new AudioSourceFactory(NullLoggerFactory.Instance);

        var ex = await Assert.ThrowsAsync<IOException>(() => factory.OpenAsync(new AudioOptions { Input = "device:no_such_source_xyz" }, TestContext.Current.CancellationToken));

        Assert.Contains("Audio:Input (--input device:no_such_source_xyz): No audio input matches", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"{Sink}.monitor", ex.Message, StringComparison.Ordinal);
    }
}
