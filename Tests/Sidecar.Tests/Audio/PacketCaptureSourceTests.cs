using System.Buffers.Binary;
using CaptionSidecar.Audio;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Audio;

public sealed class PacketCaptureSourceTests
{
    private static readonly CaptureFormat Float6 = new(CaptureSampleEncoding.Float32, 44_100, 6, 32);

    [Fact(Timeout = 30000)]
    public async Task OpenAsync_DeviceMissing_ThrowsItsErrorAndLeavesTheCaptureThread()
    {
        var device = new FakeCaptureDevice(false, () => throw new IOException("WASAPI: the default input failed: no such audio endpoint"));

        var ex = await Assert.ThrowsAsync<IOException>(() => PacketCaptureSource.OpenAsync(device, NullLogger.Instance, new FakeTimeProvider(), TestContext.Current.CancellationToken));

        Assert.Contains("no such audio endpoint", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, device.ThreadsEntered);
        Assert.Equal(1, device.ThreadsLeft);
    }

    [Fact(Timeout = 30000)]
    public async Task OpenAsync_CaptureThreadCannotBePrepared_ThrowsThatError()
    {
        var device = new FakeCaptureDevice(false) { EnterFailure = new IOException("WASAPI: CoInitializeEx failed") };

        var ex = await Assert.ThrowsAsync<IOException>(() => PacketCaptureSource.OpenAsync(device, NullLogger.Instance, new FakeTimeProvider(), TestContext.Current.CancellationToken));

        Assert.Equal("WASAPI: CoInitializeEx failed", ex.Message);
        Assert.Empty(device.OpenedWithRate);
    }

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_SixChannelFloatDevice_DeliversMonoAtTheDeviceRate()
    {
        var frames = new float[] { 0.6f, 0.6f, 0.6f, 0f, 0f, 0f, -0.3f, -0.3f, -0.3f, -0.3f, -0.3f, -0.3f };
        var data = new byte[frames.Length * 4];
        for (var i = 0; i < frames.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4 * i), frames[i]);
        }

        using var idle = new ManualResetEventSlim();
        var stream = new FakeCaptureStream(Float6, [FakeWake.With(new FakePacket(data, 2))], onExhausted: () => idle.Wait(5));
        var device = new FakeCaptureDevice(false, () => stream);
        var source = await PacketCaptureSource.OpenAsync(device, NullLogger.Instance, new FakeTimeProvider(), TestContext.Current.CancellationToken);
        var buffer = new float[16];
        int read;
        await using (source)
        {
            read = await source.ReadAsync(buffer, TestContext.Current.CancellationToken);
            Assert.Equal(new AudioFormat(44_100, 1), source.Format);
            Assert.True(source.IsLive);
            Assert.False(source.CanOutrunRealTime);
        }

        Assert.Equal(2, read);
        Assert.Equal(0.3f, buffer[0], 6);
        Assert.Equal(-0.3f, buffer[1], 6);
        Assert.True(stream.Disposed);
        Assert.Equal(1, device.ThreadsLeft);
        Assert.Equal(0, await source.ReadAsync(buffer, TestContext.Current.CancellationToken)); // completed after dispose
    }
}
