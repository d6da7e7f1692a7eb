namespace CaptionSidecar.Audio;

/// <summary>
/// A fixed-length block of the sidecar's canonical audio: 24 kHz, mono, PCM16 little-endian, which is the only
/// PCM layout the Realtime API accepts. Chunks are immutable once made, so one chunk can be handed to every
/// language track at once.
/// </summary>
/// <param name="Sequence">Running number of the chunk since the audio pipeline started (0, 1, 2 ...).</param>
/// <param name="StartSample">Index of the chunk's first sample on the pipeline's 24 kHz timeline.</param>
/// <param name="Pcm16">The samples as PCM16 little-endian bytes (two bytes a sample).</param>
public readonly record struct AudioChunk(long Sequence, long StartSample, ReadOnlyMemory<byte> Pcm16)
{
    /// <summary>The sample rate of every chunk: the Realtime API's only PCM rate.</summary>
    public const int SampleRate = 24_000;

    /// <summary>Number of samples in the chunk.</summary>
    public int SampleCount => Pcm16.Length / 2;

    /// <summary>Where the chunk starts on the pipeline's timeline.</summary>
    public TimeSpan Start => TimeSpan.FromTicks(StartSample * TimeSpan.TicksPerSecond / SampleRate);

    /// <summary>How long the chunk lasts.</summary>
    public TimeSpan Duration => TimeSpan.FromTicks((long)SampleCount * TimeSpan.TicksPerSecond / SampleRate);
}
