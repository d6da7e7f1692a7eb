using System.Runtime.Versioning;
using NAudio.CoreAudioApi;
using NAudio.Wave;

namespace CaptionSidecar.Audio.Wasapi;

/// <summary>
/// A started shared-mode WASAPI capture stream through NAudio's <see cref="AudioClient"/> (an input, the loopback of
/// an output, or one program's sound), event-driven: the audio engine sets an auto-reset event each period (10 ms)
/// and <see cref="CaptureLoop"/> drains the packets. Every NAudio failure surfaces as the <see cref="IOException"/>
/// the seam promises, its HRESULT in words (<see cref="WindowsAudioEndpoints.Failure"/>).
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed unsafe class WasapiStream : ICaptureStream
{
    // The engine buffer: 200 ms in 100-ns units, far more than one period, so a late wake-up loses nothing.
    private const long BufferDuration = 2_000_000;

    private readonly AutoResetEvent _ready = new(initialState: false);
    private readonly bool _loopback;
    private readonly Func<string?>? _changedTo;
    private AudioClient? _client;
    private AudioCaptureClient? _capture;

    private WasapiStream(AudioClient client, bool loopback, Func<string?>? changedTo)
    {
        _client = client;
        _loopback = loopback;
        _changedTo = changedTo;
    }

    /// <inheritdoc/>
    public CaptureFormat Format { get; private set; } = null!;

    /// <summary>
    /// Starts a stream on <paramref name="client"/> (which the stream then owns, also on failure). The format is
    /// <paramref name="format"/> when given (process loopback has no mix format), else the endpoint's mix format;
    /// with <paramref name="requiredSampleRate"/> differing from it, the same layout at that rate is requested and
    /// the engine converts.
    /// </summary>
    /// <param name="client">An activated, not yet initialised audio client.</param>
    /// <param name="loopback">True to capture what the endpoint (or process) plays.</param>
    /// <param name="format">A fixed format to request with conversion, or null for the mix format.</param>
    /// <param name="requiredSampleRate">The rate the stream must run at, or null.</param>
    /// <param name="changedTo">Asked before each wait: the new default input's name when this stream is stale.</param>
    /// <exception cref="IOException">The endpoint refuses; the message names the call and what the code means.</exception>
    /// <exception cref="AudioFormatException">The mix format cannot be converted.</exception>
    public static WasapiStream Start(AudioClient client, bool loopback, WaveFormat? format, int? requiredSampleRate, Func<string?>? changedTo)
    {
        var stream = new WasapiStream(client, loopback, changedTo);
        try
        {
            stream.Start(format, requiredSampleRate);
            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private void Start(WaveFormat? fixedFormat, int? requiredSampleRate)
    {
        var flags = AudioClientStreamFlags.EventCallback | AudioClientStreamFlags.NoPersist;
        if (_loopback)
        {
            flags |= AudioClientStreamFlags.Loopback;
        }

        var waveFormat = fixedFormat ?? Call(() => _client!.MixFormat, "IAudioClient::GetMixFormat");
        if (fixedFormat is not null || (requiredSampleRate is { } rate && rate != waveFormat.SampleRate))
        {
            if (requiredSampleRate is { } required && required != waveFormat.SampleRate)
            {
                waveFormat = CaptureFormat.WithRate(waveFormat, required);
            }

            flags |= AudioClientStreamFlags.AutoConvertPcm | AudioClientStreamFlags.SrcDefaultQuality;
        }

        Format = CaptureFormat.From(waveFormat);
        Call(() => _client!.Initialize(AudioClientShareMode.Shared, flags, BufferDuration, 0, waveFormat, Guid.Empty), "IAudioClient::Initialize");
        Call(() => _client!.SetEventHandle(_ready.SafeWaitHandle.DangerousGetHandle()), "IAudioClient::SetEventHandle");
        _capture = Call(() => _client!.AudioCaptureClient, "IAudioClient::GetService(IAudioCaptureClient)");
        Call(() => _client!.Start(), "IAudioClient::Start");
    }

    /// <inheritdoc/>
    /// <exception cref="CaptureDeviceChangedException">Windows' default input changed while this stream followed it.</exception>
    public bool WaitForData(TimeSpan timeout)
    {
        if (_changedTo?.Invoke() is { } device)
        {
            throw new CaptureDeviceChangedException(device);
        }

        return _ready.WaitOne(timeout);
    }

    /// <inheritdoc/>
    public int NextPacketFrames() => Call(() => _capture!.GetNextPacketSize(), "IAudioCaptureClient::GetNextPacketSize");

    /// <inheritdoc/>
    public CapturePacket GetPacket()
    {
        nint data;
        int frames;
        AudioClientBufferFlags flags;
        try
        {
            data = _capture!.GetBuffer(out frames, out flags); // AUDCLNT_S_BUFFER_EMPTY succeeds with 0 frames
        }
        catch (Exception ex) when (WindowsAudioEndpoints.IsAudioFailure(ex))
        {
            throw WindowsAudioEndpoints.Failure("IAudioCaptureClient::GetBuffer", ex, _loopback);
        }

        if (frames == 0)
        {
            return new CapturePacket(default, 0, CapturePacketFlags.None);
        }

        var length = checked(frames * Format.BytesPerFrame);
        return new CapturePacket(new ReadOnlySpan<byte>((void*)data, length), frames, (CapturePacketFlags)flags);
    }

    /// <inheritdoc/>
    public void ReleasePacket(int frames) => Call(() => _capture!.ReleaseBuffer(frames), "IAudioCaptureClient::ReleaseBuffer");

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            _client?.Stop(); // fails harmlessly on an invalidated device; everything is released either way
        }
        catch (Exception ex) when (WindowsAudioEndpoints.IsAudioFailure(ex))
        {
        }

        _capture?.Dispose();
        _client?.Dispose();
        _capture = null;
        _client = null;
        _ready.Dispose();
    }

    private T Call<T>(Func<T> call, string what)
    {
        try
        {
            return call();
        }
        catch (Exception ex) when (WindowsAudioEndpoints.IsAudioFailure(ex))
        {
            throw WindowsAudioEndpoints.Failure(what, ex, _loopback);
        }
    }

    private void Call(Action call, string what) => Call(
        () =>
        {
            call();
            return 0;
        },
        what);
}
