using BenchmarkDotNet.Attributes;
using CaptionSidecar.Audio;

namespace CaptionSidecar.Benchmarks;

/// <summary>
/// The audio path's hot spots. Real-time factor = seconds of audio / seconds of CPU: 10 s of audio in T ms is
/// 10,000 / T times real time on one core.
/// </summary>
[MemoryDiagnoser]
public class AudioBenchmarks
{
    private const int Seconds = 10;
    private float[] _input48k = [];
    private float[] _input44k = [];
    private float[] _chunkSamples = [];
    private Resampler _resampler48k = null!;
    private Resampler _resampler44k = null!;

    [GlobalSetup]
    public void Setup()
    {
        _input48k = Noise(48_000 * Seconds, seed: 1);
        _input44k = Noise(44_100 * Seconds, seed: 2);
        _chunkSamples = Noise(480, seed: 3);
        _resampler48k = new Resampler(48_000);
        _resampler44k = new Resampler(44_100);
    }

    /// <summary>10 s of 48 kHz mono to 24 kHz, in 10 ms pieces as the pipeline feeds it.</summary>
    [Benchmark]
    public float Resample48kTo24k_10s() => Run(_resampler48k, _input48k, 480);

    /// <summary>10 s of 44.1 kHz mono to 24 kHz, in 10 ms pieces.</summary>
    [Benchmark]
    public float Resample44k1To24k_10s() => Run(_resampler44k, _input44k, 441);

    /// <summary>One 20 ms chunk: float to PCM16, then base64 as input_audio_buffer.append carries it.</summary>
    [Benchmark]
    public int ChunkAndBase64_20ms()
    {
        var chunker = new AudioChunker(20);
        var chunks = new List<AudioChunk>(1);
        chunker.Append(_chunkSamples, chunks);
        return Convert.ToBase64String(chunks[0].Pcm16.Span).Length;
    }

    private static float Run(Resampler resampler, float[] input, int piece)
    {
        var last = 0f;
        for (var offset = 0; offset < input.Length; offset += piece)
        {
            var output = resampler.Process(input.AsSpan(offset, Math.Min(piece, input.Length - offset)));
            if (!output.IsEmpty)
            {
                last = output[^1];
            }
        }

        var tail = resampler.Flush();
        return tail.IsEmpty ? last : tail[^1];
    }

    private static float[] Noise(int length, int seed)
    {
        var random = new Random(seed);
        var samples = new float[length];
        for (var i = 0; i < length; i++)
        {
            samples[i] = (float)((random.NextDouble() * 2) - 1) * 0.5f;
        }

        return samples;
    }
}
