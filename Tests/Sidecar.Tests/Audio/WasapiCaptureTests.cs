using CaptionSidecar.Audio;
using CaptionSidecar.Audio.Wasapi;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionSidecar.Tests.Audio;

/// <summary>
/// WASAPI through NAudio on Windows itself: in CI the Windows unit tests run under Wine, whose WASAPI is the test
/// PulseAudio daemon (scripts/pulse-headless.sh: a null sink whose monitor is the default source). Skipped elsewhere.
/// </summary>
public sealed class WasapiCaptureTests
{
    private static readonly TimeSpan AudioDeadline = TimeSpan.FromSeconds(5);

    private static void WindowsOnly() => Assert.SkipUnless(OperatingSystem.IsWindows(), "WASAPI exists on Windows (and under Wine) only.");

    private static AudioSourceFactory Factory() => new(NullLoggerFactory.Instance);

    /// <summary>Reads until <paramref name="samples"/> samples came or the deadline passed; returns how many came.</summary>
    private static async Task<int> ReadAsync(IAudioSource source, int samples)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(AudioDeadline);
        var buffer = new float[samples];
        var read = 0;
        try
        {
            while (read < samples)
            {
                var count = await source.ReadAsync(buffer.AsMemory(read), deadline.Token);
                if (count == 0)
                {
                    break;
                }

                read += count;
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            // The deadline: the caller asserts on what came.
        }

        return read;
    }

    [Fact]
    public void List_GivesTheInputsWithTheDefaultMarkedAndOutputsAsLoopbacks()
    {
        WindowsOnly();

        var devices = AudioDevices.List();

        var inputs = devices.Where(d => !d.IsMonitor).ToList();
        Assert.NotEmpty(inputs);
        Assert.Single(inputs, d => d.IsDefault);
        Assert.All(inputs, d => Assert.InRange(d.SampleRate, 8_000, 384_000));
        Assert.All(inputs, d => Assert.InRange(d.Channels, 1, 32));
        Assert.All(devices.Where(d => d.IsMonitor), d => Assert.StartsWith(WindowsAudioEndpoints.LoopbackPrefix, d.Id, StringComparison.Ordinal));
        Assert.Contains(devices, d => d.IsMonitor); // the null sink, as an output
        Assert.DoesNotContain(devices, d => d.IsDefault && d.IsMonitor);
    }

    [Fact(Timeout = 60000)]
    public async Task OpenDefault_DeliversAudioInASaneFormatWithinSeconds()
    {
        if (!OperatingSystem.IsWindows())
        {
            Assert.Skip("WASAPI exists on Windows (and under Wine) only.");
            return;
        }

        await using var source = await PacketCaptureSource.OpenAsync(WasapiDevice.DefaultInput(), NullLogger.Instance, TimeProvider.System, TestContext.Current.CancellationToken);

        Assert.InRange(source.DeviceFormat.SampleRate, 8_000, 384_000);
        Assert.InRange(source.DeviceFormat.Channels, 1, 32);
        Assert.Equal(new AudioFormat(source.DeviceFormat.SampleRate, 1), source.Format);
        var tenthOfASecond = source.Format.SampleRate / 10;
        Assert.Equal(tenthOfASecond, await ReadAsync(source, tenthOfASecond));
        Assert.Equal(0, source.Loop.Reopens);
    }

    [Fact(Timeout = 60000)]
    public async Task OpenNamed_DescriptionInAnotherCase_CapturesThatInput()
    {
        WindowsOnly();
        var input = AudioDevices.List().First(d => !d.IsMonitor);
        var name = input.Description.ToUpperInvariant(); // its whole description (unique), in another case

        await using var source = await Factory().OpenAsync(new AudioOptions { Input = $"device:{name}" }, TestContext.Current.CancellationToken);

        Assert.Equal($"WASAPI input '{input.Description}'", source.Description);
        Assert.Equal(source.Format.SampleRate / 10, await ReadAsync(source, source.Format.SampleRate / 10));
    }

    [Fact(Timeout = 60000)]
    public async Task OpenNamed_UnknownName_ListsTheInputs()
    {
        WindowsOnly();
        var devices = AudioDevices.List();

        var ex = await Assert.ThrowsAsync<IOException>(() => Factory().OpenAsync(new AudioOptions { Input = "device:no such microphone" }, TestContext.Current.CancellationToken));

        Assert.Contains("No audio input matches 'no such microphone'", ex.Message, StringComparison.Ordinal);
        Assert.All(devices, d => Assert.Contains(d.Id, ex.Message, StringComparison.Ordinal));
    }

    [Fact(Timeout = 60000)]
    public async Task OpenLoopback_CapturesWhatAnOutputPlaysOrSaysTheAudioSystemHasNoLoopback()
    {
        WindowsOnly();
        var output = AudioDevices.List().First(d => d.IsMonitor);

        try
        {
            await using var source = await Factory().OpenAsync(new AudioOptions { Input = $"device:{output.Id}" }, TestContext.Current.CancellationToken);

            // Real Windows: a loopback delivers (silence is filled in while nothing plays).
            Assert.Equal(source.Format.SampleRate / 10, await ReadAsync(source, source.Format.SampleRate / 10));
        }
        catch (IOException ex)
        {
            // Wine 8: IAudioClient::Initialize refuses AUDCLNT_STREAMFLAGS_LOOPBACK.
            Assert.Contains("this audio system does not capture what an output plays (AUDCLNT_E_WRONG_ENDPOINT_TYPE; Wine has no loopback capture)", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 60000)]
    public async Task OpenProcess_NoSuchProgram_SaysSoAndListsWhatRuns()
    {
        WindowsOnly();

        var ex = await Assert.ThrowsAsync<IOException>(() => Factory().OpenAsync(new AudioOptions { Input = "process:no-such-program.exe" }, TestContext.Current.CancellationToken));

        Assert.Contains("No running program is called 'no-such-program' (--input process:no-such-program.exe); start it first.", ex.Message, StringComparison.Ordinal);
        Assert.Contains(Environment.ProcessPath is { } path ? Path.GetFileNameWithoutExtension(path) : "Sidecar.Tests", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact(Timeout = 60000)]
    public async Task OpenProcess_ThisProcess_CapturesItOrSaysWhatPerProcessLoopbackNeeds()
    {
        if (!OperatingSystem.IsWindows())
        {
            Assert.Skip("WASAPI exists on Windows (and under Wine) only.");
            return;
        }

        try
        {
            await using var source = await Factory().OpenAsync(new AudioOptions { Input = $"process:{Environment.ProcessId}" }, TestContext.Current.CancellationToken);

            // Windows 10 2004+: this process plays nothing, so silence is filled in at the fixed rate.
            Assert.Equal(new AudioFormat(WasapiDevice.ProcessLoopbackRate, 1), source.Format);
            Assert.Equal(source.Format.SampleRate / 10, await ReadAsync(source, source.Format.SampleRate / 10));
        }
        catch (IOException ex)
        {
            // Wine 8 (and older Windows): no per-process loopback.
            Assert.Contains("Windows 10 version 2004", ex.Message, StringComparison.Ordinal);
        }
    }
}
