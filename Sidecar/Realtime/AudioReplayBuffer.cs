using CaptionSidecar.Audio;

namespace CaptionSidecar.Realtime;

/// <summary>
/// The most recent seconds of audio sent to a session, so that a replacement session (after a drop or an expiry)
/// can hear again what the old one heard but never turned into text.
/// </summary>
internal sealed class AudioReplayBuffer
{
    private readonly Queue<AudioChunk> _chunks = new();
    private readonly long _capacitySamples;
    private long _samples;

    public AudioReplayBuffer(TimeSpan capacity)
    {
        _capacitySamples = (long)(capacity.TotalSeconds * AudioChunk.SampleRate);
    }

    /// <summary>The most audio kept, in samples at <see cref="AudioChunk.SampleRate"/>.</summary>
    public long CapacitySamples => _capacitySamples;

    /// <summary>Keeps <paramref name="chunk"/>, forgetting the oldest audio beyond the capacity.</summary>
    public void Add(AudioChunk chunk)
    {
        if (_capacitySamples <= 0)
        {
            return;
        }

        _chunks.Enqueue(chunk);
        _samples += chunk.SampleCount;
        while (_samples - _chunks.Peek().SampleCount >= _capacitySamples)
        {
            _samples -= _chunks.Dequeue().SampleCount;
        }
    }

    /// <summary>The kept chunks that end after <paramref name="fromSample"/>, oldest first.</summary>
    public IReadOnlyList<AudioChunk> Since(long fromSample) =>
        [.. _chunks.Where(c => c.StartSample + c.SampleCount > fromSample)];
}
