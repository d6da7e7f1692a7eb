using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Pipeline;

namespace CaptionSidecar.Tests.Pipeline;

public sealed class AudioFanOutTests
{
    private static AudioChunk Chunk(long n) => new(n, n * 480, new byte[960]);

    [Fact(Timeout = 30000)]
    public async Task RunAsync_TwoSubscribers_EachGetsEveryChunkInOrder()
    {
        var source = Channel.CreateUnbounded<AudioChunk>();
        var fan = new AudioFanOut(source.Reader, live: false, capacity: 4);
        var a = fan.Subscribe("en");
        var b = fan.Subscribe("es");
        var run = fan.RunAsync(TestContext.Current.CancellationToken);

        for (var i = 0; i < 50; i++)
        {
            await source.Writer.WriteAsync(Chunk(i), TestContext.Current.CancellationToken);
        }

        source.Writer.Complete();
        var readA = ReadAllAsync(a);
        var readB = ReadAllAsync(b);
        await run;

        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), await readA);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), await readB);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_LiveSourceWithStalledTrack_DropsOldestForThatTrackOnlyAndCountsIt()
    {
        var source = Channel.CreateUnbounded<AudioChunk>();
        var fan = new AudioFanOut(source.Reader, live: true, capacity: 10);
        var stalled = fan.Subscribe("stalled");
        var reading = fan.Subscribe("reading");
        var run = fan.RunAsync(TestContext.Current.CancellationToken);

        // The reading track keeps up (it takes each chunk before the next arrives); the stalled one never reads.
        var read = 0;
        for (var i = 0; i < 100; i++)
        {
            await source.Writer.WriteAsync(Chunk(i), TestContext.Current.CancellationToken);
            Assert.Equal(i, (await reading.ReadAsync(TestContext.Current.CancellationToken)).Sequence);
            read++;
        }

        source.Writer.Complete();
        await run;

        Assert.Equal(100, read);
        Assert.Equal(0, fan.DroppedFor("reading"));
        Assert.Equal(90, fan.DroppedFor("stalled"));
        var kept = await ReadAllAsync(stalled);
        Assert.Equal(Enumerable.Range(90, 10).Select(i => (long)i), kept); // the newest audio survives
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_FileSourceWithSlowTrack_WaitsInsteadOfDropping()
    {
        var source = Channel.CreateUnbounded<AudioChunk>();
        var fan = new AudioFanOut(source.Reader, live: false, capacity: 2);
        var slow = fan.Subscribe("slow");
        var run = fan.RunAsync(TestContext.Current.CancellationToken);
        for (var i = 0; i < 20; i++)
        {
            await source.Writer.WriteAsync(Chunk(i), TestContext.Current.CancellationToken);
        }

        source.Writer.Complete();
        var got = await ReadAllAsync(slow, delayEach: true);
        await run;

        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), got);
        Assert.Equal(0, fan.DroppedFor("slow"));
    }

    [Fact(Timeout = 30000)]
    public async Task Subscribe_AfterInputEnded_ReturnsACompletedQueue()
    {
        var source = Channel.CreateUnbounded<AudioChunk>();
        source.Writer.Complete();
        var fan = new AudioFanOut(source.Reader, live: false, capacity: 2);
        await fan.RunAsync(TestContext.Current.CancellationToken);

        var late = fan.Subscribe("late");

        Assert.Empty(await ReadAllAsync(late));
    }

    [Fact(Timeout = 30000)]
    public async Task Unsubscribe_WhileFlowing_CompletesThatQueueAndOthersContinue()
    {
        var source = Channel.CreateUnbounded<AudioChunk>();
        var fan = new AudioFanOut(source.Reader, live: false, capacity: 100);
        var leaving = fan.Subscribe("leaving");
        var staying = fan.Subscribe("staying");
        var run = fan.RunAsync(TestContext.Current.CancellationToken);
        await source.Writer.WriteAsync(Chunk(0), TestContext.Current.CancellationToken);
        Assert.Equal(0, (await leaving.ReadAsync(TestContext.Current.CancellationToken)).Sequence);

        fan.Unsubscribe("leaving");
        await source.Writer.WriteAsync(Chunk(1), TestContext.Current.CancellationToken);
        source.Writer.Complete();
        await run;

        Assert.Empty(await ReadAllAsync(leaving));
        Assert.Equal([0L, 1L], await ReadAllAsync(staying));
    }

    private static async Task<List<long>> ReadAllAsync(ChannelReader<AudioChunk> reader, bool delayEach = false)
    {
        var list = new List<long>();
        await foreach (var c in reader.ReadAllAsync())
        {
            list.Add(c.Sequence);
            if (delayEach)
            {
                await Task.Yield();
            }
        }

        return list;
    }
}
