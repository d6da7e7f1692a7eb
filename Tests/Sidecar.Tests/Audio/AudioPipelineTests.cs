using CaptionSidecar.Tests.Support;
using System.Buffers.Binary;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Audio;

public sealed class AudioPipelineTests
{
    private static async Task<List<AudioChunk>> ReadAllAsync(ChannelReader<AudioChunk> reader, CancellationToken cancellationToken)
    {
        var chunks = new List<AudioChunk>();
        await foreach (var chunk in reader.ReadAllAsync(cancellationToken))
        {
            chunks.Add(chunk);
        }

        return chunks;
    }

    private static IEnumerable<short> Samples(IEnumerable<AudioChunk> chunks) =>
        chunks.SelectMany(c => Enumerable.Range(0, c.SampleCount).Select(i => BinaryPrimitives.ReadInt16LittleEndian(c.Pcm16.Span[(2 * i)..])));

    [Fact(Timeout = 30000)]
    public async Task RunAsync_FileSourceWithoutPacing_ProducesAllAudioInOrderAndCompletes()
    {
        // 24 kHz passes through the resampler untouched, so every sample can be checked.
        var values = Enumerable.Range(0, 24_000 + 100).Select(i => (short)((i % 2_000) - 1_000)).ToArray();
        var source = new FakeAudioSource([.. values.Select(v => v / 32_768f)], new AudioFormat(24_000, 1));
        var pipeline = new AudioPipeline(source, new AudioOptions { NoPacing = true, QueueCapacity = 10 }, NullLogger<AudioPipeline>.Instance, TimeProvider.System);

        var reading = ReadAllAsync(pipeline.Output, TestContext.Current.CancellationToken);
        await pipeline.RunAsync(TestContext.Current.CancellationToken);
        var chunks = await reading;

        Assert.Equal(51, chunks.Count); // 50 whole chunks and one padded
        Assert.Equal(Enumerable.Range(0, 51).Select(i => (long)i), chunks.Select(c => c.Sequence));
        Assert.Equal(Enumerable.Range(0, 51).Select(i => i * 480L), chunks.Select(c => c.StartSample));
        var samples = Samples(chunks).ToArray();
        Assert.Equal(values, samples[..values.Length]);
        Assert.All(samples[values.Length..], s => Assert.Equal(0, s));
        Assert.Equal(51, pipeline.Stats.ChunksProduced);
        Assert.Equal(0, pipeline.Stats.ChunksDropped);
        Assert.Equal(TimeSpan.FromMilliseconds(1_020), pipeline.Stats.AudioDuration);
        Assert.Equal(20 * Math.Log10(1_000 / 32_768.0), pipeline.Stats.PeakDbfs, 3);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_Stereo48kFile_DownmixesAndResamplesToHalfTheSamples()
    {
        // Left +0.5, right -0.1: the mono average is a constant 0.2.
        var frames = 48_000;
        var stereo = new float[frames * 2];
        for (var i = 0; i < frames; i++)
        {
            stereo[2 * i] = 0.5f;
            stereo[(2 * i) + 1] = -0.1f;
        }

        var pipeline = new AudioPipeline(
            new FakeAudioSource(stereo, new AudioFormat(48_000, 2)),
            new AudioOptions { NoPacing = true },
            NullLogger<AudioPipeline>.Instance,
            TimeProvider.System);

        await pipeline.RunAsync(TestContext.Current.CancellationToken);
        var samples = Samples(await ReadAllAsync(pipeline.Output, TestContext.Current.CancellationToken)).ToArray();

        Assert.Equal(24_000, samples.Length); // exactly 50 chunks: nothing padded
        Assert.All(samples[200..^200], s => Assert.InRange(s, 6_550, 6_557)); // 0.2 * 32768 = 6553.6
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_PacedFileSource_ProducesNoMoreAudioThanTimeElapsed()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new TimerSignallingTimeProvider();
        var source = new FakeAudioSource(new float[24_000], new AudioFormat(24_000, 1)); // 1 s: 50 chunks
        var pipeline = new AudioPipeline(source, new AudioOptions { QueueCapacity = 100 }, NullLogger<AudioPipeline>.Instance, time);
        var run = pipeline.RunAsync(ct);

        // A new timer means the pipeline waits for the clock: everything due by now has gone out.
        await time.NextTimerAsync(ct);
        Assert.Equal(0, pipeline.Output.Count); // no time has passed: no audio may go out

        for (var step = 1; step < 10; step++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100)); // five chunks' worth
            await time.NextTimerAsync(ct);
            Assert.Equal(5 * step, pipeline.Output.Count); // exactly what is due, no more
        }

