namespace CaptionSidecar.Audio;

/// <summary>The sample layout an <see cref="IAudioSource"/> delivers: interleaved float samples at a rate.</summary>
/// <param name="SampleRate">Frames per second (8 kHz to 384 kHz).</param>
/// <param name="Channels">Interleaved channels per frame (1 to 8).</param>
public sealed record AudioFormat(int SampleRate, int Channels)
{
    public override string ToString() => $"{SampleRate} Hz, {Channels} channel{(Channels == 1 ? string.Empty : "s")}";
}

/// <summary>
/// Where audio comes from: a WAV file, raw PCM on stdin, a capture command, or an OS device. A source only reads and
/// converts to float; downmixing, resampling and chunking happen after it (<see cref="AudioPipeline"/>).
/// </summary>
public interface IAudioSource : IAsyncDisposable
{
    /// <summary>What the source is, for logs (never a secret).</summary>
    string Description { get; }

    /// <summary>The layout of the samples <see cref="ReadAsync"/> returns.</summary>
    AudioFormat Format { get; }

    /// <summary>
    /// True for sources that produce audio in real time whether or not anyone reads (a device, a capture command):
    /// queues after them drop the oldest audio when full instead of waiting.
    /// </summary>
    bool IsLive { get; }

    /// <summary>True for sources that can be read faster than real time (a file): the pipeline paces them unless told not to.</summary>
    bool CanOutrunRealTime { get; }

    /// <summary>
    /// Reads interleaved samples in [-1, 1] into <paramref name="buffer"/> (whole frames only) and returns how many
    /// samples were written; 0 means the source has ended. Throws <see cref="AudioFormatException"/> for damaged
    /// data and <see cref="IOException"/> when the underlying device or stream fails.
    /// </summary>
    ValueTask<int> ReadAsync(Memory<float> buffer, CancellationToken cancellationToken);
}

/// <summary>Opens the source that <see cref="AudioOptions.Input"/> names.</summary>
public interface IAudioSourceFactory
{
    /// <summary>
    /// Opens the input. Throws <see cref="AudioFormatException"/> (bad file), <see cref="IOException"/> (cannot open),
    /// or <see cref="NotSupportedException"/> (an input this platform cannot capture), each with a message for the
    /// streamer. An input that never opens (a FIFO nobody writes to) waits until <paramref name="cancellationToken"/>
    /// is cancelled, without holding a thread-pool thread.
    /// </summary>
    Task<IAudioSource> OpenAsync(AudioOptions options, CancellationToken cancellationToken);
}
