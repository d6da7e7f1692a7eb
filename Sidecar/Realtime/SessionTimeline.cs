namespace CaptionSidecar.Realtime;

/// <summary>
/// Maps a session's audio offsets (the <c>audio_start_ms</c>/<c>audio_end_ms</c> the server reports, counted from
/// the first byte appended in that session) onto the pipeline's timeline. A session starts somewhere in the stream
/// (after a reconnect, with replayed audio) and may skip audio (chunks dropped while the network stalled): each
/// discontinuity starts a new segment.
/// </summary>
internal sealed class SessionTimeline
{
    private const int MaxSegments = 4096;
    private readonly List<(long SessionSample, long PipelineSample)> _segments = [];
    private long _expectedPipelineSample = -1;

    /// <summary>Samples appended to the session so far.</summary>
    public long SessionSamples { get; private set; }

    /// <summary>Records a chunk of <paramref name="sampleCount"/> samples starting at <paramref name="pipelineSample"/> as sent.</summary>
    public void Appended(long pipelineSample, int sampleCount)
    {
        if (pipelineSample != _expectedPipelineSample)
        {
            if (_segments.Count == MaxSegments)
            {
                _segments.RemoveRange(0, MaxSegments / 2);
            }

            _segments.Add((SessionSamples, pipelineSample));
        }

        SessionSamples += sampleCount;
        _expectedPipelineSample = pipelineSample + sampleCount;
    }

    /// <summary>Records audio that exists only in the session (silence appended to close the last turn).</summary>
    public void AppendedSessionOnly(int sampleCount)
    {
        SessionSamples += sampleCount;
    }

    /// <summary>The pipeline time of a session offset in milliseconds.</summary>
    public TimeSpan ToPipeline(long sessionMs)
    {
        var sample = sessionMs * (Audio.AudioChunk.SampleRate / 1000);
        if (_segments.Count == 0)
        {
            return SampleTime(sample);
        }

        var i = _segments.Count - 1;
        while (i > 0 && _segments[i].SessionSample > sample)
        {
            i--;
        }

        var (sessionStart, pipelineStart) = _segments[i];
        return SampleTime(Math.Max(0, pipelineStart + (sample - sessionStart)));
    }

    private static TimeSpan SampleTime(long sample) => TimeSpan.FromTicks(sample * TimeSpan.TicksPerSecond / Audio.AudioChunk.SampleRate);
}