        time.Advance(TimeSpan.FromMilliseconds(100));
        await run;
        Assert.Equal(50, (await ReadAllAsync(pipeline.Output, ct)).Count);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_LiveSourceWithStalledReader_DropsOldestAndCountsIt()
    {
        var logger = new ListLogger<AudioPipeline>();
        var source = new FakeAudioSource(new float[48_000], new AudioFormat(24_000, 1), isLive: true, canOutrunRealTime: false); // 100 chunks
        var pipeline = new AudioPipeline(source, new AudioOptions { QueueCapacity = 10 }, logger, TimeProvider.System);

        await pipeline.RunAsync(TestContext.Current.CancellationToken); // nobody reads: a live source must not wait

        Assert.Equal(100, pipeline.Stats.ChunksProduced);
        Assert.Equal(90, pipeline.Stats.ChunksDropped);
        var kept = await ReadAllAsync(pipeline.Output, TestContext.Current.CancellationToken);
        Assert.Equal(Enumerable.Range(90, 10).Select(i => (long)i), kept.Select(c => c.Sequence)); // the newest audio survives
        var warning = Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning); // at most one log every 10 s
        Assert.Contains("dropped the oldest 1 chunks", warning.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_FileSourceWithSlowReader_WaitsInsteadOfDropping()
    {
        var source = new FakeAudioSource(new float[48_000], new AudioFormat(24_000, 1));
        var pipeline = new AudioPipeline(source, new AudioOptions { QueueCapacity = 10, NoPacing = true }, NullLogger<AudioPipeline>.Instance, TimeProvider.System);
        // The source answers at once, so RunAsync runs on this thread until its first wait that does not complete at
        // once: the write into the full queue. Dropping instead would never wait and would have finished here.
        var run = pipeline.RunAsync(TestContext.Current.CancellationToken);

        Assert.False(run.IsCompleted); // blocked on the full queue
        Assert.Equal(10, pipeline.Output.Count);

        var chunks = await ReadAllAsync(pipeline.Output, TestContext.Current.CancellationToken);
        await run;
        Assert.Equal(100, chunks.Count);
        Assert.Equal(0, pipeline.Stats.ChunksDropped);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_FailingSource_CompletesOutputWithTheException()
    {
        var failure = new IOException("capture device unplugged");
        var source = new FakeAudioSource(new float[2_400], new AudioFormat(24_000, 1), failAtEnd: failure);
        var pipeline = new AudioPipeline(source, new AudioOptions { NoPacing = true }, NullLogger<AudioPipeline>.Instance, TimeProvider.System);

        var thrown = await Assert.ThrowsAsync<IOException>(() => pipeline.RunAsync(TestContext.Current.CancellationToken));
        var read = await Assert.ThrowsAsync<IOException>(() => ReadAllAsync(pipeline.Output, TestContext.Current.CancellationToken));

        Assert.Same(failure, thrown);
        Assert.Same(failure, read);
        Assert.Equal(5, pipeline.Stats.ChunksProduced); // what came before the failure was delivered
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_Cancelled_CompletesOutputAndStops()
    {
        var time = new FakeTimeProvider();
        var pipeline = new AudioPipeline(
            new FakeAudioSource(new float[240_000], new AudioFormat(24_000, 1)), new AudioOptions(), NullLogger<AudioPipeline>.Instance, time);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var run = pipeline.RunAsync(cts.Token);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(pipeline.Output.Completion.IsCompleted);
    }

    [Fact]
    public void Stats_BeforeRunning_AreEmptyAndSilent()
    {
        var pipeline = new AudioPipeline(
            new FakeAudioSource([], new AudioFormat(24_000, 1)), new AudioOptions(), NullLogger<AudioPipeline>.Instance, TimeProvider.System);

        Assert.Equal(new AudioPipelineStats(0, 0, TimeSpan.Zero, double.NegativeInfinity, double.NegativeInfinity, false), pipeline.Stats);
    }

    [Fact(Timeout = 30000)]
    public async Task Stats_SineAtMinus6Dbfs_PeakMinus6RmsMinus9AndSpeech()
    {
        var amplitude = Math.Pow(10, -6 / 20.0);
        var sine = SignalMath.Sine(1_000, 24_000, 24_000, amplitude);
        var pipeline = new AudioPipeline(
            new FakeAudioSource(sine, new AudioFormat(24_000, 1)), new AudioOptions { NoPacing = true }, NullLogger<AudioPipeline>.Instance, TimeProvider.System);

        var reading = ReadAllAsync(pipeline.Output, TestContext.Current.CancellationToken);
        await pipeline.RunAsync(TestContext.Current.CancellationToken);
        await reading;

        var stats = pipeline.Stats;
        Assert.InRange(stats.PeakDbfs, -6.1, -5.9);
        Assert.InRange(stats.RmsDbfs, -9.15, -8.9);
        Assert.True(stats.Speech);
    }

    [Fact(Timeout = 30000)]
    public async Task Stats_DigitalSilence_MinusInfinityAndNoSpeech()
    {
        var pipeline = new AudioPipeline(
            new FakeAudioSource(new float[24_000], new AudioFormat(24_000, 1)), new AudioOptions { NoPacing = true }, NullLogger<AudioPipeline>.Instance, TimeProvider.System);

        var reading = ReadAllAsync(pipeline.Output, TestContext.Current.CancellationToken);
        await pipeline.RunAsync(TestContext.Current.CancellationToken);
        await reading;

        Assert.Equal(double.NegativeInfinity, pipeline.Stats.PeakDbfs);
        Assert.Equal(double.NegativeInfinity, pipeline.Stats.RmsDbfs);
        Assert.False(pipeline.Stats.Speech);
    }
}
