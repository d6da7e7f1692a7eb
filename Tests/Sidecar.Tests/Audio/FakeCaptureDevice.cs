using CaptionSidecar.Audio;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Audio;

/// <summary>
/// One wake-up of a fake capture stream: the packets then ready, a timeout, or a failure; <paramref name="Elapsed"/> is
/// how far a signalled wake-up moves the fake clock (a timeout moves it by the whole wait).
/// </summary>
internal sealed record FakeWake(IReadOnlyList<FakePacket> Packets, bool Signalled = true, IOException? Failure = null, TimeSpan Elapsed = default)
{
    public static FakeWake Timeout { get; } = new([], Signalled: false);

    /// <summary>Signalled after one 10 ms period, yet no packet is ready (Wine's stream once its source is gone).</summary>
    public static FakeWake Empty { get; } = new([], Elapsed: TimeSpan.FromMilliseconds(10));

    public static FakeWake Fail(string reason) => new([], Failure: new IOException(reason));

    public static FakeWake With(params FakePacket[] packets) => new(packets);
}

/// <summary>A packet a fake stream hands out.</summary>
internal sealed record FakePacket(byte[] Data, int Frames, CapturePacketFlags Flags = CapturePacketFlags.None);

/// <summary>
/// A scripted <see cref="ICaptureStream"/>: each <see cref="WaitForData"/> takes the next wake-up (a timeout advances
/// the fake clock by the wait's length); when the script runs out it calls <c>onExhausted</c> and reports a timeout.
/// </summary>
internal sealed class FakeCaptureStream(CaptureFormat format, IEnumerable<FakeWake> script, FakeTimeProvider? time = null, Action? onExhausted = null) : ICaptureStream
{
    private readonly Queue<FakeWake> _script = new(script);
    private readonly Queue<FakePacket> _ready = new();
    private bool _packetOut;

    public CaptureFormat Format => format;

    public bool Disposed { get; private set; }

    public List<int> Released { get; } = [];

    public bool WaitForData(TimeSpan timeout)
    {
        Assert.False(Disposed, "the loop used a disposed stream");
        if (!_script.TryDequeue(out var wake))
        {
            onExhausted?.Invoke();
            return false;
        }

        if (wake.Failure is not null)
        {
            throw wake.Failure;
        }

        time?.Advance(wake.Signalled ? wake.Elapsed : timeout);

        foreach (var packet in wake.Packets)
        {
            _ready.Enqueue(packet);
        }

        return wake.Signalled;
    }

    public int NextPacketFrames() => _ready.TryPeek(out var packet) ? packet.Frames : 0;

    public CapturePacket GetPacket()
    {
        Assert.False(_packetOut, "a packet was taken before the previous one was released");
        if (!_ready.TryPeek(out var packet))
        {
            return new CapturePacket(default, 0, CapturePacketFlags.None);
        }

        _packetOut = true;
        return new CapturePacket(packet.Data, packet.Frames, packet.Flags);
    }

    public void ReleasePacket(int frames)
    {
        Assert.True(_packetOut, "a packet was released that was never taken");
        var packet = _ready.Dequeue();
        Assert.Equal(packet.Frames, frames);
        Released.Add(frames);
        _packetOut = false;
    }

    public void Dispose() => Disposed = true;
}

/// <summary>A scripted <see cref="ICaptureDevice"/>: each <see cref="Open"/> takes the next stream or failure.</summary>
internal sealed class FakeCaptureDevice(bool isLoopback, params Func<ICaptureStream>[] opens) : ICaptureDevice
{
    private readonly Queue<Func<ICaptureStream>> _opens = new(opens);

    public string Description => "fake device";

    public bool IsLoopback => isLoopback;

    public List<int?> OpenedWithRate { get; } = [];

    public int ThreadsEntered { get; private set; }

    public int ThreadsLeft { get; private set; }

    public IOException? EnterFailure { get; init; }

    public IDisposable EnterCaptureThread()
    {
        if (EnterFailure is not null)
        {
            throw EnterFailure;
        }

        ThreadsEntered++;
        return new Leave(this);
    }

    public ICaptureStream Open(int? requiredSampleRate)
    {
        OpenedWithRate.Add(requiredSampleRate);
        return _opens.TryDequeue(out var open) ? open() : throw new IOException("no more streams scripted");
    }

    private sealed class Leave(FakeCaptureDevice device) : IDisposable
    {
        public void Dispose() => device.ThreadsLeft++;
    }
}
