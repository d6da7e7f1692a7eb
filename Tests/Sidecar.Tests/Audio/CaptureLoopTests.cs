using System.Buffers.Binary;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Retries;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Audio;

public sealed class CaptureLoopTests : IDisposable
{
    private static readonly CaptureFormat Stereo16 = new(CaptureSampleEncoding.Pcm16, 48_000, 2, 16);

    private readonly Channel<float[]> _output = Channel.CreateUnbounded<float[]>();
    private readonly CancellationTokenSource _stop = new();
    private readonly ListLogger<CaptureLoop> _log = new();
    private readonly BackoffClock _time;
    private bool _stopDuringPause;

    public CaptureLoopTests()
    {
        // A backoff wait either passes at once (the clock jumps by it) or, when the test says so, stop is asked meanwhile.
        _time = new BackoffClock(wait =>
        {
            if (_stopDuringPause)
            {
                _stop.Cancel();
            }
            else
            {
                _time!.Advance(wait);
            }
        });
    }

    private List<TimeSpan> Pauses => _time.Waits;

    public void Dispose() => _stop.Dispose();

    private CaptureLoop Loop(ICaptureDevice device) => new(device, _output.Writer, _stop.Token, _time, _log);

    private FakeCaptureStream Stream(params FakeWake[] script) => new(Stereo16, script, _time, _stop.Cancel);

    private List<float[]> Output()
    {
        var fragments = new List<float[]>();
        while (_output.Reader.TryRead(out var fragment))
        {
            fragments.Add(fragment);
        }

        return fragments;
    }

