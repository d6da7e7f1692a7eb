using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

/// <summary>Choosing a Windows endpoint by name, as <c>devices</c> lists them (ids as IMMDevice::GetId returns them).</summary>
public sealed class WindowsAudioEndpointsTests
{
    private const string YetiId = "{0.0.1.00000000}.{5b3f2a8e-1c4d-4e6f-9a0b-2c3d4e5f6a7b}";
    private const string HeadsetMicId = "{0.0.1.00000000}.{9c1d7e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f}";
    private const string SpeakersId = "{0.0.0.00000000}.{a7e2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8}";
    private const string HeadphonesId = "{0.0.0.00000000}.{c41b2d3e-4f50-4617-a829-3a4b5c6d7e8f}";

    private static readonly AudioDevice[] Devices =
    [
        new(YetiId, "Microphone (Yeti Stereo Microphone)", true, 48_000, 2, false),
        new(HeadsetMicId, "Headset Microphone (Arctis 7 Chat)", false, 16_000, 1, false),
        new(WindowsAudioEndpoints.LoopbackId(SpeakersId), "Speakers (Realtek(R) Audio) (loopback)", false, 48_000, 2, true),
        new(WindowsAudioEndpoints.LoopbackId(HeadphonesId), "Headphones (Arctis 7 Game) (loopback)", false, 48_000, 8, true),
    ];

    [Theory]
    [InlineData("yeti", YetiId, false)]
    [InlineData("speakers", SpeakersId, true)]
    [InlineData("Realtek", SpeakersId, true)]
    [InlineData("arctis 7 game", HeadphonesId, true)]
    [InlineData("headset", HeadsetMicId, false)]
    public void Resolve_UniquePartOfTheFriendlyName_GivesTheEndpointAndWhetherItIsLoopback(string name, string endpointId, bool loopback)
    {
        var device = AudioDevices.Resolve(name, Devices);

        Assert.Equal((endpointId, loopback), WindowsAudioEndpoints.Split(device.Id));
        Assert.Equal(loopback, device.IsMonitor);
    }

    [Fact]
    public void Resolve_WholeDescriptionContainedInItsLoopbacks_IsTheInput()
    {
        // What Wine lists: one input and one output, both called after the sound server.
        AudioDevice[] wine =
        [
            new(YetiId, "PulseAudio", true, 44_100, 2, false),
            new(WindowsAudioEndpoints.LoopbackId(SpeakersId), "PulseAudio (loopback)", false, 44_100, 2, true),
        ];

        Assert.Equal(YetiId, AudioDevices.Resolve("pulseaudio", wine).Id);
        Assert.Equal(WindowsAudioEndpoints.LoopbackId(SpeakersId), AudioDevices.Resolve("PulseAudio (loopback)", wine).Id);
        Assert.Equal(WindowsAudioEndpoints.LoopbackId(SpeakersId), AudioDevices.Resolve("loopback)", wine).Id);
    }

    [Fact]
    public void Resolve_ExactEndpointId_IsTheCaptureEndpointNotItsLoopbackTwin()
    {
        var device = AudioDevices.Resolve(YetiId, Devices);

        Assert.Equal(YetiId, device.Id);
        Assert.False(WindowsAudioEndpoints.Split(device.Id).Loopback);
    }

    [Fact]
    public void Resolve_ExactLoopbackId_IsThatLoopback()
    {
        var device = AudioDevices.Resolve("loopback:" + HeadphonesId, Devices);

        Assert.Equal((HeadphonesId, true), WindowsAudioEndpoints.Split(device.Id));
    }

