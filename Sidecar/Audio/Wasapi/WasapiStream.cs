using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace CaptionSidecar.Audio.Wasapi;

/// <summary>
/// A started shared-mode WASAPI capture stream (or loopback of a render endpoint), event-driven: the audio engine
/// sets an auto-reset event each period (10 ms) and <see cref="CaptureLoop"/> drains the packets.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed unsafe class WasapiStream : ICaptureStream
{
    // The engine buffer: 200 ms in 100-ns units, far more than one period, so a late wake-up loses nothing.
    private const long BufferDuration = 2_000_000;

    private IAudioClient? _client;
    private IAudioCaptureClient? _capture;
    private nint _event;

    private WasapiStream()
    {
    }

    /// <inheritdoc/>
    public CaptureFormat Format { get; private set; } = null!;

    /// <summary>
    /// Opens a stream on <paramref name="device"/> in its mix format. With <paramref name="requiredSampleRate"/>
    /// differing from the mix rate, the same layout at that rate is requested and the engine converts.
    /// </summary>
    /// <exception cref="IOException">The endpoint refuses; the message names the call and what the code means.</exception>
    /// <exception cref="AudioFormatException">The mix format cannot be converted.</exception>
    public static WasapiStream Open(IMMDevice device, bool loopback, int? requiredSampleRate)
    {
        var stream = new WasapiStream();
        try
        {
            stream.Start(device, loopback, requiredSampleRate);
            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private void Start(IMMDevice device, bool loopback, int? requiredSampleRate)
    {
        _client = WasapiCom.ActivateAudioClient(device);
        var waveFormat = WasapiCom.GetMixFormat(_client);
        var format = CaptureFormat.Parse(waveFormat);
        var flags = WasapiNative.StreamFlagsEventCallback | WasapiNative.StreamFlagsNoPersist;
        if (loopback)
        {
            flags |= WasapiNative.StreamFlagsLoopback;
        }

        if (requiredSampleRate is { } rate && rate != format.SampleRate)
        {
            CaptureFormat.ChangeRate(waveFormat, rate);
            format = CaptureFormat.Parse(waveFormat);
            flags |= WasapiNative.StreamFlagsAutoConvertPcm | WasapiNative.StreamFlagsSrcDefaultQuality;
        }

        fixed (byte* pointer = waveFormat)
        {
            WasapiCom.Check(_client.Initialize(WasapiNative.SharedMode, flags, BufferDuration, 0, (nint)pointer, 0), "IAudioClient::Initialize");
        }

        _event = WasapiNative.CreateEventW(0, manualReset: false, initialState: false, 0);
        if (_event == 0)
        {
            throw new IOException($"WASAPI: CreateEventW failed (Win32 error {Marshal.GetLastPInvokeError()}).");
        }

        WasapiCom.Check(_client.SetEventHandle(_event), "IAudioClient::SetEventHandle");
        WasapiCom.Check(_client.GetService(WasapiNative.AudioCaptureClientId, out var capture), "IAudioClient::GetService(IAudioCaptureClient)");
        _capture = WasapiCom.Wrap<IAudioCaptureClient>(capture);
        Format = format;
        WasapiCom.Check(_client.Start(), "IAudioClient::Start");
    }

    /// <inheritdoc/>
    public bool WaitForData(TimeSpan timeout)
    {
        var result = WasapiNative.WaitForSingleObject(_event, (uint)timeout.TotalMilliseconds);
        return result switch
        {
            WasapiNative.WaitObject0 => true,
            WasapiNative.WaitTimeout => false,
            _ => throw new IOException($"WASAPI: waiting for the capture event failed ({(result == 0xFFFFFFFF ? "WAIT_FAILED" : $"result 0x{result:X}")}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())})."),
        };
    }

    /// <inheritdoc/>
    public int NextPacketFrames()
    {
        WasapiCom.Check(_capture!.GetNextPacketSize(out var frames), "IAudioCaptureClient::GetNextPacketSize");
        return (int)frames;
    }

    /// <inheritdoc/>
    public CapturePacket GetPacket()
    {
        var hr = _capture!.GetBuffer(out var data, out var frames, out var flags, out _, out _);
        if (hr == WindowsAudioEndpoints.BufferEmpty)
        {
            return new CapturePacket(default, 0, CapturePacketFlags.None);
        }

        WasapiCom.Check(hr, "IAudioCaptureClient::GetBuffer");
        var length = checked((int)frames * Format.BytesPerFrame);
        return new CapturePacket(new ReadOnlySpan<byte>((void*)data, length), (int)frames, (CapturePacketFlags)flags);
    }

    /// <inheritdoc/>
    public void ReleasePacket(int frames) =>
        WasapiCom.Check(_capture!.ReleaseBuffer((uint)frames), "IAudioCaptureClient::ReleaseBuffer");

    /// <inheritdoc/>
    public void Dispose()
    {
        // Stop fails harmlessly on an invalidated device; the references are released either way.
        _client?.Stop();
        WasapiCom.Release(_capture);
        WasapiCom.Release(_client);
        _capture = null;
        _client = null;
        if (_event != 0)
        {
            WasapiNative.CloseHandle(_event);
            _event = 0;
        }
    }
}
