using System.Buffers.Binary;
using System.Globalization;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionSidecar.Tests.Audio;

/// <summary>The voice gate in the audio pipeline on real speech (espeak-ng) with long pauses between sentences.</summary>
// Integration: it runs espeak-ng (a peer, absent inside Wine, where the Windows unit tests run).
[Trait("Category", "Integration")]
public sealed class VoiceGateSpeechTests : IDisposable
{
    private static readonly string[] Sentences =
    [
        "Welcome back to the stream everyone.",
        "Today we are building a caption tool.",
        "Thanks for watching and see you soon.",
    ];

    private static readonly TimeSpan LeadIn = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan Tail = TimeSpan.FromSeconds(5);
    private readonly string _dir = Directory.CreateTempSubdirectory("voicegate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// The sentences at 24 kHz with silence around them, and where each sentence is audible (in samples). More than
    /// half of the audio is silence.
    /// </summary>
    private async Task<(float[] Samples, List<(long Start, long End)> Sentences)> SpeakAsync(CancellationToken cancellationToken)
    {
        var espeak = Peers.RequireExecutable("espeak-ng");
        var sox = Peers.RequireExecutable("sox");
        var samples = new List<float>();
        var spans = new List<(long, long)>();
        samples.AddRange(new float[(int)(LeadIn.TotalSeconds * AudioChunk.SampleRate)]);
        for (var i = 0; i < Sentences.Length; i++)
        {
            var wav = Path.Combine(_dir, $"s{i}.wav");
            var raw = Path.Combine(_dir, $"s{i}.raw");
            await RunAsync(espeak, ["-v", "en", "-s", "160", "-w", wav, Sentences[i]], cancellationToken);
            await RunAsync(sox, [wav, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-r", "24000", "-c", "1", raw], cancellationToken);
            var bytes = await File.ReadAllBytesAsync(raw, cancellationToken);
            var start = samples.Count;
            for (var b = 0; b + 1 < bytes.Length; b += 2)
            {
                samples.Add(BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(b)) / 32768f);
            }

            // espeak-ng pads its output with a little silence: the sentence is where it is audible (above -50 dBFS).
            var audible = Enumerable.Range(start, samples.Count - start).Where(n => Math.Abs(samples[n]) > 0.0032f).ToList();
            spans.Add((audible[0], audible[^1] + 1));
            var after = i == Sentences.Length - 1 ? Tail : Pause;
            samples.AddRange(new float[(int)(after.TotalSeconds * AudioChunk.SampleRate)]);
        }

        return ([.. samples], spans);
    }

    private static async Task RunAsync(string exe, string[] args, CancellationToken cancellationToken)
    {
        var (code, _, stderr) = await Peers.RunAsync(exe, args, TimeSpan.FromSeconds(60), cancellationToken);
        Assert.True(code == 0, $"{Path.GetFileName(exe)} failed ({code}): {stderr}");
    }

    private static async Task<List<AudioChunk>> ReadAllAsync(ChannelReader<AudioChunk> reader, CancellationToken cancellationToken)
    {
        var chunks = new List<AudioChunk>();
        await foreach (var chunk in reader.ReadAllAsync(cancellationToken))
        {
            chunks.Add(chunk);
        }

        return chunks;
    }

    [Theory(Timeout = 60000)]
    [InlineData(1000, 0.40)] // server VAD, silence_duration_ms 500
    [InlineData(4500, 0.08)] // semantic VAD, eagerness auto (the default)
    public async Task RunAsync_SpeechWithLongPauses_ForwardsEverySentenceAndHoldsBackMostOfThePauses(int hangoverMs, double minHeldBack)
    {
        var ct = TestContext.Current.CancellationToken;
        var (samples, sentences) = await SpeakAsync(ct);
        var silence = samples.Length - sentences.Sum(s => s.End - s.Start);
        Assert.True(silence > samples.Length / 2, "the sample must be mostly silence");
        var source = new FakeAudioSource(samples, new AudioFormat(AudioChunk.SampleRate, 1));
        var pipeline = new AudioPipeline(
            source,
            new AudioOptions { NoPacing = true, QueueCapacity = 50 },
            NullLogger<AudioPipeline>.Instance,
            TimeProvider.System,
            new VoiceGateSettings(TimeSpan.FromMilliseconds(hangoverMs)));

        var reading = ReadAllAsync(pipeline.Output, ct);
        await pipeline.RunAsync(ct);
        var forwarded = await reading;

        // In order, each at its own place on the timeline with its own samples.
        Assert.Equal(forwarded.Select(c => c.Sequence).Order(), forwarded.Select(c => c.Sequence));
        Assert.Equal(forwarded.Count, forwarded.Select(c => c.Sequence).Distinct().Count());
        Assert.All(forwarded, c => Assert.Equal(c.Sequence * 480, c.StartSample));
        Assert.All(forwarded, c => Assert.Equal(
            samples.AsSpan((int)c.StartSample, Math.Min(480, samples.Length - (int)c.StartSample)).ToArray().Select(s => (short)Math.Round(s * 32768f)),
            Enumerable.Range(0, Math.Min(480, samples.Length - (int)c.StartSample)).Select(i => BinaryPrimitives.ReadInt16LittleEndian(c.Pcm16.Span[(2 * i)..]))));

        // Every sentence is heard whole, from its first audible sample to its last.
        var sent = forwarded.Select(c => c.Sequence).ToHashSet();
        foreach (var (start, end) in sentences)
        {
            for (var chunk = start / 480; chunk <= (end - 1) / 480; chunk++)
            {
                Assert.True(sent.Contains(chunk), $"chunk {chunk} of the sentence at {start / 24_000.0:F2} s was held back");
            }
        }

        var stats = pipeline.Stats;
        var heldBack = stats.HeldBack / stats.AudioDuration;
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"hangover {hangoverMs} ms: held back {stats.HeldBack.TotalSeconds:F2} s of {stats.AudioDuration.TotalSeconds:F2} s ({heldBack:P1}); silence in the file {(double)silence / samples.Length:P1}"));
        Assert.True(heldBack > minHeldBack, $"held back only {heldBack:P1}");
        Assert.Equal(stats.AudioDuration - TimeSpan.FromTicks(forwarded.Count * TimeSpan.TicksPerMillisecond * 20), stats.HeldBack);
        Assert.False(stats.VoiceGateOpen);
    }
}