    [Fact]
    public void Resolve_NameOfTwoEndpoints_ErrorListsBoth()
    {
        var ex = Assert.Throws<ArgumentException>(() => AudioDevices.Resolve("Arctis", Devices));

        Assert.Contains("'Arctis' matches 2 audio inputs", ex.Message, StringComparison.Ordinal);
        Assert.Contains(HeadsetMicId, ex.Message, StringComparison.Ordinal);
        Assert.Contains(HeadphonesId, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(YetiId, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_WordLoopback_MatchesEveryLoopbackSoItAsksForMore()
    {
        var ex = Assert.Throws<ArgumentException>(() => AudioDevices.Resolve("loopback", Devices));

        Assert.Contains("matches 2 audio inputs", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_UnknownName_ErrorListsEveryEndpoint()
    {
        var ex = Assert.Throws<ArgumentException>(() => AudioDevices.Resolve("Focusrite", Devices));

        Assert.All(Devices, d => Assert.Contains(d.Id, ex.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Format_WindowsLabel_MarksDefaultAndLoopbackColumnsAligned()
    {
        var lines = AudioDevices.Format(Devices, "loopback").Split('\n');

        Assert.StartsWith("* " + YetiId, lines[0], StringComparison.Ordinal);
        Assert.Contains(" 48000 Hz  2 ch  input     Microphone (Yeti", lines[0], StringComparison.Ordinal);
        Assert.Contains(" 48000 Hz  8 ch  loopback  Headphones (Arctis 7 Game) (loopback)", lines[3], StringComparison.Ordinal);
        Assert.Equal(lines[0].IndexOf("Microphone", StringComparison.Ordinal), lines[3].IndexOf("Headphones", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(unchecked((int)0x88890004), "unplugged, disabled or reconfigured")]
    [InlineData(unchecked((int)0x88890010), "Windows Audio service is not running")]
    [InlineData(unchecked((int)0x8889000A), "exclusive mode")]
    [InlineData(unchecked((int)0x80070490), "CaptionSidecar devices")]
    [InlineData(unchecked((int)0x80070005), "Privacy & security > Microphone")]
    [InlineData(unchecked((int)0x80004005), "the call failed without saying why (E_FAIL) (0x80004005)")]
    [InlineData(unchecked((int)0x88890003), "loopback needs an output device")]
    [InlineData(unchecked((int)0x800401F0), "COM was not initialised")]
    [InlineData(unchecked((int)0x88890026), "driver update")]
    [InlineData(unchecked((int)0x8889FFFF), "an unknown error (HRESULT 0x8889FFFF)")]
    public void Describe_KnownAndUnknownCodes_SayWhatHappened(int hresult, string expected)
    {
        Assert.Contains(expected, WindowsAudioEndpoints.Describe(hresult), StringComparison.Ordinal);
    }

    /// <summary>What NAudio throws for each failure: its CoreAudioException is a COMException carrying the HRESULT.</summary>
    public static TheoryData<string, bool, string> Failures => new()
    {
        { "88890004", false, "WASAPI: opening 'Mic' failed: the device was unplugged, disabled or reconfigured (AUDCLNT_E_DEVICE_INVALIDATED)." },
        { "8889000A", false, "another application uses the device in exclusive mode (AUDCLNT_E_DEVICE_IN_USE)" },
        { "80070005", false, "Windows denied access to the microphone (E_ACCESSDENIED); allow desktop apps to access your microphone" },
        { "88890003", true, "this audio system does not capture what an output plays (AUDCLNT_E_WRONG_ENDPOINT_TYPE; Wine has no loopback capture)" },
        { "88890003", false, "loopback needs an output device, capture an input device (AUDCLNT_E_WRONG_ENDPOINT_TYPE)" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Failure_ComExceptionFromNAudio_BecomesTheSeamsIOExceptionInWords(string hresult, bool loopback, string expected)
    {
        var thrown = new System.Runtime.InteropServices.COMException("Core Audio error", Convert.ToInt32(hresult, 16));

        Assert.True(WindowsAudioEndpoints.IsAudioFailure(thrown));
        var io = WindowsAudioEndpoints.Failure("opening 'Mic'", thrown, loopback);

        Assert.IsType<IOException>(io);
        Assert.StartsWith("WASAPI: opening 'Mic' failed: ", io.Message, StringComparison.Ordinal);
        Assert.Contains(expected, io.Message, StringComparison.Ordinal);
        Assert.Same(thrown, io.InnerException);
    }

    [Fact]
    public void Failure_AccessDeniedAsMarshalThrowsIt_NamesThePrivacySetting()
    {
        // Marshal.ThrowExceptionForHR (used by NAudio for activation) turns E_ACCESSDENIED into this exception.
        var thrown = new UnauthorizedAccessException("Access is denied.");

        Assert.True(WindowsAudioEndpoints.IsAudioFailure(thrown));
        Assert.Contains("Privacy & security > Microphone", WindowsAudioEndpoints.Failure("opening the default input", thrown).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsAudioFailure_ProgrammingErrors_AreNotTurnedIntoDeviceLoss()
    {
        Assert.False(WindowsAudioEndpoints.IsAudioFailure(new NullReferenceException()));
        Assert.False(WindowsAudioEndpoints.IsAudioFailure(new InvalidOperationException()));
        Assert.False(WindowsAudioEndpoints.IsAudioFailure(new ObjectDisposedException("stream")));
    }

    [Fact]
    public void ProcessLoopbackFailure_WinesAnswer_SaysThereIsNoPerProcessLoopback()
    {
        // Wine 8 told it is Windows 10 2004: ActivateAudioInterfaceAsync("VAD\\Process_Loopback") fails with
        // 0x80070002, which Marshal.ThrowExceptionForHR makes a FileNotFoundException.
        var io = WindowsAudioEndpoints.ProcessLoopbackFailure("plugplay", 36, System.Runtime.InteropServices.Marshal.GetExceptionForHR(unchecked((int)0x80070002))!);

        Assert.Equal(
            "--input process:plugplay: Windows refused to capture the sound of process 36: the system knows no such audio interface (ERROR_FILE_NOT_FOUND) (0x80070002). " +
            "Capturing one program's sound needs Windows 10 version 2004 or later (Wine has no per-process loopback); capture the output it plays on instead (a loopback in 'CaptionSidecar devices').",
            io.Message);
    }

    [Fact]
    public void ProcessLoopbackFailure_SaysWhatItNeedsAndWhatToDoInstead()
    {
        var io = WindowsAudioEndpoints.ProcessLoopbackFailure("Discord", 4242, new System.Runtime.InteropServices.COMException("x", unchecked((int)0x80070057)));

        Assert.Contains("--input process:Discord", io.Message, StringComparison.Ordinal);
        Assert.Contains("process 4242", io.Message, StringComparison.Ordinal);
        Assert.Contains("E_INVALIDARG", io.Message, StringComparison.Ordinal);
        Assert.Contains("Windows 10 version 2004 or later (Wine has no per-process loopback)", io.Message, StringComparison.Ordinal);
    }
}
