using System.Buffers.Binary;
using CaptionSidecar.Audio;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionSidecar.Tests.Audio;

/// <summary>The audio hold in <see cref="AudioPipeline"/> (captioning paused while the mic is muted in OBS).</summary>
public sealed class AudioHoldTests
{
    private const int ChunkSamples = 480; // 20 ms at 24 kHz

    /// <summary>A hold that is on for the chunks whose index (the n-th time it is read, once per chunk) is in [from, to).</summary>
    private sealed class ScriptedHold(long from, long to) : IAudioHold
    {
        private long _reads;

        public bool IsHeld
        {
            get
            {
                var chunk = _reads++;
                return chunk >= from && chunk < to;
            }
        }

        public string Reason => "OBS input 'Mic/Aux' is muted";
    }

    /// <summary>Every sample of chunk n is n + 1 (never zero), so each chunk is recognisable and silence stands out.</summary>
    private static float[] NumberedChunks(int count)
    {
        var samples = new float[count * ChunkSamples];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = ((i / ChunkSamples) + 1) / 32_768f;
        }

        return samples;
    }

    private static short[] SamplesOf(AudioChunk chunk) =>
        [.. Enumerable.Range(0, chunk.SampleCount).Select(i => BinaryPrimitives.ReadInt16LittleEndian(chunk.Pcm16.Span[(2 * i)..]))];

    private static async Task<(List<AudioChunk> Output, AudioPipeline Pipeline)> RunAsync(int chunks, IAudioHold hold, TimeSpan closingSilence,
        ILogger<AudioPipeline>? logger, VoiceGateSettings? gate, CancellationToken ct)
    {
        var pipeline = new AudioPipeline(
            new FakeAudioSource(NumberedChunks(chunks), new AudioFormat(AudioChunk.SampleRate, 1)),
            new AudioOptions { NoPacing = true, QueueCapacity = 10 },
            logger ?? NullLogger<AudioPipeline>.Instance,
            TimeProvider.System,
            gate,
            new AudioHoldSettings(hold, closingSilence));
        return (await AudioPipelineRun.CollectAsync(pipeline, ct), pipeline);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_HeldThenReleased_SendsClosingSilenceAtOriginalPositionsThenNothingThenAudioInOrder()
    {
        var logger = new ListLogger<AudioPipeline>();
        // 100 chunks; held for chunks 20..69 (1 s); 200 ms (10 chunks) of closing silence.
        var (output, pipeline) = await RunAsync(100, new ScriptedHold(20, 70), TimeSpan.FromMilliseconds(200), logger, gate: null,
            TestContext.Current.CancellationToken);

        var expected = Enumerable.Range(0, 30).Concat(Enumerable.Range(70, 30)).Select(i => (long)i).ToList();
        Assert.Equal(expected, output.Select(c => c.Sequence));
        Assert.Equal(expected.Select(i => i * ChunkSamples), output.Select(c => c.StartSample));
        foreach (var chunk in output)
        {
            var samples = SamplesOf(chunk);
            if (chunk.Sequence is >= 20 and < 30)
            {
                Assert.All(samples, s => Assert.Equal(0, s)); // digital silence in place of the muted audio
            }
            else
            {
                Assert.All(samples, s => Assert.Equal(chunk.Sequence + 1, s)); // the audio itself, untouched
            }
        }

        var stats = pipeline.Stats;
        Assert.False(stats.Muted);
        Assert.Equal(TimeSpan.FromSeconds(1), stats.MutedDuration);
        Assert.Equal(100, stats.ChunksProduced);
        var info = logger.Entries.Where(e => e.Level == LogLevel.Information).Select(e => e.Message).ToList();
        Assert.Single(info, m => m.StartsWith("Captioning paused: OBS input 'Mic/Aux' is muted", StringComparison.Ordinal));
        Assert.Single(info, m => m.StartsWith("Captioning resumed", StringComparison.Ordinal));
        Assert.True(info.FindIndex(m => m.StartsWith("Captioning paused", StringComparison.Ordinal))
                    < info.FindIndex(m => m.StartsWith("Captioning resumed", StringComparison.Ordinal)));
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_HeldUntilTheEnd_StatsShowMutedAndOnlyTheClosingSilenceWasSent()
    {
        var (output, pipeline) = await RunAsync(100, new ScriptedHold(50, long.MaxValue), TimeSpan.FromMilliseconds(100), null, gate: null,
            TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(0, 55).Select(i => (long)i), output.Select(c => c.Sequence));
        Assert.All(output.Skip(50), c => Assert.All(SamplesOf(c), s => Assert.Equal(0, s)));
        Assert.True(pipeline.Stats.Muted);
        Assert.Equal(TimeSpan.FromSeconds(1), pipeline.Stats.MutedDuration);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_HeldTwice_EachHoldStartsWithItsOwnClosingSilence()
    {
        var hold = new TwoHolds();
        var (output, pipeline) = await RunAsync(100, hold, TimeSpan.FromMilliseconds(100), null, gate: null, TestContext.Current.CancellationToken);

        // Held for 10..29 and 60..79: 5 chunks of silence each time.
        var expected = Enumerable.Range(0, 15).Concat(Enumerable.Range(30, 35)).Concat(Enumerable.Range(80, 20)).Select(i => (long)i);
        Assert.Equal(expected, output.Select(c => c.Sequence));
        Assert.All(output.Where(c => c.Sequence is >= 60 and < 65), c => Assert.All(SamplesOf(c), s => Assert.Equal(0, s)));
        Assert.Equal(TimeSpan.FromMilliseconds(800), pipeline.Stats.MutedDuration);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_NoHold_StatsHaveNoMutedState()
    {
        var pipeline = new AudioPipeline(
            new FakeAudioSource(NumberedChunks(5), new AudioFormat(AudioChunk.SampleRate, 1)),
            new AudioOptions { NoPacing = true, QueueCapacity = 10 },
            NullLogger<AudioPipeline>.Instance,
            TimeProvider.System);

        await pipeline.RunAsync(TestContext.Current.CancellationToken);

        Assert.Null(pipeline.Stats.Muted);
        Assert.Equal(TimeSpan.Zero, pipeline.Stats.MutedDuration);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_HeldWithClosedVoiceGate_SendsNothingAtAll()
    {
        // A constant level (a DC offset under the gate's high-pass) is never voice: the gate stays closed, so no turn is
        // open and even the closing silence is held back.
        var (output, pipeline) = await RunAsync(100, new ScriptedHold(20, 70), TimeSpan.FromMilliseconds(200), null,
            new VoiceGateSettings(TimeSpan.FromMilliseconds(200)), TestContext.Current.CancellationToken);

        Assert.Empty(output);
        Assert.Equal(TimeSpan.FromSeconds(1), pipeline.Stats.MutedDuration);
        Assert.False(pipeline.Stats.VoiceGateOpen);
    }

    [Fact(Timeout = 30000)]
    public async Task RunAsync_HeldWhileTheVoiceGateIsOpen_TheGatePassesTheClosingSilenceSoTheTurnEnds()
    {
        // 2 s of a 440 Hz tone (voice to the gate); muted from chunk 50 on, with 200 ms of closing silence and hangover.
        var samples = new float[2 * AudioChunk.SampleRate];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = (float)(0.25 * Math.Sin(2 * Math.PI * 440 * i / AudioChunk.SampleRate));
        }

        var pipeline = new AudioPipeline(
            new FakeAudioSource(samples, new AudioFormat(AudioChunk.SampleRate, 1)),
            new AudioOptions { NoPacing = true, QueueCapacity = 200 },
            NullLogger<AudioPipeline>.Instance,
            TimeProvider.System,
            new VoiceGateSettings(TimeSpan.FromMilliseconds(200)),
            new AudioHoldSettings(new ScriptedHold(50, long.MaxValue), TimeSpan.FromMilliseconds(200)));

        await pipeline.RunAsync(TestContext.Current.CancellationToken);
        var output = new List<AudioChunk>();
        while (pipeline.Output.TryRead(out var chunk))
        {
            output.Add(chunk);
        }

        Assert.Equal(Enumerable.Range(50, 10).Select(i => (long)i), output.Where(c => c.Sequence >= 50).Select(c => c.Sequence));
        Assert.All(output.Where(c => c.Sequence >= 50), c => Assert.All(SamplesOf(c), s => Assert.Equal(0, s)));
        Assert.Contains(output, c => c.Sequence == 49); // the voice before the mute went out
        Assert.True(pipeline.Stats.Muted);
    }

    private sealed class TwoHolds : IAudioHold
    {
        private long _reads;

        public bool IsHeld
        {
            get
            {
                var chunk = _reads++;
                return chunk is (>= 10 and < 30) or (>= 60 and < 80);
            }
        }

        public string Reason => "OBS input 'Mic' is muted";
    }
}