    /// <summary>Interleaved stereo PCM16 frames from (left, right) pairs.</summary>
    private static FakePacket Packet(CapturePacketFlags flags, params (short Left, short Right)[] frames)
    {
        var data = new byte[frames.Length * 4];
        for (var i = 0; i < frames.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(4 * i), frames[i].Left);
            BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan((4 * i) + 2), frames[i].Right);
        }

        return new FakePacket(data, frames.Length, flags);
    }

    [Fact]
    public void Run_PacketsOfOneWake_AreDeliveredAsMonoInOrderAndReleased()
    {
        var stream = Stream(FakeWake.With(Packet(CapturePacketFlags.None, (16_384, 0), (-16_384, -16_384)), Packet(CapturePacketFlags.None, (8_192, 8_192))));
        var device = new FakeCaptureDevice(isLoopback: false);

        Loop(device).Run(stream);

        var output = Output();
        Assert.Equal(2, output.Count);
        Assert.Equal([0.25f, -0.5f], output[0]);
        Assert.Equal([0.25f], output[1]);
        Assert.Equal([2, 1], stream.Released);
        Assert.True(stream.Disposed);
    }

    [Fact]
    public void Run_SilentPacket_DeliversZerosWhateverItsBytesAndCountsIt()
    {
        var stream = Stream(FakeWake.With(Packet(CapturePacketFlags.Silent, (30_000, 30_000), (-30_000, 12)), Packet(CapturePacketFlags.None, (100, 100))));
        var device = new FakeCaptureDevice(isLoopback: false);
        var loop = Loop(device);

        loop.Run(stream);

        var output = Output();
        Assert.Equal([0f, 0f], output[0]);
        Assert.Equal([100 / 32_768f], output[1]);
        Assert.Equal(1, loop.SilentPackets);
        Assert.Equal([2, 1], stream.Released);
    }

    [Fact]
    public void Run_DiscontinuityFlag_IsCountedAndTheAudioStillDelivered()
    {
        var stream = Stream(
            FakeWake.With(Packet(CapturePacketFlags.DataDiscontinuity, (3_276, 3_276))),
            FakeWake.With(Packet(CapturePacketFlags.None, (3_276, 3_276))),
            FakeWake.With(Packet(CapturePacketFlags.DataDiscontinuity | CapturePacketFlags.TimestampError, (-3_276, -3_276))));
        var loop = Loop(new FakeCaptureDevice(isLoopback: false));

        loop.Run(stream);

        Assert.Equal(2, loop.Discontinuities);
        Assert.Equal([3_276 / 32_768f, 3_276 / 32_768f, -3_276 / 32_768f], Output().SelectMany(f => f));
        Assert.Equal(0, loop.SilentPackets);
    }

    [Fact]
    public void Run_DeviceInvalidated_ReopensAtTheSameRateWithGrowingBackoffAndResumes()
    {
        var first = Stream(FakeWake.With(Packet(CapturePacketFlags.None, (1_000, 1_000))), FakeWake.Fail("the device was unplugged (AUDCLNT_E_DEVICE_INVALIDATED)"));
        var second = Stream(FakeWake.With(Packet(CapturePacketFlags.None, (2_000, 2_000))));
        var device = new FakeCaptureDevice(
            isLoopback: false,
            () => throw new IOException("not found"),
            () => throw new IOException("not found"),
            () => second);
        var loop = Loop(device);

        loop.Run(first);

        Assert.True(first.Disposed);
        Assert.True(second.Disposed);
        Assert.Equal([48_000, 48_000, 48_000], device.OpenedWithRate);
        Assert.Equal(2, Pauses.Count); // the product's backoff (BackoffSettings.Device): jittered waits up to 5 s
        Assert.All(Pauses, p => Assert.InRange(p, TimeSpan.FromTicks(1), BackoffSettings.Device.MaxDelay));
        Assert.Equal(1, loop.Reopens);
        Assert.Equal([1_000 / 32_768f, 2_000 / 32_768f], Output().SelectMany(f => f));
    }

    [Fact]
    public void Run_DefaultInputChanged_ReopensAtOnceAndSaysWhichDeviceItCapturesNow()
    {
        var first = Stream(
            FakeWake.With(Packet(CapturePacketFlags.None, (1_000, 1_000))),
            new FakeWake([], Failure: new CaptureDeviceChangedException("'Headset Microphone (Arctis 7 Chat)'")));
        var second = Stream(FakeWake.With(Packet(CapturePacketFlags.None, (2_000, 2_000))));
        var device = new FakeCaptureDevice(isLoopback: false, () => second);
        var loop = Loop(device);

        loop.Run(first);

        Assert.True(first.Disposed);
        Assert.True(second.Disposed);
        Assert.Empty(Pauses); // no backoff before the first reopen
        Assert.Equal([48_000], device.OpenedWithRate);
        Assert.Equal(1, loop.Reopens);
        Assert.Equal([1_000 / 32_768f, 2_000 / 32_768f], Output().SelectMany(f => f));
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Information && e.Message == "Windows' default input changed to 'Headset Microphone (Arctis 7 Chat)'; capturing it");
        Assert.DoesNotContain(_log.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public void Run_NewDefaultRefusesAtFirst_FallsBackToTheBackoffLikeALostDevice()
    {
        var first = Stream(new FakeWake([], Failure: new CaptureDeviceChangedException("'USB Mic'")));
        var last = Stream();
        var device = new FakeCaptureDevice(false, () => throw new IOException("the device was unplugged"), () => last);

        var loop = Loop(device);
        loop.Run(first);

        Assert.Single(Pauses);
        Assert.Equal(1, loop.Reopens);
        Assert.True(last.Disposed);
    }

    [Fact]
    public void Run_ManyFailedReopens_BackoffIsCappedAtFiveSecondsAndLaterFailuresGoToDebug()
    {
        var failures = Enumerable.Repeat<Func<ICaptureStream>>(() => throw new IOException("the Windows Audio service is not running"), 8);
        var last = Stream();
        var device = new FakeCaptureDevice(false, [.. failures, () => last]);

        Loop(device).Run(Stream(FakeWake.Fail("lost")));

        Assert.Equal(8, Pauses.Count);
        Assert.All(Pauses, p => Assert.InRange(p, TimeSpan.FromTicks(1), BackoffSettings.Device.MaxDelay));
        var levels = _log.Entries.Where(e => e.Message.StartsWith("Reopening", StringComparison.Ordinal)).Select(e => e.Level).ToList();
        Assert.Equal([.. Enumerable.Repeat(LogLevel.Warning, 5), .. Enumerable.Repeat(LogLevel.Debug, 3)], levels);
        Assert.True(last.Disposed);
    }

    [Fact]
    public void Run_ReopenedDeviceAtAnotherRate_IsClosedAndRetried()
    {
        var otherRate = new FakeCaptureStream(Stereo16 with { SampleRate = 44_100 }, []);
        var right = Stream(FakeWake.With(Packet(CapturePacketFlags.None, (4_000, 4_000))));
        var device = new FakeCaptureDevice(false, () => otherRate, () => right);

        Loop(device).Run(Stream(FakeWake.Fail("lost")));

        Assert.True(otherRate.Disposed);
        Assert.Single(Pauses);
        Assert.Equal([4_000 / 32_768f], Output().SelectMany(f => f));
    }

    [Fact]
    public void Run_StopAskedDuringBackoff_EndsWithoutOpeningAgain()
    {
        _stopDuringPause = true;
        var device = new FakeCaptureDevice(false, () => throw new IOException("gone"));
        var first = Stream(FakeWake.Fail("lost"));

        Loop(device).Run(first);

        Assert.True(first.Disposed);
        Assert.Single(device.OpenedWithRate);
        Assert.Single(Pauses);
    }

    [Fact]
    public void Run_StopAlreadyAsked_DisposesTheStreamWithoutReading()
    {
        var stream = Stream(FakeWake.With(Packet(CapturePacketFlags.None, (1, 1))));
        _stop.Cancel();

        Loop(new FakeCaptureDevice(false)).Run(stream);

        Assert.True(stream.Disposed);
        Assert.Empty(stream.Released);
        Assert.Empty(Output());
    }

    [Fact]
    public void Run_LoopbackWithNothingPlaying_FillsTheIdleTimeWithSilence()
    {
        // Five 20 ms timeouts: silence is owed once 100 ms passed without a packet (4800 frames at 48 kHz).
        var stream = Stream(FakeWake.Timeout, FakeWake.Timeout, FakeWake.Timeout, FakeWake.Timeout, FakeWake.Timeout, FakeWake.With(Packet(CapturePacketFlags.None, (8_192, 8_192))));
        var loop = Loop(new FakeCaptureDevice(isLoopback: true));

        loop.Run(stream);

        var output = Output();
        Assert.Equal(2, output.Count);
        Assert.Equal(4_800, output[0].Length);
        Assert.All(output[0], s => Assert.Equal(0f, s));
        Assert.Equal([0.25f], output[1]);
        Assert.Equal(4_800, loop.SilenceFilledFrames);
    }

    [Fact]
    public void Run_MicrophoneIdleForFiveSeconds_IsTreatedAsLostAndReopened()
    {
        var stalled = Stream([.. Enumerable.Repeat(FakeWake.Timeout, 250)]); // 250 x 20 ms
        var next = Stream(FakeWake.With(Packet(CapturePacketFlags.None, (1_000, 1_000))));
        var device = new FakeCaptureDevice(isLoopback: false, () => next);
        var loop = Loop(device);

        loop.Run(stalled);

        Assert.True(stalled.Disposed);
        Assert.Equal(1, loop.Reopens);
        Assert.Equal(0, loop.SilenceFilledFrames);
        Assert.Equal([1_000 / 32_768f], Output().SelectMany(f => f));
    }

    [Fact]
    public void Run_MicrophoneIdleJustUnderFiveSeconds_IsNotReopened()
    {
        var slow = Stream([.. Enumerable.Repeat(FakeWake.Timeout, 249)]);
        var device = new FakeCaptureDevice(isLoopback: false);

        var loop = Loop(device);
        loop.Run(slow);

        Assert.Empty(device.OpenedWithRate);
        Assert.Equal(0, loop.Reopens);
    }

    [Fact]
    public void Run_MicrophoneSignalledWithoutPacketsForFiveSeconds_IsTreatedAsLostAndReopened()
    {
        // Under Wine an unloaded PulseAudio source leaves the stream's event firing every period with nothing behind it.
        var hollow = Stream([.. Enumerable.Repeat(FakeWake.Empty, 500)]); // 500 x 10 ms
        var next = Stream(FakeWake.With(Packet(CapturePacketFlags.None, (1_000, 1_000))));
        var loop = Loop(new FakeCaptureDevice(isLoopback: false, () => next));

        loop.Run(hollow);

        Assert.True(hollow.Disposed);
        Assert.Equal(1, loop.Reopens);
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("delivered no audio for 5 s", StringComparison.Ordinal));
        Assert.Equal([1_000 / 32_768f], Output().SelectMany(f => f));
    }

    [Fact]
    public void Run_MicrophoneSignalledWithoutPacketsJustUnderFiveSeconds_IsNotReopened()
    {
        var hollow = Stream([.. Enumerable.Repeat(FakeWake.Empty, 499)]);
        var device = new FakeCaptureDevice(isLoopback: false);

        var loop = Loop(device);
        loop.Run(hollow);

        Assert.Empty(device.OpenedWithRate);
        Assert.Equal(0, loop.Reopens);
    }

    [Fact]
    public void Run_LoopbackSignalledWithoutPackets_FillsTheIdleTimeWithSilence()
    {
        // Ten empty 10 ms periods: 100 ms owed as silence (4800 frames at 48 kHz), then the packet that follows.
        var stream = Stream([.. Enumerable.Repeat(FakeWake.Empty, 10), FakeWake.With(Packet(CapturePacketFlags.None, (8_192, 8_192)))]);
        var loop = Loop(new FakeCaptureDevice(isLoopback: true));

        loop.Run(stream);

        var output = Output();
        Assert.Equal(2, output.Count);
        Assert.Equal(4_800, output[0].Length);
        Assert.Equal([0.25f], output[1]);
    }

    /// <summary>A fake clock that reports each backoff wait (a timer with a due time) to the test as it starts.</summary>
    private sealed class BackoffClock(Action<TimeSpan> onWait) : FakeTimeProvider
    {
        public List<TimeSpan> Waits { get; } = [];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            if (dueTime > TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
            {
                Waits.Add(dueTime);
                onWait(dueTime);
            }

            return timer;
        }
    }
}
