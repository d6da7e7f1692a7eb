using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

public sealed class RawPcmSourceTests
{
    /// <summary>Hands out the bytes a few at a time, splitting samples and frames.</summary>
    private sealed class TricklingStream(byte[] bytes, int[] pieces) : MemoryStream(bytes)
    {
        private int _next;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var size = Math.Min(buffer.Length, pieces[_next++ % pieces.Length]);
            return base.ReadAsync(buffer[..size], cancellationToken);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_OddByteBoundaries_ReturnsWholeStereoFramesInOrder()
    {
        var samples = Enumerable.Range(0, 200).Select(i => (short)((i * 300) - 30_000)).ToArray();
        var stream = new TricklingStream(WavBuilder.Pcm16(samples), [1, 3, 2, 5, 7, 1, 11]);
        await using var source = new RawPcmSource(stream, new AudioFormat(48_000, 2), "test");

        Assert.False(source.IsLive);
        Assert.False(source.CanOutrunRealTime);
        var all = new List<float>();
        var buffer = new float[10];
        int read;
        while ((read = await source.ReadAsync(buffer, TestContext.Current.CancellationToken)) > 0)
        {
            Assert.Equal(0, read % 2);
            all.AddRange(buffer.AsSpan(0, read));
        }

        Assert.Equal(samples.Select(s => s / 32_768f), all);
    }

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_StreamEndsInsideFrame_DropsTheIncompleteFrame()
    {
        var bytes = WavBuilder.Pcm16(1, 2, 3, 4, 5);
        await using var source = new RawPcmSource(new MemoryStream(bytes[..^1]), new AudioFormat(16_000, 2), "test");
        var buffer = new float[16];

        Assert.Equal(4, await source.ReadAsync(buffer, TestContext.Current.CancellationToken));
        Assert.Equal(0, await source.ReadAsync(buffer, TestContext.Current.CancellationToken));
        Assert.Equal([1 / 32_768f, 2 / 32_768f, 3 / 32_768f, 4 / 32_768f], buffer[..4]);
    }

    [Fact(Timeout = 30000)]
    public async Task ReadAsync_ProducerSilentAndCancelled_StopsWaiting()
    {
        var pipe = new System.IO.Pipelines.Pipe();
        await using var source = new RawPcmSource(pipe.Reader.AsStream(), new AudioFormat(48_000, 1), "test");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var read = source.ReadAsync(new float[480], cts.Token).AsTask();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }
}
