using CaptionSidecar.Audio;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionSidecar.Tests.Audio;

public sealed class VoiceGateTests
{
    private static readonly TimeSpan Hangover = TimeSpan.FromSeconds(1);
    private readonly SyntheticChunks _audio = new();

    private static List<AudioChunk> Run(VoiceGate gate, IEnumerable<AudioChunk> chunks)
    {
        var forwarded = new List<AudioChunk>();
        foreach (var chunk in chunks)
        {
            gate.Process(chunk, forwarded);
        }

        return forwarded;
    }

    private static VoiceGate Gate() => new(new VoiceGateSettings(Hangover));

    [Fact]
    public void Process_DigitalSilenceAndQuietNoise_ForwardsNothing()
    {
        var gate = Gate();
        var chunks = _audio.Silence(TimeSpan.FromSeconds(5)).Concat(_audio.Noise(TimeSpan.FromSeconds(5), -70, -70)).ToList();

        var forwarded = Run(gate, chunks);

        Assert.Empty(forwarded);
        Assert.False(gate.IsOpen);
        Assert.Equal(chunks.Count * (long)SyntheticChunks.ChunkSamples, gate.HeldBackSamples);
    }

    [Fact]
    public void Process_ToneBurstInSilence_ForwardsPreRollBurstAndHangoverInOrderAtTheirPositions()
    {
        var gate = Gate();
        var chunks = _audio.Silence(TimeSpan.FromSeconds(2))           // chunks 0..99
            .Concat(_audio.Tone(TimeSpan.FromSeconds(1)))              // chunks 100..149
            .Concat(_audio.Silence(TimeSpan.FromSeconds(5))).ToList(); // chunks 150..399

        var forwarded = Run(gate, chunks);

        // Opens on the third voiced chunk (60 ms onset) and first sends the 300 ms before the tone (15 chunks) and the
        // onset itself; then everything up to one hangover (50 chunks) after the last voiced chunk.
        Assert.Equal(85, forwarded[0].Sequence);
        var last = forwarded[^1].Sequence;
        Assert.InRange(last, 149 + 50, 149 + 52); // the high-pass rings for a moment where the tone stops
        Assert.Equal(Enumerable.Range(85, (int)(last - 85 + 1)).Select(i => (long)i), forwarded.Select(c => c.Sequence));
        Assert.All(forwarded, c => Assert.Equal(chunks[(int)c.Sequence], c));
        Assert.False(gate.IsOpen);
        Assert.Equal((chunks.Count - forwarded.Count) * (long)SyntheticChunks.ChunkSamples, gate.HeldBackSamples);
    }

    [Fact]
    public void Process_PreRollSetting_SendsThatMuchAudioBeforeTheVoice()
    {
        var gate = new VoiceGate(new VoiceGateSettings(Hangover) { PreRoll = TimeSpan.FromMilliseconds(500), Onset = TimeSpan.FromMilliseconds(100) });
        var chunks = _audio.Silence(TimeSpan.FromSeconds(2)).Concat(_audio.Tone(TimeSpan.FromSeconds(1))).ToList();

        var forwarded = Run(gate, chunks);

        Assert.Equal(100 - 25, forwarded[0].Sequence);
        Assert.Equal(chunks[75..], forwarded);
        Assert.True(gate.IsOpen);
    }

    [Fact]
    public void Process_SingleClick_DoesNotOpenTheGate()
    {
        var gate = Gate();
        var chunks = _audio.Silence(TimeSpan.FromSeconds(2))
            .Concat(_audio.Click())
            .Concat(_audio.Noise(TimeSpan.FromSeconds(1), -75, -75))
            .Concat(_audio.Click(-75))
            .Concat(_audio.Silence(TimeSpan.FromSeconds(2))).ToList();

        var forwarded = Run(gate, chunks);

        Assert.Empty(forwarded);
        Assert.False(gate.IsOpen);
    }

    [Fact]
    public void Process_SlowlyRisingFanNoise_BecomesTheFloorAndDoesNotKeepTheGateOpen()
    {
        var gate = Gate();
        // A fan spinning up: -70 dBFS to -30 dBFS over 40 s (1 dB/s), then running steadily: well above the -50 dBFS
        // minimum, so only the adaptive floor can tell it from a voice.
        var chunks = _audio.Noise(TimeSpan.FromSeconds(40), -70, -30).Concat(_audio.Noise(TimeSpan.FromSeconds(20), -30, -30)).ToList();

        var forwarded = Run(gate, chunks);

        Assert.True(forwarded.Count < chunks.Count / 10, $"forwarded {forwarded.Count} of {chunks.Count} chunks of fan noise");
        Assert.False(gate.IsOpen);
        Assert.InRange(gate.NoiseFloorDbfs, -36, -29);
    }

