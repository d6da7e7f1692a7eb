// PLACEHOLDER (contract only): the audio helper replaces this file.
using System.Threading.Channels;

namespace CaptionSidecar.Audio;

/// <summary>Counters of the audio path for status output.</summary>
/// <param name="ChunksProduced">Chunks made since start.</param>
/// <param name="ChunksDropped">Chunks dropped because the capture-to-network queue was full (live sources only).</param>
/// <param name="AudioDuration">Audio produced, on the 24 kHz timeline.</param>
/// <param name="PeakDbfs">Peak level of the last second, dBFS (negative infinity for digital silence).</param>
public sealed record AudioPipelineStats(long ChunksProduced, long ChunksDropped, TimeSpan AudioDuration, double PeakDbfs);

/// <summary>Source -> downmix -> resample to 24 kHz -> fixed chunks -> bounded queue.</summary>
public sealed class AudioPipeline
{
    public AudioPipeline(IAudioSource source, AudioOptions options, ILogger<AudioPipeline> logger, TimeProvider time)
    {
        throw new NotImplementedException();
    }

    /// <summary>The chunks, completed when the source ends.</summary>
    public ChannelReader<AudioChunk> Output => throw new NotImplementedException();

    /// <summary>Counters.</summary>
    public AudioPipelineStats Stats => throw new NotImplementedException();

    /// <summary>Reads the source until it ends (then completes <see cref="Output"/>) or cancellation.</summary>
    public Task RunAsync(CancellationToken cancellationToken) => throw new NotImplementedException();
}
