using System.Buffers.Binary;

namespace CaptionSidecar.Audio;

/// <summary>
/// Cuts 24 kHz mono float samples into fixed-length PCM16 little-endian <see cref="AudioChunk"/>s (clamped to
/// [-1, 1], rounded), numbered from 0 with their start on the 24 kHz timeline. <see cref="Flush"/> pads the last
/// partial chunk with silence.
/// </summary>
internal sealed class AudioChunker
{
    private readonly int _samplesPerChunk;
    private byte[] _pending;
    private int _pendingSamples;
    private long _sequence;
    private long _startSample;

    /// <summary>Creates a chunker making chunks of <paramref name="chunkMilliseconds"/> at 24 kHz.</summary>
    public AudioChunker(int chunkMilliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkMilliseconds, 1);
        _samplesPerChunk = AudioChunk.SampleRate * chunkMilliseconds / 1000;
        _pending = new byte[_samplesPerChunk * 2];
    }

    /// <summary>Samples in each chunk (480 for 20 ms).</summary>
    public int SamplesPerChunk => _samplesPerChunk;

    /// <summary>Appends samples; every chunk that fills up is added to <paramref name="completed"/>.</summary>
    public void Append(ReadOnlySpan<float> samples, ICollection<AudioChunk> completed)
    {
        while (!samples.IsEmpty)
        {
            var take = Math.Min(samples.Length, _samplesPerChunk - _pendingSamples);
            WritePcm16(samples[..take], _pending.AsSpan(_pendingSamples * 2));
            _pendingSamples += take;
            samples = samples[take..];
            if (_pendingSamples == _samplesPerChunk)
            {
                completed.Add(Complete());
            }
        }
    }

    /// <summary>At the end of input: the partial chunk padded with silence, or null when nothing is pending.</summary>
    public AudioChunk? Flush()
    {
        if (_pendingSamples == 0)
        {
            return null;
        }

        _pending.AsSpan(_pendingSamples * 2).Clear();
        return Complete();
    }

    /// <summary>Converts float samples to PCM16 little-endian: clamped to [-1, 1], scaled by 32768, rounded.</summary>
    public static void WritePcm16(ReadOnlySpan<float> samples, Span<byte> destination)
    {
        for (var i = 0; i < samples.Length; i++)
        {
            var scaled = MathF.Round(samples[i] * 32768f);
            var value = scaled >= short.MaxValue ? short.MaxValue
                : scaled <= short.MinValue ? short.MinValue
                : float.IsNaN(scaled) ? (short)0
                : (short)scaled;
            BinaryPrimitives.WriteInt16LittleEndian(destination[(i * 2)..], value);
        }
    }

    private AudioChunk Complete()
    {
        var chunk = new AudioChunk(_sequence++, _startSample, _pending);
        _startSample += _samplesPerChunk;
        _pending = new byte[_samplesPerChunk * 2];
        _pendingSamples = 0;
        return chunk;
    }
}
