using System.Buffers.Binary;
using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

/// <summary>
/// Pipeline chunks (24 kHz mono PCM16, 20 ms) made in the test, numbered and placed on the timeline in the order they
/// are asked for: tones and noise at a given RMS level, clicks, digital silence.
/// </summary>
internal sealed class SyntheticChunks
{
    public const int ChunkSamples = 480;
    private readonly Random _random = new(1234);
    private long _sequence;
    private long _sample;

    /// <summary>Chunks made so far.</summary>
    public long Count => _sequence;

    /// <summary>A sine of <paramref name="hz"/> whose RMS is <paramref name="rmsDbfs"/>, over <paramref name="noiseDbfs"/> of white noise if given.</summary>
    public List<AudioChunk> Tone(TimeSpan duration, double hz = 440, double rmsDbfs = -15, double? noiseDbfs = null) =>
        Make(duration, (t, _) => (Amplitude(rmsDbfs) * Math.Sqrt(2) * Math.Sin(2 * Math.PI * hz * t)) + Noise(noiseDbfs));

    /// <summary>White noise whose RMS goes linearly from <paramref name="fromDbfs"/> to <paramref name="toDbfs"/> (dB) over the duration.</summary>
    public List<AudioChunk> Noise(TimeSpan duration, double fromDbfs, double toDbfs)
    {
        var total = duration.TotalSeconds;
        return Make(duration, (_, elapsed) => Noise(fromDbfs + ((toDbfs - fromDbfs) * elapsed / total)));
    }

    /// <summary>Digital silence.</summary>
    public List<AudioChunk> Silence(TimeSpan duration) => Make(duration, (_, _) => 0);

    /// <summary>One chunk with a full-scale 2 ms click in it, over <paramref name="noiseDbfs"/> of noise if given.</summary>
    public List<AudioChunk> Click(double? noiseDbfs = null) =>
        Make(TimeSpan.FromMilliseconds(20), (_, elapsed) => (elapsed is >= 0.005 and < 0.007 ? 0.9 : 0) + Noise(noiseDbfs));

    private static double Amplitude(double dbfs) => Math.Pow(10, dbfs / 20);

    private double Noise(double? dbfs)
    {
        if (dbfs is not { } level)
        {
            return 0;
        }

        // Uniform noise in [-a, a] has RMS a / sqrt(3).
        return Amplitude(level) * Math.Sqrt(3) * ((2 * _random.NextDouble()) - 1);
    }

    private List<AudioChunk> Make(TimeSpan duration, Func<double, double, double> signal)
    {
        var chunks = new List<AudioChunk>();
        var count = (int)Math.Round(duration.TotalMilliseconds / 20);
        var first = _sample;
        for (var c = 0; c < count; c++)
        {
            var bytes = new byte[ChunkSamples * 2];
            for (var i = 0; i < ChunkSamples; i++)
            {
                var sample = _sample + i;
                var value = signal((double)sample / AudioChunk.SampleRate, (double)(sample - first) / AudioChunk.SampleRate);
                BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), (short)Math.Clamp(Math.Round(value * 32767), short.MinValue, short.MaxValue));
            }

            chunks.Add(new AudioChunk(_sequence++, _sample, bytes));
            _sample += ChunkSamples;
        }

        return chunks;
    }
}
