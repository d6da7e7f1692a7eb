namespace CaptionSidecar.Audio;

/// <summary>What the device flagged about a capture packet (the values of WASAPI's AUDCLNT_BUFFERFLAGS_*).</summary>
[Flags]
internal enum CapturePacketFlags
{
    /// <summary>Nothing special.</summary>
    None = 0,

    /// <summary>The packet follows a gap: the device lost audio before it (counted, not an error).</summary>
    DataDiscontinuity = 0x1,

    /// <summary>The packet is silence whatever its bytes say: it is delivered as zeros.</summary>
    Silent = 0x2,

    /// <summary>The device's timestamp for the packet is unreliable (ignored: the pipeline counts samples).</summary>
    TimestampError = 0x4,
}

/// <summary>One packet of interleaved frames, valid until <see cref="ICaptureStream.ReleasePacket"/>.</summary>
/// <param name="data">The frames' bytes in the stream's <see cref="ICaptureStream.Format"/>.</param>
/// <param name="frames">Frames in the packet.</param>
/// <param name="flags">What the device flagged.</param>
internal readonly ref struct CapturePacket(ReadOnlySpan<byte> data, int frames, CapturePacketFlags flags)
{
    public ReadOnlySpan<byte> Data { get; } = data;

    public int Frames { get; } = frames;

    public CapturePacketFlags Flags { get; } = flags;
}

/// <summary>
/// A capture endpoint that delivers packets (WASAPI on Windows); the seam that lets <see cref="CaptureLoop"/> be
/// driven by a fake in tests. Every member is called on the capture thread.
/// </summary>
internal interface ICaptureDevice
{
    /// <summary>What the device is, for logs.</summary>
    string Description { get; }

    /// <summary>True for a loopback of what the computer plays: it delivers no packets while nothing plays.</summary>
    bool IsLoopback { get; }

    /// <summary>Prepares the capture thread (COM on Windows); disposing undoes it on the same thread.</summary>
    IDisposable EnterCaptureThread();

    /// <summary>
    /// Opens and starts a stream. With <paramref name="requiredSampleRate"/> the stream must run at that rate (a
    /// reopened device keeps the rate of the first stream).
    /// </summary>
    /// <exception cref="IOException">The device is missing or refuses; the message says what to do.</exception>
    /// <exception cref="AudioFormatException">The device delivers samples that cannot be converted.</exception>
    ICaptureStream Open(int? requiredSampleRate);
}

/// <summary>A started capture stream. Any <see cref="IOException"/> means the device is lost and is reopened.</summary>
internal interface ICaptureStream : IDisposable
{
    /// <summary>The layout of the packets.</summary>
    CaptureFormat Format { get; }

    /// <summary>Waits until the device signals data or <paramref name="timeout"/> passes; true when signalled.</summary>
    bool WaitForData(TimeSpan timeout);

    /// <summary>Frames in the next packet; 0 when none is ready.</summary>
    int NextPacketFrames();

    /// <summary>The next packet (0 frames when none is ready); must be released before the next one is taken.</summary>
    CapturePacket GetPacket();

    /// <summary>Hands the packet's frames back to the device.</summary>
    void ReleasePacket(int frames);
}