    [Fact]
    public void Process_VoiceOverSteadyFanNoise_OpensForTheVoiceOnly()
    {
        var gate = Gate();
        var chunks = _audio.Noise(TimeSpan.FromSeconds(10), -40, -40)                                   // 0..499
            .Concat(_audio.Tone(TimeSpan.FromSeconds(1), rmsDbfs: -20, noiseDbfs: -40))                   // 500..549
            .Concat(_audio.Noise(TimeSpan.FromSeconds(5), -40, -40)).ToList();                          // 550..799

        var forwarded = Run(gate, chunks);

        Assert.Equal(485, forwarded[0].Sequence);
        Assert.InRange(forwarded[^1].Sequence, 549 + 50, 549 + 52);
        Assert.False(gate.IsOpen);
    }

    [Theory]
    [InlineData(-80, true)]
    [InlineData(-52, false)]
    public void Process_QuietVoice_OpensOnlyWhenClearlyAboveTheNoiseFloor(double noiseDbfs, bool opens)
    {
        var gate = Gate();
        var chunks = _audio.Noise(TimeSpan.FromSeconds(3), noiseDbfs, noiseDbfs)
            .Concat(_audio.Tone(TimeSpan.FromSeconds(1), rmsDbfs: -45, noiseDbfs: noiseDbfs)).ToList();

        var forwarded = Run(gate, chunks);

        Assert.Equal(opens, gate.IsOpen);
        Assert.Equal(opens, forwarded.Count > 0);
    }

    [Theory]
    [InlineData(50, false)]
    [InlineData(440, true)]
    public void Process_LoudToneBurst_OpensForTheSpeechBandButNotForHumOrRumble(double hz, bool opens)
    {
        var gate = Gate();
        var chunks = _audio.Noise(TimeSpan.FromSeconds(2), -80, -80)
            .Concat(_audio.Tone(TimeSpan.FromSeconds(2), hz, rmsDbfs: -20, noiseDbfs: -80)).ToList();

        var forwarded = Run(gate, chunks);

        Assert.Equal(opens, forwarded.Count > 0);
    }

    [Fact]
    public void Process_PauseShorterThanTheHangover_KeepsTheGateOpenAcrossIt()
    {
        var gate = Gate();
        var chunks = _audio.Silence(TimeSpan.FromSeconds(1))
            .Concat(_audio.Tone(TimeSpan.FromMilliseconds(600)))
            .Concat(_audio.Silence(TimeSpan.FromMilliseconds(800)))
            .Concat(_audio.Tone(TimeSpan.FromMilliseconds(600)))
            .Concat(_audio.Silence(TimeSpan.FromSeconds(3))).ToList();

        var forwarded = Run(gate, chunks);

        // One contiguous span: the 800 ms pause is shorter than the 1 s hangover.
        Assert.Equal(Enumerable.Range((int)forwarded[0].Sequence, forwarded.Count).Select(i => (long)i), forwarded.Select(c => c.Sequence));
        Assert.Equal(50 - 15, forwarded[0].Sequence);
    }

    private static async Task<(List<AudioChunk> Output, AudioPipelineStats Stats)> RunPipelineAsync(VoiceGateSettings? gate, CancellationToken ct)
    {
        // 2 s of silence, then 1 s of a 440 Hz tone at which the input ends.
        var samples = new float[3 * AudioChunk.SampleRate];
        for (var i = 2 * AudioChunk.SampleRate; i < samples.Length; i++)
        {
            samples[i] = (float)(0.25 * Math.Sin(2 * Math.PI * 440 * i / AudioChunk.SampleRate));
        }

        var pipeline = new AudioPipeline(
            new FakeAudioSource(samples, new AudioFormat(AudioChunk.SampleRate, 1)),
            new AudioOptions { NoPacing = true, QueueCapacity = 10 },
            NullLogger<AudioPipeline>.Instance,
            TimeProvider.System,
            gate);
        return (await AudioPipelineRun.CollectAsync(pipeline, ct), pipeline.Stats);
    }

    [Fact(Timeout = 30000)]
    public async Task AudioPipeline_GateOnAndInputEndsInVoice_SendsVoiceWithPreRollAndStatsShowTheGateOpen()
    {
        var (output, stats) = await RunPipelineAsync(new VoiceGateSettings(Hangover), TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(85, 65).Select(i => (long)i), output.Select(c => c.Sequence));
        Assert.Equal(150, stats.ChunksProduced);
        Assert.True(stats.VoiceGateOpen);
        Assert.Equal(TimeSpan.FromMilliseconds(85 * 20), stats.HeldBack);
    }

    [Fact(Timeout = 30000)]
    public async Task AudioPipeline_GateOff_SendsEveryChunkAndStatsHaveNoGate()
    {
        var (output, stats) = await RunPipelineAsync(gate: null, TestContext.Current.CancellationToken);

        Assert.Equal(150, output.Count);
        Assert.Null(stats.VoiceGateOpen);
        Assert.Equal(TimeSpan.Zero, stats.HeldBack);
    }
}
